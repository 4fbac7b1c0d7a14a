"""The runs browser on a real MLflow server: pages streaming in, the server filter, the quick
filter's OR/NOT/regex on what came back, sorting, pins, and the run's page in the web UI."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices

from mlops_desktop.backends.mlflow_rest import MlflowRestBackend
from mlops_desktop.services.paths import AppPaths
from mlops_desktop.services.workspace import Workspace
from mlops_desktop.ui.context import UiContext
from mlops_desktop.ui.views.experiments_view import ExperimentsView
from tests.harness.mlflow_servers import MlflowServer

pytestmark = [
    pytest.mark.integration,
    pytest.mark.ui,
    # The completion popup is a window: the offscreen platform cannot raise it or grab keys.
    pytest.mark.qt_log_ignore("This plugin does not support (raise|grabbing the keyboard)"),
]
LOAD_TIMEOUT_MS = 60_000
RUNS = 30
OPTIMIZERS = ("adam", "sgd", "adamw", "rmsprop")


def optimizer_of(i: int) -> str:
    return OPTIMIZERS[i % 4]


def auc_of(i: int) -> float:
    return round(0.70 + i * 0.01, 2)


def note_of(i: int) -> str:
    return "baseline" if i % 5 == 0 else "tuned run"


@dataclass(frozen=True)
class Sweep:
    experiment_id: str
    deleted_id: str
    deleted_name: str
    run_ids: dict[str, int]  # run id -> trial number


@pytest.fixture(scope="module")
def sweep(mlflow_server: MlflowServer) -> Sweep:
    """30 trials: optimizer cycles adam/sgd/adamw/rmsprop, val_auc = 0.70 + i/100, every
    fifth trial tagged as a baseline; and a deleted experiment."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag

    client = MlflowClient(tracking_uri=mlflow_server.url)
    suffix = uuid.uuid4().hex[:8]
    experiment_id = client.create_experiment(f"browser-filters-{suffix}", tags={"team": "qa"})
    run_ids = {}
    for i in range(RUNS):
        run = client.create_run(experiment_id, run_name=f"trial-{i:02d}")
        client.log_batch(
            run.info.run_id,
            metrics=[Metric("val_auc", auc_of(i), 1_700_000_000_000 + i, 0)],
            params=[Param("optimizer", optimizer_of(i)), Param("lr", str(10.0 ** -(1 + i % 3)))],
            tags=[RunTag("note", note_of(i))],
        )
        client.set_terminated(run.info.run_id, "FINISHED" if i % 7 else "FAILED")
        run_ids[run.info.run_id] = i
    deleted_name = f"browser-filters-deleted-{suffix}"
    deleted_id = client.create_experiment(deleted_name)
    client.delete_experiment(deleted_id)
    return Sweep(experiment_id, deleted_id, deleted_name, run_ids)


@pytest.fixture
def view(
    qtbot, mlflow_server: MlflowServer, sweep: Sweep, tmp_path: Path
) -> Iterator[ExperimentsView]:
    backend = MlflowRestBackend(mlflow_server.url, label="test server")
    workspace = Workspace("test server", "mlflow", backend)
    paths = dataclasses.replace(AppPaths.from_environment(), config_dir=tmp_path)
    ctx = UiContext(paths)
    ctx.set_workspace(workspace)
    view = ExperimentsView(ctx)
    qtbot.addWidget(view, before_close_func=lambda closing: closing.shutdown())
    view.resize(1400, 900)
    view.show()
    with qtbot.waitSignal(view.content_ready, timeout=LOAD_TIMEOUT_MS):
        view.activate()
    view.select_experiment(sweep.experiment_id)  # when another one is the largest
    view.runs_page_size = 7
    with qtbot.waitSignal(view.runs_loaded, timeout=LOAD_TIMEOUT_MS):
        view.load_runs([sweep.experiment_id])
    yield view
    backend.close()


def trials_shown(view: ExperimentsView, sweep: Sweep) -> list[int]:
    model = view.runs_model
    return sorted(sweep.run_ids[model.run_id(row)] for row in range(model.rowCount()))


def type_quick_filter(qtbot, view: ExperimentsView, text: str) -> None:
    view.quick_filter_edit.clear()
    with qtbot.waitSignal(view.quick_filter_applied, timeout=5_000):
        qtbot.keyClicks(view.quick_filter_edit, text)
    assert not view.quick_filter_box.has_problem, view.quick_filter_box.message.text()


def test_pages_stream_into_the_table(qtbot, view, sweep):
    pages: list[int] = []
    view.runs_model.modelReset.connect(lambda: pages.append(view.runs_model.total_rows))
    view.runs_model.rowsInserted.connect(lambda *_: pages.append(view.runs_model.total_rows))
    with qtbot.waitSignal(view.runs_loaded, timeout=LOAD_TIMEOUT_MS) as loaded:
        view.load_runs([sweep.experiment_id], use_cache=False)  # streamed, not from the cache
    assert loaded.args == [[sweep.experiment_id], RUNS]
    # One reset when the first page arrives (it picks the columns), then a page at a time.
    assert [count for count in pages if count] == [7, 14, 21, 28, 30]
    assert trials_shown(view, sweep) == list(range(RUNS))
    assert view.status_label.text().startswith(f"{RUNS} runs · loaded in ")


