"""The worker mechanism: results, errors and cancellation reach the GUI thread, and a task
whose owner closed ends quietly."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QThreadPool

from mlops_desktop.services.tasks import TaskState
from mlops_desktop.ui.tasks import ActivityMonitor, TaskRunner

pytestmark = pytest.mark.ui


def _double(value: int, *, state: TaskState) -> int:
    state.progress(0.5, "halfway")
    return value * 2


def test_result_and_progress_arrive_on_the_gui_thread(qtbot):
    runner = TaskRunner(ActivityMonitor())
    got: dict[str, object] = {}
    main = threading.get_ident()

    def done(result: int) -> None:
        got["result"], got["thread"] = result, threading.get_ident()

    runner.run(
        _double,
        21,
        on_done=done,
        on_error=lambda e: got.setdefault("error", e),
        on_progress=lambda f, m: got.setdefault("progress", (f, m)),
    )
    qtbot.waitUntil(lambda: "result" in got)
    assert got["result"] == 42
    assert got["thread"] == main
    assert got["progress"] == (0.5, "halfway")


def test_a_callback_that_raises_reaches_on_error(qtbot):
    """A result the view cannot show must still end in a message, not a stuck spinner."""
    runner = TaskRunner()
    errors: list[Exception] = []

    def done(result: int) -> None:
        raise ValueError(f"cannot show {result}")

    runner.run(_double, 1, on_done=done, on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors))
    assert "cannot show 2" in str(errors[0])


def test_a_new_task_in_the_same_slot_cancels_the_previous_one(qtbot):
    runner = TaskRunner()
    release = threading.Event()
    outcome: list[str] = []

    def slow(*, state: TaskState) -> str:
        release.wait(5)
        return "slow"

    def fast(*, state: TaskState) -> str:
        return "fast"

    runner.run(
        slow,
        on_done=outcome.append,
        on_error=print,
        on_cancelled=lambda: outcome.append("cancelled"),
        slot="load",
    )
    runner.run(fast, on_done=outcome.append, on_error=print, slot="load")
    qtbot.waitUntil(lambda: "fast" in outcome)
    release.set()
    qtbot.waitUntil(lambda: "cancelled" in outcome)
    assert "slow" not in outcome


def test_a_task_that_outlives_its_owner_ends_quietly(qtbot):
    runner = TaskRunner()
    started, release = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def slow(*, state: TaskState) -> int:
        started.set()
        release.wait(5)
        state.progress(1.0, "done")  # the relay is gone by now
        return 1

    previous_hook = threading.excepthook
    threading.excepthook = lambda args: failures.append(args.exc_value)
    try:
        runner.run(slow, on_done=lambda r: None, on_error=failures.append)
        assert started.wait(5)
        runner.deleteLater()
        qtbot.waitUntil(lambda: _deleted(runner))
        release.set()
        assert QThreadPool.globalInstance().waitForDone(5000)
    finally:
        threading.excepthook = previous_hook
    assert failures == []


def _deleted(obj) -> bool:
    import shiboken6

    return not shiboken6.isValid(obj)
