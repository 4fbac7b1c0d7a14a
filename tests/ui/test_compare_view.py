"""The Compare view on the demo workspace: top runs by default, tables, overlaid histories."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QPalette

from mlops_desktop.services.experiments import load_experiments, load_runs_frame
from mlops_desktop.services.paths import AppPaths
from mlops_desktop.services.tasks import TaskState
from mlops_desktop.ui.context import UiContext
from mlops_desktop.ui.views.compare_view import CompareView
from tests.ui.views import empty_workspace, open_view

pytestmark = pytest.mark.ui
LOAD_TIMEOUT_MS = 60_000


@pytest.fixture
def view(qtbot, demo_workspace) -> CompareView:
    ctx = UiContext(AppPaths.from_environment())
    ctx.set_workspace(demo_workspace)  # a fresh context: nothing of ours gets closed
    view = CompareView(ctx)
    qtbot.addWidget(view)
    view.resize(1400, 900)
    yield view
    view.shutdown()


@pytest.fixture
def loaded(qtbot, view) -> CompareView:
    with qtbot.waitSignal(view.content_ready, timeout=LOAD_TIMEOUT_MS):
        view.activate()
    return view


def points(curve) -> int:
    x, _ = curve.getOriginalDataset()
    return 0 if x is None else len(x)


def test_compares_the_top_five_of_the_sweep_by_default(loaded):
    view = loaded
    assert not view.banner.isVisibleTo(view), view.banner.message.text()
    subtitle = view.header.subtitle.text()
    assert subtitle.startswith("Top 5 runs of churn-sweep by val_auc")
    assert "select runs in Experiments" in subtitle
    assert len(view.run_ids) == 5
    assert view.history_key == "val_loss"
    assert len(view.curves) == 5
    assert all(points(curve) >= 500 for curve in view.curves.values())
    assert len(view.legend.items) == 5
    names = {label.text for _, label in view.legend.items}
    headers = {
        view.metric_model.headerData(c, Qt.Orientation.Horizontal).removesuffix(" (baseline)")
        for c in range(5)
    }
    assert names == headers


def test_every_run_has_its_own_colour(loaded):
    colours = {curve.opts["pen"].color().name() for curve in loaded.curves.values()}
    assert len(colours) == 5


def test_metric_table_marks_the_best_and_shows_deltas(loaded):
    model = loaded.metric_model
    assert model.rowCount() >= 5
    rows = [model.headerData(r, Qt.Orientation.Vertical) for r in range(model.rowCount())]
    auc = rows.index("val_auc")
    baseline = model.index(auc, 0)
    # the default selection is sorted by val_auc: the baseline is the best
    assert isinstance(baseline.data(Qt.ItemDataRole.FontRole), QFont)
    assert baseline.data(Qt.ItemDataRole.FontRole).bold()
    assert "(" not in baseline.data()
    other = model.index(auc, 1).data()
    assert "(-" in other or "(+0)" in other


def test_param_table_shows_only_differences_by_default(qtbot, loaded):
    view = loaded
    assert view.only_differences.isChecked()
    differing = view.param_model.rowCount()
    assert differing >= 1
    view.only_differences.setChecked(False)
    assert view.param_model.rowCount() >= max(8, differing)
    view.only_differences.setChecked(True)
    assert view.param_model.rowCount() == differing


def test_another_metric_redraws_the_same_curves(qtbot, loaded):
    view = loaded
    curves = dict(view.curves)
    with qtbot.waitSignal(view.content_ready, timeout=LOAD_TIMEOUT_MS):
        view.metric_combo.setCurrentText("train_loss")
    assert view.curves == curves
    assert all(points(curve) >= 500 for curve in view.curves.values())
    assert view.plot.getAxis("left").labelText == "train_loss"


def test_compare_given_runs(qtbot, view, demo_workspace):
    tracking = demo_workspace.tracking
    sweep = next(s for s in load_experiments(tracking, TaskState()) if s.name == "churn-sweep")
    frame = load_runs_frame(tracking, [sweep.experiment_id], TaskState())
    chosen = frame[frame["metrics.val_loss"].notna()]["run_id"].tolist()[-2:]
    with qtbot.waitSignal(view.content_ready, timeout=LOAD_TIMEOUT_MS):
        view.compare(chosen)
    assert view.run_ids == chosen
    assert view.header.subtitle.text().startswith("2 selected runs")
    assert list(view.curves) == chosen
    assert all(points(curve) >= 500 for curve in view.curves.values())


def test_the_chart_follows_the_palette(loaded):
    view = loaded
    window = view.palette().color(QPalette.ColorRole.Window)
    assert view.plot_widget.backgroundBrush().color() == window


def test_the_chart_follows_a_theme_switch(qapp, view):
    from mlops_desktop.ui import theme

    before = "dark" if theme.is_dark(qapp) else "light"
    try:
        for name in ("dark", "light"):
            theme.apply_theme(qapp, name)
            qapp.processEvents()
            window = qapp.palette().color(QPalette.ColorRole.Window)
            assert view.plot_widget.backgroundBrush().color() == window
    finally:
        theme.apply_theme(qapp, before)


def test_an_empty_workspace_says_there_is_nothing_to_compare(qtbot):
    view = open_view(qtbot, CompareView, empty_workspace(), show=False)
    assert view.stack.currentWidget() is view.empty
    assert view.empty.heading.text() == "Nothing to compare yet"
    assert not view.banner.isVisibleTo(view)
