"""The one worker mechanism of the app: run a pure task function on the thread pool.

A task is `fn(*args, state=TaskState)` from the services layer. `TaskRunner.run` starts it
on `QThreadPool`, cancels the runner's previous task of the same `slot` (a new load replaces
the old one), and delivers progress, partial results, the result or the error on the GUI
thread. Closing the owner (`TaskRunner.shutdown`) cancels everything it started.
`ActivityMonitor` counts the tasks of all runners for the status bar.
"""

from __future__ import annotations

import contextlib
import logging
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from mlops_desktop.services.tasks import Cancelled, TaskState

log = logging.getLogger(__name__)


class _Relay(QObject):
    """Lives on the GUI thread; the worker emits through it (queued across threads)."""

    progressed = Signal(float, str)  #: fraction in [0, 1] or -1, message
    partial_ready = Signal(object)  #: a partial result
    finished = Signal(object)  #: the task's return value
    failed = Signal(object)  #: the exception the task raised
    cancelled = Signal()  #: the task stopped because it was cancelled


class _Job(QRunnable):
    def __init__(
        self, fn: Callable[..., Any], args: tuple[Any, ...], state: TaskState, relay: _Relay
    ) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._fn, self._args, self._state, self._relay = fn, args, state, relay

    def run(self) -> None:
        try:
            result = self._fn(*self._args, state=self._state)
        except Cancelled:
            self._deliver(self._relay.cancelled)
        except BaseException as error:  # delivered to the caller's on_error, never lost
            if not isinstance(error, Exception):
                raise
            log.debug(
                "task %s failed:\n%s",
                getattr(self._fn, "__name__", self._fn),
                traceback.format_exc(),
            )
            self._deliver(self._relay.failed, error)
        else:
            if self._state.cancelled:
                self._deliver(self._relay.cancelled)
            else:
                self._deliver(self._relay.finished, result)

    def _deliver(self, signal: Any, *args: Any) -> None:
        """Emit, unless the owner (and so the relay) was deleted while the task ran: then
        nobody is waiting for the answer, and dropping it is the right thing."""
        try:
            signal.emit(*args)
        except RuntimeError:  # "Signal source has been deleted"
            log.debug("task %s ended after its owner closed", getattr(self._fn, "__name__", ""))


def _quiet(emit: Callable[..., None]) -> Callable[..., None]:
    """A progress emitter that does nothing once the owner is gone (see `_Job._deliver`)."""

    def send(*args: Any) -> None:
        with contextlib.suppress(RuntimeError):
            emit(*args)

    return send


class Task(QObject):
    """A handle on a started task: `cancel()`, and whether it is still running."""

    ended = Signal()  #: the task finished, failed or was cancelled

    def __init__(self, description: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.description = description
        self.state = TaskState()
        self.running = True
        self.fraction = -1.0
        self.message = ""

    def cancel(self) -> None:
        self.state.cancel()


class ActivityMonitor(QObject):
    """Counts running tasks across the whole window, for the status bar."""

    changed = Signal()  #: a task started, progressed or ended

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks: list[Task] = []

    @property
    def tasks(self) -> list[Task]:
        return list(self._tasks)

    def add(self, task: Task) -> None:
        self._tasks.append(task)
        task.ended.connect(lambda: self._remove(task))
        self.changed.emit()

    def _remove(self, task: Task) -> None:
        if task in self._tasks:
            self._tasks.remove(task)
        self.changed.emit()

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()


class TaskRunner(QObject):
    """Starts tasks for one owner (a view, a dialog) and cancels them when it goes away."""

    def __init__(
        self, activity: ActivityMonitor | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._activity = activity
        self._by_slot: dict[str, Task] = {}
        self._all: list[Task] = []

    def run(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_done: Callable[[Any], None],
        on_error: Callable[[Exception], None],
        on_progress: Callable[[float, str], None] | None = None,
        on_partial: Callable[[Any], None] | None = None,
        on_cancelled: Callable[[], None] | None = None,
        description: str = "",
        slot: str | None = None,
    ) -> Task:
        """Run `fn(*args, state=...)` on the pool; callbacks run on the GUI thread."""
        key: str = slot or str(getattr(fn, "__name__", "task"))
        previous = self._by_slot.get(key)
        if previous is not None and previous.running:
            previous.cancel()

        task = Task(description or key, self)
        relay = _Relay(task)
        task.state = TaskState(
            on_progress=_quiet(relay.progressed.emit), on_partial=_quiet(relay.partial_ready.emit)
        )

        def end() -> None:
            task.running = False
            if task in self._all:
                self._all.remove(task)
            if self._by_slot.get(key) is task:
                del self._by_slot[key]
            task.ended.emit()

        def progressed(fraction: float, message: str) -> None:
            task.fraction, task.message = fraction, message
            if on_progress is not None and not task.state.cancelled:
                on_progress(fraction, message)
            if self._activity is not None:
                self._activity.changed.emit()

        def partial(result: Any) -> None:
            if on_partial is not None and not task.state.cancelled:
                on_partial(result)

        def finished(result: Any) -> None:
            if task.state.cancelled:
                # Done before the cancel reached the worker: its partial results after the
                # cancel were dropped, so the result must be too, or a view would take a
                # half-filled table for a complete one.
                cancelled()
                return
            end()
            try:
                on_done(result)
            except Exception as error:  # a bad answer the view could not show: say so
                log.exception("showing the result of %s failed", key)
                on_error(error)

        def failed(error: Exception) -> None:
            end()
            on_error(error)

        def cancelled() -> None:
            end()
            if on_cancelled is not None:
                on_cancelled()

        relay.progressed.connect(progressed)
        relay.partial_ready.connect(partial)
        relay.finished.connect(finished)
        relay.failed.connect(failed)
        relay.cancelled.connect(cancelled)

        self._by_slot[key] = task
        self._all.append(task)
        if self._activity is not None:
            self._activity.add(task)
        QThreadPool.globalInstance().start(_Job(fn, args, task.state, relay))
        return task

    def shutdown(self) -> None:
        """Cancel every task this runner started (call when the owner closes)."""
        for task in list(self._all):
            task.cancel()
