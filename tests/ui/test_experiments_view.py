"""The Experiments view on the demo workspace: experiments list, streamed runs table, filter."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QItemSelectionModel, Qt

from mlops_desktop.ui.runs_table_model import RAW_VALUE_ROLE
from mlops_desktop.ui.views.experiments_view import ExperimentsView
from tests.ui.views import empty_workspace, open_view

pytestmark = pytest.mark.ui
LOAD_TIMEOUT_MS = 60_000


@pytest.fixture
def view(qtbot, demo_workspace) -> ExperimentsView:
    return open_view(qtbot, ExperimentsView, demo_workspace, show=False)


def visible_columns(view: ExperimentsView) -> list[str]:
    header = view.runs_table.horizontalHeader()
    names = view.runs_model.column_names
    shown = [c for c in range(len(names)) if not view.runs_table.isColumnHidden(c)]
    return [names[c] for c in sorted(shown, key=header.visualIndex)]


def test_lists_the_experiments_and_selects_the_largest(view):
    model = view.experiments_model
    assert not view.banner.isVisibleTo(view), view.banner.message.text()
    assert model.rowCount() >= 3
    names = [model.index(row, 0).data() for row in range(model.rowCount())]
    assert "churn-sweep" in names
    current = view.experiments_list.currentIndex()
    assert current.isValid()
    assert model.index(current.row(), 0).data() == "churn-sweep"
    row = names.index("churn-sweep")
    assert int(model.index(row, 1).data().replace(",", "")) >= 300
    assert model.index(row, 2).data()  # last activity
    assert "churn-sweep" in model.index(row, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert "churn-sweep" in view.experiment_details.text()


def test_shows_every_run_of_the_sweep_with_readable_default_columns(view):
    assert view.runs_model.rowCount() >= 300
    assert view.runs_stack.currentWidget() is view.runs_table
    text = view.status_label.text()
    assert text.startswith(f"{view.runs_model.rowCount():,} runs · loaded in ")
    assert view.progress.isHidden()
    columns = visible_columns(view)
    assert columns[:4] == ["run_name", "status", "start_time", "duration_s"]
    assert 6 <= len(columns) <= 12
    assert any(c.startswith("metrics.") for c in columns)
    assert any(c.startswith("params.") for c in columns)
    assert len(view.runs_model.column_names) > len(columns), "the rest is hidden, not dropped"
    first = view.runs_model.index(0, view.runs_model.column_index("run_name"))
    assert first.data()


def test_sorting_by_a_metric_puts_the_best_first(view):
    column = view.runs_model.column_index("metrics.val_auc")
    view.runs_table.sortByColumn(column, Qt.SortOrder.DescendingOrder)
    values = [
        view.runs_model.index(row, column).data(RAW_VALUE_ROLE)
        for row in range(view.runs_model.rowCount())
    ]
    present = [v for v in values if not np.isnan(v)]
    assert present == sorted(present, reverse=True)
    assert all(np.isnan(v) for v in values[len(present) :])


def test_the_filter_runs_on_the_backend_when_enter_is_pressed(qtbot, view):
    total = view.runs_model.rowCount()
    view.filter_edit.setText("metrics.val_auc > 0.8")
    with qtbot.waitSignal(view.runs_loaded, timeout=LOAD_TIMEOUT_MS):
        qtbot.keyClick(view.filter_edit, Qt.Key.Key_Return)
    rows = view.runs_model.rowCount()
    assert 0 < rows < total
    column = view.runs_model.column_index("metrics.val_auc")
    assert all(view.runs_model.value(row, column) > 0.8 for row in range(rows))
    assert "matching the filter" in view.status_label.text()


def test_a_filter_matching_nothing_says_so(qtbot, view):
    view.filter_edit.setText("metrics.val_auc > 2")
    with qtbot.waitSignal(view.runs_loaded, timeout=LOAD_TIMEOUT_MS):
        view.filter_edit.returnPressed.emit()
    assert view.runs_model.rowCount() == 0
    assert view.runs_stack.currentWidget() is view.runs_empty
    assert "No run matches" in view.runs_empty.body.text()


def test_a_bad_filter_shows_the_error(qtbot, view):
    view.filter_edit.setText("metrics.val_auc >>> what")
    with qtbot.waitSignal(view.content_ready, timeout=LOAD_TIMEOUT_MS):
        view.filter_edit.returnPressed.emit()
    assert view.banner.isVisibleTo(view)
    assert view.banner.message.text().startswith("Could not load the runs")


def test_another_experiment_loads_its_own_runs(qtbot, view):
    model = view.experiments_model
    other = next(
        row for row in range(model.rowCount()) if model.index(row, 0).data() != "churn-sweep"
    )
    expected = model.experiment(other).run_count
    with qtbot.waitSignal(view.runs_loaded, timeout=LOAD_TIMEOUT_MS) as loaded:
        view.experiments_list.setCurrentIndex(model.index(other, 0))
    assert loaded.args == [[model.experiment(other).experiment_id], expected]
    assert view.runs_model.rowCount() == expected


def test_selected_runs_can_be_sent_to_compare(qtbot, view):
    assert not view.compare_button.isEnabled()
    selection = view.runs_table.selectionModel()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for row in (0, 2, 3):
        selection.select(view.runs_model.index(row, 0), flags)
    assert view.compare_button.isEnabled()
    expected = [view.runs_model.run_id(row) for row in (0, 2, 3)]
    with qtbot.waitSignal(view.compare_requested) as requested:
        view.compare_button.click()
    assert requested.args == [expected]


def test_an_empty_workspace_explains_itself(qtbot):
    view = open_view(qtbot, ExperimentsView, empty_workspace(), show=False)
    assert view.stack.currentWidget() is view.empty
    assert view.empty.heading.text() == "No experiments yet"
    assert "nowhere" in view.empty.body.text()
