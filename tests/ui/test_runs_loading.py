"""Runs loading through the app's worker mechanism into the runs table model.

A cancelled load must leave the table with whole pages and never report itself complete,
even when the worker finished before the cancel reached it.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pandas as pd
import pytest
from PySide6.QtCore import QThreadPool

from mlops_desktop.backends.mlflow_rest import MlflowRestBackend
from mlops_desktop.services.experiments import load_runs_frame
from mlops_desktop.services.tasks import TaskState
from mlops_desktop.ui.runs_table_model import RunsTableModel
from mlops_desktop.ui.tasks import TaskRunner
from tests.harness.mlflow_servers import MlflowServer

pytestmark = pytest.mark.ui

RUNS = 30


@pytest.fixture(scope="module")
def experiment_id(mlflow_server: MlflowServer) -> str:
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    client = MlflowClient(tracking_uri=mlflow_server.url)
    experiment = client.create_experiment(f"runs-loading-ui-{uuid.uuid4().hex[:8]}")
    for number in range(RUNS):
        run = client.create_run(experiment, run_name=f"trial-{number}")
        client.log_batch(
            run.info.run_id,
            metrics=[Metric("auc", number / RUNS, 0, 0)],
            params=[Param("depth", str(number % 4))],
        )
        client.set_terminated(run.info.run_id, "FINISHED")
    return experiment


class Outcome:
    def __init__(self) -> None:
        self.pages: list[int] = []
        self.done: list[Any] = []
        self.cancelled = 0
        self.errors: list[Exception] = []

    def on_cancelled(self) -> None:
        self.cancelled += 1

    @property
    def ended(self) -> bool:
        return bool(self.done or self.cancelled or self.errors)


def _pages_then_result(*, state: TaskState) -> str:
    state.partial(pd.DataFrame({"run_id": ["a"]}))
    return "complete"


def test_a_task_done_before_its_cancel_arrived_is_reported_cancelled(qtbot):
    """The worker finished while the GUI had not yet seen its first page; the GUI then
    cancels on that page. The result must not be delivered as if nothing was dropped."""
    runner = TaskRunner()
    outcome = Outcome()
    task = None

    def on_partial(page: pd.DataFrame) -> None:
        outcome.pages.append(len(page))
        assert task is not None
        task.cancel()

    task = runner.run(
        _pages_then_result,
        on_partial=on_partial,
        on_done=outcome.done.append,
        on_error=outcome.errors.append,
        on_cancelled=outcome.on_cancelled,
    )
    # The worker ends, its page and its result queued for the GUI thread, before either
    # is delivered: this thread does not process events while it waits.
    assert QThreadPool.globalInstance().waitForDone(10_000)
    qtbot.waitUntil(lambda: outcome.ended)
    assert outcome.pages == [1]
    assert outcome.done == []
    assert outcome.cancelled == 1


class PausingState(TaskState):
    """The worker's state, pausing after the first page until the GUI has cancelled."""

    def __init__(self, outer: TaskState) -> None:
        super().__init__()
        self._outer = outer
        self._pages = 0

    def check(self) -> None:
        self._outer.check()

    def progress(self, fraction: float, message: str = "") -> None:
        self._outer.progress(fraction, message)

    def partial(self, result: Any) -> None:
        self._outer.partial(result)
        self._pages += 1
        if self._pages == 1:
            waited = threading.Event()
            for _ in range(3000):
                if self._outer.cancelled:
                    break
                waited.wait(0.01)


def test_cancelling_a_load_leaves_the_table_with_whole_pages_and_no_result(
    qtbot, mlflow_server, experiment_id
):
    tracking = MlflowRestBackend(mlflow_server.url, "ui test")
    model = RunsTableModel()
    runner = TaskRunner()
    outcome = Outcome()
    task = None

    def load(*, state: TaskState) -> pd.DataFrame:
        return load_runs_frame(
            tracking, [experiment_id], PausingState(state), page_size=4, first_page_size=4
        )

    def on_partial(page: pd.DataFrame) -> None:
        model.append_frame(page)
        outcome.pages.append(len(page))
        assert task is not None
        task.cancel()

    try:
        task = runner.run(
            load,
            on_partial=on_partial,
            on_done=outcome.done.append,
            on_error=outcome.errors.append,
            on_cancelled=outcome.on_cancelled,
        )
        qtbot.waitUntil(lambda: outcome.ended, timeout=30_000)
        assert outcome.errors == []
        assert outcome.done == [], "a cancelled load is never reported complete"
        assert outcome.cancelled == 1
        assert outcome.pages == [4]
        assert model.rowCount() == 4
        whole = load_runs_frame(tracking, [experiment_id], TaskState())
        assert [model.run_id(row) for row in range(4)] == whole["run_id"].tolist()[:4]
    finally:
        assert QThreadPool.globalInstance().waitForDone(10_000)
        tracking.close()


def test_a_full_load_fills_the_table_with_every_run(qtbot, mlflow_server, experiment_id):
    tracking = MlflowRestBackend(mlflow_server.url, "ui test")
    model = RunsTableModel()
    runner = TaskRunner()
    outcome = Outcome()
    try:
        runner.run(
            lambda *, state: load_runs_frame(
                tracking, [experiment_id], state, page_size=7, first_page_size=3
            ),
            on_partial=model.append_frame,
            on_done=outcome.done.append,
            on_error=outcome.errors.append,
        )
        qtbot.waitUntil(lambda: outcome.ended, timeout=30_000)
        assert outcome.errors == []
        (frame,) = outcome.done
        assert len(frame) == RUNS == model.rowCount()
        assert [model.run_id(row) for row in range(RUNS)] == frame["run_id"].tolist()
    finally:
        tracking.close()
