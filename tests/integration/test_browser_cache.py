"""The runs browser's local cache on a real MLflow server: a second visit shows the cached
runs before the server answers, then the background refresh brings a new run and a changed
tag; Refresh reloads from the server; a cancelled load never writes the cache."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QThreadPool

from mlops_desktop.backends.mlflow_rest import MlflowRestBackend
from mlops_desktop.services.paths import AppPaths
from mlops_desktop.services.workspace import Workspace
from mlops_desktop.ui.context import UiContext
from mlops_desktop.ui.views.experiments_view import ExperimentsView, runs_cache_key
from tests.harness.mlflow_servers import MlflowServer

pytestmark = [
    pytest.mark.integration,
    pytest.mark.ui,
    pytest.mark.qt_log_ignore("This plugin does not support (raise|grabbing the keyboard)"),
]
LOAD_TIMEOUT_MS = 60_000
RUNS = 12


@dataclass(frozen=True)
class Experiment:
    experiment_id: str
    run_ids: list[str]


@pytest.fixture
def experiment(mlflow_server: MlflowServer) -> Experiment:
    """12 finished runs, each tagged stage=draft, in an experiment of its own."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=mlflow_server.url)
    experiment_id = client.create_experiment(f"browser-cache-{uuid.uuid4().hex[:8]}")
    run_ids = []
    for i in range(RUNS):
        run = client.create_run(experiment_id, run_name=f"cached-{i:02d}", tags={"stage": "draft"})
        client.log_metric(run.info.run_id, "loss", 1.0 / (i + 1))
        client.set_terminated(run.info.run_id)
        run_ids.append(run.info.run_id)
    return Experiment(experiment_id, run_ids)


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    """Settings and runs cache of the test's own, shared by the views it opens."""
    return dataclasses.replace(
        AppPaths.from_environment(), config_dir=tmp_path, cache_dir=tmp_path / "cache"
    )


@pytest.fixture
def workspace(mlflow_server: MlflowServer) -> Iterator[Workspace]:
    backend = MlflowRestBackend(mlflow_server.url, label="test server")
    yield Workspace("test server", "mlflow", backend)
    backend.close()


def new_view(qtbot, paths: AppPaths, workspace: Workspace) -> ExperimentsView:
    ctx = UiContext(paths)
    ctx.set_workspace(workspace)
    view = ExperimentsView(ctx)
    qtbot.addWidget(view, before_close_func=lambda closing: closing.shutdown())
    view.resize(1400, 900)
    view.show()
    return view


def open_view(qtbot, paths: AppPaths, workspace: Workspace) -> ExperimentsView:
    """A view that has opened, and finished what opening started: the shared server's largest
    experiment may be this test's, and its load and cache write must not race the test's."""
    view = new_view(qtbot, paths, workspace)
    with qtbot.waitSignal(view.content_ready, timeout=LOAD_TIMEOUT_MS):
        view.activate()
    settle(qtbot)
    return view


def settle(qtbot) -> None:
    """Until no worker runs and nothing they queued starts another one."""
    pool = QThreadPool.globalInstance()
    for _ in range(5):
        assert pool.waitForDone(LOAD_TIMEOUT_MS)
        qtbot.wait(50)
        if pool.activeThreadCount() == 0:
            return


@dataclass
class CachedSnapshot:
    """What the view showed the moment the cached runs came in (before any refresh)."""

    rows: int = -1
    run_ids: frozenset[str] = frozenset()
    status: str = ""


def open_from_cache(qtbot, paths: AppPaths, workspace: Workspace, experiment: Experiment):
    """A new view opening `experiment` (at once when it is the largest, else selected): the
    view, what it showed from the cache, and a blocker for the end of the refresh."""
    view = new_view(qtbot, paths, workspace)
    snapshot = CachedSnapshot()

    def record(ids: list[str], count: int) -> None:
        if ids == [experiment.experiment_id]:
            snapshot.rows = view.runs_model.total_rows
            snapshot.run_ids = frozenset(view.runs_frame["run_id"])
            snapshot.status = view.status_label.text()

    view.cached_runs_shown.connect(record)
    refreshed = qtbot.waitSignal(
        view.runs_loaded, timeout=LOAD_TIMEOUT_MS, check_params_cb=of(experiment)
    )
    with qtbot.waitSignal(view.content_ready, timeout=LOAD_TIMEOUT_MS):
        view.activate()
    if snapshot.rows < 0:
        with qtbot.waitSignal(
            view.cached_runs_shown, timeout=LOAD_TIMEOUT_MS, check_params_cb=of(experiment)
        ):
            view.select_experiment(experiment.experiment_id)
    return view, snapshot, refreshed


