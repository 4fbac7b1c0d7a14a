"""The run detail panel on the demo workspace: tabs, sparklines, previews, download, errors.

With MLOPS_SCREENSHOT_DIR set, `test_screenshot_with_an_image_artifact` also writes
`run-detail.png` there (the README's screenshot: `resources/screenshots/`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from mlops_desktop.services.artifact_preview import PreviewKind
from mlops_desktop.services.paths import AppPaths
from mlops_desktop.services.workspace import Workspace
from mlops_desktop.ui.context import UiContext
from mlops_desktop.ui.run_detail import EMPTY_TITLE, RunDetailPanel
from mlops_desktop.ui.sparkline import SPARKLINE_ROLE
from mlops_desktop.ui.theme import apply_theme
from tests.ui.scripted_prompts import ScriptedPrompts
from tests.ui.views import empty_workspace

pytestmark = pytest.mark.ui
TIMEOUT_MS = 60_000


@pytest.fixture
def prompts() -> ScriptedPrompts:
    return ScriptedPrompts()


@pytest.fixture
def panel(qtbot, demo_workspace: Workspace, prompts: ScriptedPrompts) -> RunDetailPanel:
    ctx = UiContext(AppPaths.from_environment(), prompts=prompts)
    ctx.set_workspace(demo_workspace)
    panel = RunDetailPanel(ctx)
    qtbot.addWidget(panel, before_close_func=lambda closing: closing.shutdown())
    panel.resize(1200, 760)
    panel.show()
    return panel


@pytest.fixture(scope="module")
def trial(demo_workspace: Workspace) -> tuple[str, str]:
    """(run id, run name) of a sweep trial with a parent and artifacts, and a second run."""
    tracking = demo_workspace.tracking
    sweep = next(e for e in tracking.list_experiments() if e.name == "churn-sweep")
    runs, _ = tracking.search_runs([sweep.experiment_id], max_results=1000)
    run = next(r for r in runs if r.parent_run_id and tracking.list_artifacts(r.run_id))
    return run.run_id, run.name


def show(qtbot, panel: RunDetailPanel, run_id: str) -> None:
    with qtbot.waitSignal(panel.detail_ready, timeout=TIMEOUT_MS) as ready:
        panel.show_run(run_id)
    assert ready.args == [run_id]


def preview(qtbot, panel: RunDetailPanel, path: str):
    panel.tabs.setCurrentWidget(panel.artifacts)
    with qtbot.waitSignal(panel.artifacts.preview_ready, timeout=TIMEOUT_MS) as ready:
        assert panel.artifacts.select_path(path)
    assert ready.args == [path]
    return panel.artifacts.preview


def test_starts_empty_and_says_what_to_do(panel: RunDetailPanel) -> None:
    assert panel.stack.currentWidget() is panel.empty
    assert panel.empty.heading.text() == EMPTY_TITLE == "Select a run to see its details"


def test_shows_a_demo_run_in_every_tab(qtbot, panel: RunDetailPanel, trial) -> None:
    run_id, name = trial
    show(qtbot, panel, run_id)

    assert panel.stack.currentWidget() is panel.content
    assert panel.title.text() == name and panel.run_id_label.text() == run_id
    assert panel.status_chip.text() == "Finished"
    tabs = [panel.tabs.tabText(i) for i in range(panel.tabs.count())]
    assert tabs == [
        "Overview",
        "Parameters (12)",
        "Metrics (8)",
        "Tags (4)",
        "System metrics (0)",
        "Artifacts (10)",
    ]
    detail = panel.detail
    assert detail is not None
    assert panel.commit.text() == detail.source.git_commit and len(panel.commit.text()) == 40
    assert panel.fields["Parent run"].text().startswith(detail.parent_run_name + " (")
    assert panel.fields["Source"].text() == "churn/train.py · job"
    assert panel.inputs.rowCount() == 2 and panel.inputs.isVisibleTo(panel)
    assert {panel.inputs.item(r, 4).text() for r in range(2)} == {"training", "validation"}
    assert panel.models.item(0, 2).text() == "python_function"
    # The system metrics tab says why it is empty.
    assert panel.system_metrics.currentWidget() is panel.system_metrics.empty


def test_parameters_are_searchable(qtbot, panel: RunDetailPanel, trial) -> None:
    show(qtbot, panel, trial[0])
    table = panel.params
    assert table.proxy.rowCount() == 12
    table.search.setText("RATE")  # case-insensitive, on the name or the value
    assert [table.proxy.index(r, 0).data() for r in range(table.proxy.rowCount())] == [
        "learning_rate"
    ]
    table.search.setText("adam")
    assert table.proxy.rowCount() == 1


def test_metrics_have_a_decimated_sparkline_each(qtbot, panel: RunDetailPanel, trial) -> None:
    show(qtbot, panel, trial[0])
    model = panel.metrics.model
    rows = {model.index(r, 0).data(): r for r in range(model.rowCount())}
    history = model.HISTORY_COLUMN
    spark = model.index(rows["train_loss"], history).data(SPARKLINE_ROLE)
    assert spark.points == 500 and len(spark.values) <= 200
    assert model.index(rows["train_loss"], 4).data() == "500"
    tip = model.index(rows["train_loss"], history).data(Qt.ItemDataRole.ToolTipRole)
    assert "500 points" in tip
    panel.tabs.setCurrentWidget(panel.metrics)
    panel.metrics.table.table.viewport().grab()  # the delegate paints every visible sparkline


@pytest.mark.parametrize(
    ("path", "page", "kind"),
    [
        ("plots/training_report.png", "image", PreviewKind.IMAGE),
        ("metrics_summary.json", "text", PreviewKind.JSON),
        ("model/conda.yaml", "text", PreviewKind.YAML),
        ("predictions_sample.csv", "table", PreviewKind.TABLE),
        ("training_log.txt", "text", PreviewKind.TEXT),
        ("model/MLmodel", "model_view", PreviewKind.MLMODEL),
    ],
)
def test_each_kind_of_artifact_has_its_preview(
    qtbot, panel: RunDetailPanel, trial, path: str, page: str, kind: PreviewKind
) -> None:
    show(qtbot, panel, trial[0])
    shown = preview(qtbot, panel, path)
    browser = panel.artifacts
    assert shown is not None and shown.kind is kind
    assert browser.pages.currentWidget() is getattr(browser, page)
    assert browser.title.text().startswith(path)
    if kind is PreviewKind.IMAGE:
        assert not browser.image.image.isNull() and browser.image.image.width() == 640
    elif kind is PreviewKind.TABLE:
        assert browser.table_model.rowCount() == 50
        assert browser.table_model.headerData(3, browser.table.horizontalHeader().orientation())
    elif kind is PreviewKind.JSON:
        assert json.loads(browser.text.toPlainText())["run_id"] == trial[0]
    elif kind is PreviewKind.MLMODEL:
        texts = [browser.model_view.topLevelItem(i).text(0) for i in range(4)]
        assert texts == [
            "Flavors (1)",
            "Signature inputs (10)",
            "Signature outputs (1)",
            "Details",
        ]
    else:
        assert browser.text.isReadOnly() and browser.text.toPlainText()


def test_a_folder_selected_says_what_it_holds(qtbot, panel: RunDetailPanel, trial) -> None:
    show(qtbot, panel, trial[0])
    preview(qtbot, panel, "model")
    assert panel.artifacts.placeholder.text().startswith("A folder of 5 files (")


def test_download_asks_for_a_folder_and_writes_the_file(
    qtbot, panel: RunDetailPanel, prompts: ScriptedPrompts, trial, tmp_path: Path
) -> None:
    show(qtbot, panel, trial[0])
    preview(qtbot, panel, "plots/training_report.png")
    prompts.files.append(tmp_path)
    with qtbot.waitSignal(panel.artifacts.download_finished, timeout=TIMEOUT_MS) as done:
        panel.artifacts.download_button.click()
    written = tmp_path / "training_report.png"
    assert done.args == [str(written)]
    assert written.read_bytes().startswith(b"\x89PNG")
    assert panel.artifacts.download_status.text().startswith("Saved 1 file (42.")
    assert prompts.asked == [("file", "Download training_report.png to", "")]


def test_a_new_run_replaces_the_one_loading(qtbot, panel: RunDetailPanel, trial, demo_workspace):
    tracking = demo_workspace.tracking
    other = next(
        r.run_id
        for r in tracking.search_runs([tracking.get_run(trial[0]).experiment_id])[0]
        if r.run_id != trial[0]
    )
    shown: list[str] = []
    panel.detail_ready.connect(shown.append)
    panel.show_run(trial[0])
    with qtbot.waitSignal(panel.detail_ready, timeout=TIMEOUT_MS):
        panel.show_run(other)
    QThreadPool.globalInstance().waitForDone(TIMEOUT_MS)
    qtbot.wait(50)  # let a late answer for the first run arrive, if one were coming
    assert shown == [other]
    assert panel.detail is not None and panel.detail.run_id == other


def test_an_unknown_run_is_a_sentence_with_retry(qtbot, panel: RunDetailPanel) -> None:
    with qtbot.waitSignal(panel.detail_failed, timeout=TIMEOUT_MS) as failed:
        panel.show_run("0" * 32)
    assert failed.args == [
        "Could not load run 00000000…: Run 00000000… does not exist in Demo workspace."
    ]
    assert panel.stack.currentWidget() is panel.failure
    assert panel.failure.body.text() == failed.args[0]
    assert panel.failure.button is not None and panel.failure.button.text() == "Retry"


def test_clear_and_a_workspace_change_show_the_empty_state(
    qtbot, panel: RunDetailPanel, trial
) -> None:
    show(qtbot, panel, trial[0])
    panel.clear()
    assert panel.stack.currentWidget() is panel.empty and panel.run_id == ""
    show(qtbot, panel, trial[0])
    panel.ctx.set_workspace(empty_workspace())
    assert panel.stack.currentWidget() is panel.empty


def test_copy_buttons_put_the_ids_on_the_clipboard(qtbot, panel: RunDetailPanel, trial) -> None:
    show(qtbot, panel, trial[0])
    panel.copy_commit.click()
    assert QGuiApplication.clipboard().text() == panel.commit.text()


def test_screenshot_with_an_image_artifact(qtbot, panel: RunDetailPanel, trial) -> None:
    """The panel as the README shows it: the artifact browser on the training plot."""
    show(qtbot, panel, trial[0])
    preview(qtbot, panel, "plots/training_report.png")
    folder = os.environ.get("MLOPS_SCREENSHOT_DIR")
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    style, palette = app.style().name(), app.palette()
    if folder:
        apply_theme(app, "light")  # as the window draws it
        app.processEvents()  # the palette reaches the widgets by event
    try:
        image = panel.grab()
    finally:
        app.setStyle(style)
        app.setPalette(palette)
        app.processEvents()
    assert image.width() == 1200 and not image.isNull()
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        assert image.save(str(Path(folder) / "run-detail.png"))
