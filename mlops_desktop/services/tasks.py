"""The state a long-running task reports progress to and checks for cancellation (no Qt).

A task is a plain function `fn(*args, state: TaskState)`; the UI runs it on a worker and
routes progress and partial results back to the GUI thread, but the function itself is
testable headless with a bare `TaskState()`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class Cancelled(Exception):
    """Raised inside a task by `TaskState.check()` once the task was cancelled."""


class TaskState:
    def __init__(
        self,
        on_progress: Callable[[float, str], None] | None = None,
        on_partial: Callable[[Any], None] | None = None,
    ) -> None:
        self._cancelled = threading.Event()
        self._on_progress = on_progress
        self._on_partial = on_partial

    def cancel(self) -> None:
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def check(self) -> None:
        """Raise `Cancelled` if the task was cancelled; call it between units of work."""
        if self._cancelled.is_set():
            raise Cancelled()

    def progress(self, fraction: float, message: str = "") -> None:
        """Report progress in [0, 1] (or -1 when unknown), with a short message."""
        self.check()
        if self._on_progress is not None:
            self._on_progress(fraction, message)

    def partial(self, result: Any) -> None:
        """Hand a partial result (e.g. one page of runs) to the caller while work goes on."""
        self.check()
        if self._on_partial is not None:
            self._on_partial(result)