def of(experiment: Experiment):
    """A signal check: the signal is about this experiment (the view may open another first)."""
    return lambda ids, *_: ids == [experiment.experiment_id]


def load_and_cache(qtbot, view: ExperimentsView, experiment: Experiment) -> None:
    with qtbot.waitSignal(
        view.runs_cached, timeout=LOAD_TIMEOUT_MS, check_params_cb=of(experiment)
    ):
        view.load_runs([experiment.experiment_id], use_cache=False)


def test_a_second_visit_shows_cached_runs_then_the_refresh_brings_the_changes(
    qtbot, paths, workspace, experiment, mlflow_server
):
    from mlflow import MlflowClient

    first = open_view(qtbot, paths, workspace)
    load_and_cache(qtbot, first, experiment)
    assert first.runs_model.total_rows == RUNS
    assert "loaded in" in first.status_label.text()

    client = MlflowClient(tracking_uri=mlflow_server.url)
    new_run = client.create_run(experiment.experiment_id, run_name="cached-new")
    client.set_terminated(new_run.info.run_id)
    changed = experiment.run_ids[4]
    client.set_tag(changed, "stage", "production")

    second, cached, refreshed = open_from_cache(qtbot, paths, workspace, experiment)
    # The cached rows, before the server's answer: the new run is not there yet.
    assert cached.rows == RUNS
    assert new_run.info.run_id not in cached.run_ids
    assert "cached" in cached.status and "updated" in cached.status, cached.status
    assert "s ago" in cached.status and "checking for changes" in cached.status, cached.status
    second.runs_table.selectRow(3)
    selected = second.selected_run_ids()

    refreshed.wait()  # the background refresh swaps the server's runs in
    frame = second.runs_frame
    assert second.runs_model.total_rows == RUNS + 1
    assert new_run.info.run_id in set(frame["run_id"])
    stage = frame.set_index("run_id")["tags.stage"]
    assert stage[changed] == "production"
    status = second.status_label.text()
    assert "1 new, 1 changed" in status and "cached" not in status, status
    assert second.selected_run_ids() == selected, "the selection survives the swap"

    # Refresh skips the cache: a full load from the server.
    with qtbot.waitSignal(
        second.runs_loaded, timeout=LOAD_TIMEOUT_MS, check_params_cb=of(experiment)
    ):
        second.refresh_button.click()
    assert "loaded in" in second.status_label.text()
    assert second.runs_model.total_rows == RUNS + 1


def test_the_refresh_keeps_the_sort_pins_and_quick_filter(
    qtbot, paths, workspace, experiment, mlflow_server
):
    from mlflow import MlflowClient
    from PySide6.QtCore import Qt

    first = open_view(qtbot, paths, workspace)
    load_and_cache(qtbot, first, experiment)
    MlflowClient(tracking_uri=mlflow_server.url).set_tag(experiment.run_ids[0], "stage", "gone")

    view, cached, refreshed = open_from_cache(qtbot, paths, workspace, experiment)
    assert cached.rows == RUNS
    pinned = experiment.run_ids[7]
    view.set_pinned({pinned})
    loss = view.runs_model.column_index("metrics.loss")
    view.runs_table.sortByColumn(loss, Qt.SortOrder.AscendingOrder)
    view.quick_filter_edit.setText("tags.stage = draft")
    view.apply_quick_filter()
    refreshed.wait()
    model = view.runs_model
    shown = [model.run_id(row) for row in range(model.rowCount())]
    assert shown[0] == pinned
    assert experiment.run_ids[0] not in shown, "its tag changed: the quick filter drops it"
    assert len(shown) == RUNS - 1
    values = [model.value(row, loss) for row in range(1, model.rowCount())]
    assert values == sorted(values)
    assert view.runs_table.horizontalHeader().sortIndicatorSection() == loss


def test_a_cancelled_load_does_not_write_the_cache(qtbot, paths, workspace, experiment):
    view = open_view(qtbot, paths, workspace)
    view.runs_cache.clear()  # what opening the view may have cached
    view.runs_page_size = 2
    view.load_runs([experiment.experiment_id], use_cache=False)
    task = view._runs_task
    assert task is not None and task.running
    with qtbot.waitSignal(task.ended, timeout=LOAD_TIMEOUT_MS):
        task.cancel()
    with qtbot.assertNotEmitted(view.runs_cached):
        qtbot.wait(200)  # any write would have been started by now (not an assertion on time)
    key = runs_cache_key(workspace)
    assert view.runs_cache.read(key, [experiment.experiment_id], "") is None