def test_the_server_filter_then_local_or_and_regex(qtbot, view, sweep):
    view.filter_edit.setText("metrics.val_auc > 0.85 and params.optimizer != 'rmsprop'")
    assert (
        view.filter_box.message.text() == "Server filter: Valid; press Enter to search the server."
    )
    with qtbot.waitSignal(view.runs_loaded, timeout=LOAD_TIMEOUT_MS):
        qtbot.keyClick(view.filter_edit, Qt.Key.Key_Return)
    server_side = [i for i in range(RUNS) if auc_of(i) > 0.85 and optimizer_of(i) != "rmsprop"]
    assert trials_shown(view, sweep) == server_side
    assert (
        view.filter_box.message.text()
        == f"Server filter: Applied on the server; {len(server_side)} runs match."
    )

    type_quick_filter(qtbot, view, "params.optimizer = sgd OR tags.note contains BASELINE")
    expected = [i for i in server_side if optimizer_of(i) == "sgd" or note_of(i) == "baseline"]
    assert trials_shown(view, sweep) == expected

    type_quick_filter(qtbot, view, "/trial-2\\d/ and not params.optimizer ~ '^adam'")
    expected = [i for i in server_side if 20 <= i <= 29 and not optimizer_of(i).startswith("adam")]
    assert trials_shown(view, sweep) == expected

    type_quick_filter(qtbot, view, "params.optimizer in (adam, adamw) and params.lr < 0.05")
    expected = [
        i
        for i in server_side
        if optimizer_of(i) in ("adam", "adamw") and 10.0 ** -(1 + i % 3) < 0.05
    ]
    assert trials_shown(view, sweep) == expected


def test_the_quick_filter_applies_to_pages_as_they_arrive(qtbot, view, sweep):
    type_quick_filter(qtbot, view, "adamw or rmsprop")  # bare words: no run name has them
    assert view.runs_model.rowCount() == 0
    type_quick_filter(qtbot, view, "params.optimizer = adamw or params.optimizer = rmsprop")
    with qtbot.waitSignal(view.runs_loaded, timeout=LOAD_TIMEOUT_MS):
        view.load_runs([sweep.experiment_id])  # the filter stays on while pages stream in
    expected = [i for i in range(RUNS) if optimizer_of(i) in ("adamw", "rmsprop")]
    assert trials_shown(view, sweep) == expected
    assert view.quick_filter_box.message.text() == (
        f"Quick filter: {len(expected)} of {RUNS} loaded runs shown."
    )


def test_sorting_and_pins_on_the_server_runs(qtbot, view, sweep):
    model = view.runs_model
    by_trial = {i: run_id for run_id, i in sweep.run_ids.items()}
    view.set_pinned({by_trial[3], by_trial[5]})  # rmsprop and sgd
    type_quick_filter(qtbot, view, "params.optimizer = adam")
    view.runs_table.sortByColumn(
        model.column_index("metrics.val_auc"), Qt.SortOrder.DescendingOrder
    )
    shown = [sweep.run_ids[model.run_id(row)] for row in range(model.rowCount())]
    adam = sorted((i for i in range(RUNS) if optimizer_of(i) == "adam"), reverse=True)
    assert shown == [5, 3, *adam]  # pinned first (in the sort's order), though not adam
    background = Qt.ItemDataRole.BackgroundRole
    assert model.index(1, 0).data(background) is not None
    assert model.index(2, 0).data(background) is None


class UrlCatcher(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url.toString())


def test_a_run_opens_in_the_servers_web_ui(qtbot, view, sweep, mlflow_server):
    model = view.runs_model
    view.runs_table.selectRow(0)
    assert view.web_button.isEnabled()
    run_id = model.run_id(0)
    url = f"{mlflow_server.url}/#/experiments/{sweep.experiment_id}/runs/{run_id}"
    assert view.web_url(0) == url
    catcher = UrlCatcher()
    QDesktopServices.setUrlHandler("http", catcher, "open")
    try:
        view.web_button.click()
    finally:
        QDesktopServices.unsetUrlHandler("http")
    assert [QUrl(u).toString() for u in catcher.urls] == [QUrl(url).toString()]
    menu = view.build_context_menu(model.index(0, 0))
    web = next(action for action in menu.actions() if action.objectName() == "webAction")
    assert web.isEnabled() and web.toolTip() == url


def test_deleted_experiments_are_listed_apart(qtbot, view, sweep):
    model = view.experiments_model
    names = lambda: [model.index(r, 0).data() for r in range(model.rowCount())]  # noqa: E731
    assert sweep.deleted_name not in names()
    view.lifecycle_combo.setCurrentIndex(view.lifecycle_combo.findData("deleted"))
    assert sweep.deleted_name in names()
    row = names().index(sweep.deleted_name)
    assert model.index(row, 1).data() == "–"
    view.experiments_list.setCurrentIndex(model.index(row, 0))
    assert "Deleted, with its runs" in view.experiment_details.text()
    assert view.runs_stack.currentWidget() is view.runs_empty
    assert view.runs_empty.heading.text() == "Deleted experiment"
    view.lifecycle_combo.setCurrentIndex(view.lifecycle_combo.findData("all"))
    view.experiment_search.setText("browser-filters")
    assert sweep.deleted_name in names()
