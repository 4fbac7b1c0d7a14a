"""The Experiments view on the demo workspace: experiments list, streamed runs table, filter."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence

from mlops_desktop.services.paths import AppPaths
from mlops_desktop.ui.context import UiContext
from mlops_desktop.ui.runs_table_model import RAW_VALUE_ROLE
from mlops_desktop.ui.views.experiments_view import ExperimentsView
from tests.ui.views import empty_workspace, open_view

pytestmark = [
    pytest.mark.ui,
    # The completion popup is a window: the offscreen platform cannot raise it or grab keys.
    pytest.mark.qt_log_ignore("This plugin does not support (raise|grabbing the keyboard)"),
]
LOAD_TIMEOUT_MS = 60_000


@pytest.fixture
def view(qtbot, demo_workspace, tmp_path) -> ExperimentsView:
    return open_isolated(qtbot, demo_workspace, tmp_path)


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
    # Only the shown columns are in the model; the loaded frame keeps the others.
    assert view.runs_model.column_names == columns
    assert len(view.runs_frame.columns) > len(columns)
    assert view.known_columns == list(view.runs_frame.columns)
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


# -- the runs browser: filters, columns, pins, copy ------------------------------------------------
def open_isolated(qtbot, workspace, config_dir: Path) -> ExperimentsView:
    """The view on a context whose settings file and runs cache are the test's own (choices
    and cached runs do not leak between tests)."""
    paths = dataclasses.replace(
        AppPaths.from_environment(), config_dir=config_dir, cache_dir=config_dir / "cache"
    )
    ctx = UiContext(paths)
    ctx.set_workspace(workspace)
    view = ExperimentsView(ctx)
    qtbot.addWidget(view, before_close_func=lambda closing: closing.shutdown())
    view.resize(1400, 900)
    view.show()
    with qtbot.waitSignal(view.content_ready, timeout=LOAD_TIMEOUT_MS):
        view.activate()
    return view


@pytest.fixture
def browser(qtbot, demo_workspace, tmp_path) -> ExperimentsView:
    return open_isolated(qtbot, demo_workspace, tmp_path)


def shown_run_ids(view: ExperimentsView) -> list[str]:
    return [view.runs_model.run_id(row) for row in range(view.runs_model.rowCount())]


def quick_filter(qtbot, view: ExperimentsView, text: str) -> None:
    """Type a quick filter the way a user does, and wait for it to apply."""
    view.quick_filter_edit.clear()
    with qtbot.waitSignal(view.quick_filter_applied, timeout=5_000):
        qtbot.keyClicks(view.quick_filter_edit, text)


def expected_ids(view: ExperimentsView, keep: pd.Series) -> list[str]:
    frame = view.runs_frame
    return sorted(frame.loc[keep.to_numpy(dtype=bool, na_value=False), "run_id"].tolist())


def test_the_quick_filter_or_not_regex_in_and_contains(qtbot, browser):
    frame = browser.runs_frame
    optimizer = frame["params.optimizer"]
    cases = {
        "params.optimizer = sgd OR params.optimizer = rmsprop": optimizer.isin(["sgd", "rmsprop"]),
        "not params.optimizer ~ '^adam'": ~optimizer.str.startswith("adam").fillna(False),
        "params.optimizer in (adamw, sgd)": optimizer.isin(["adamw", "sgd"]),
        "tags.mlflow.note.content contains 'pruned'": frame["tags.mlflow.note.content"]
        .str.lower()
        .str.contains("pruned"),
        "/trial-1\\d$/ and metrics.val_auc >= 0.9": frame["run_name"].str.contains(r"trial-1\d$")
        & (frame["metrics.val_auc"] >= 0.9),
    }
    for text, keep in cases.items():
        quick_filter(qtbot, browser, text)
        assert not browser.quick_filter_box.has_problem, browser.quick_filter_box.message.text()
        expected = expected_ids(browser, keep)
        assert 0 < len(expected) < len(frame), text
        assert sorted(shown_run_ids(browser)) == expected, text
        shown, total = browser.runs_model.rowCount(), browser.runs_model.total_rows
        assert (
            browser.quick_filter_box.message.text()
            == f"Quick filter: {shown:,} of {total:,} loaded runs shown."
        )
    browser.quick_filter_edit.clear()
    browser.apply_quick_filter()
    assert browser.runs_model.rowCount() == len(frame)


def test_a_quick_filter_mistake_is_explained_and_the_table_keeps_the_last_good_one(qtbot, browser):
    quick_filter(qtbot, browser, "sgd")
    shown = shown_run_ids(browser)
    browser.quick_filter_edit.setText("params.optimiser = adam")
    browser.apply_quick_filter()
    assert browser.quick_filter_box.has_problem
    assert browser.quick_filter_box.message.text() == (
        "Quick filter: The loaded runs have no column 'params.optimiser': "
        "did you mean params.optimizer? (at character 1)"
    )
    assert shown_run_ids(browser) == shown


def test_sorting_a_filtered_table(qtbot, browser):
    quick_filter(qtbot, browser, "params.optimizer in (adam, adamw)")
    column = browser.runs_model.column_index("metrics.val_auc")
    browser.runs_table.sortByColumn(column, Qt.SortOrder.DescendingOrder)
    values = [browser.runs_model.value(r, column) for r in range(browser.runs_model.rowCount())]
    present = [v for v in values if not np.isnan(v)]
    assert present == sorted(present, reverse=True)
    optimizer = browser.runs_frame.set_index("run_id")["params.optimizer"]
    assert set(optimizer[shown_run_ids(browser)]) == {"adam", "adamw"}


def test_the_server_filter_is_checked_as_it_is_typed(qtbot, browser):
    box = browser.filter_box
    qtbot.keyClicks(browser.filter_edit, "parms.lr = '0.1'")
    assert box.has_problem
    assert box.message.text() == (
        "Server filter: Unknown prefix 'parms.': did you mean params.? (at character 1)"
    )
    browser.filter_edit.setText("params.optimizer = 'adam")
    assert box.message.text().startswith("Server filter: Missing closing quote")
    browser.filter_edit.setText("metrics.val_auc > 0.9 or metrics.f1 > 0.7")
    assert "no OR" in box.message.text()
    browser.filter_edit.setText("metrics.val_auc > 0.9")
    assert not box.has_problem
    assert box.message.text() == "Server filter: Valid; press Enter to search the server."


def test_a_mistaken_server_filter_is_not_sent(qtbot, browser):
    total = browser.runs_model.total_rows
    browser.filter_edit.setText("params.lr > '0.1'")
    with qtbot.assertNotEmitted(browser.runs_loaded, wait=300):
        qtbot.keyClick(browser.filter_edit, Qt.Key.Key_Return)
    assert browser.banner.isVisibleTo(browser)
    assert "params.lr takes =, !=, LIKE, ILIKE, IS NULL, not >" in browser.banner.message.text()
    assert browser.runs_model.total_rows == total


def test_completion_offers_the_metric_names_of_the_loaded_runs(qtbot, browser):
    edit = browser.filter_edit
    edit.setFocus()
    qtbot.keyClicks(edit, "metrics.val_a")
    completer = edit.name_completer
    assert completer.popup().isVisible()
    assert completer.currentCompletion() == "metrics.val_accuracy"
    names = [completer.completionModel().index(r, 0).data() for r in range(3)]
    assert "metrics.val_auc" in names
    with qtbot.assertNotEmitted(browser.runs_loaded, wait=300):
        qtbot.keyClick(completer.popup(), Qt.Key.Key_Return)
    assert edit.text() == "metrics.val_accuracy"
    assert not completer.popup().isVisible()
    qtbot.keyClicks(edit, " > 0.8 and params.opt")
    assert completer.currentCompletion() == "params.optimizer"
    edit.insert_completion(completer.currentCompletion())
    assert edit.text() == "metrics.val_accuracy > 0.8 and params.optimizer"
    assert browser.quick_filter_edit.name_completer.completionModel() is not None


def test_the_column_chooser_shows_a_column_and_remembers_the_choice(
    qtbot, demo_workspace, tmp_path
):
    view = open_isolated(qtbot, demo_workspace, tmp_path)
    chooser = view.open_column_chooser()
    assert chooser.model.total == len(view.known_columns)
    qtbot.keyClicks(chooser.search_edit, "gpu")
    assert chooser.model.matching_names() == ["tags.gpu"]
    chooser.model.setData(
        chooser.model.index(0), Qt.CheckState.Checked.value, Qt.ItemDataRole.CheckStateRole
    )
    assert view.runs_model.column_names[-1] == "tags.gpu"
    gpu = view.runs_model.column_index("tags.gpu")
    assert {view.runs_model.value(r, gpu) for r in range(20)} <= {"a10g", None}
    chooser.search_edit.setText("val_")
    chooser.hide_matching_button.click()
    assert not any(n.startswith("metrics.val_") for n in view.runs_model.column_names)
    chosen = view.runs_model.column_names
    chooser.close()
    view.table_settings.sync()

    again = open_isolated(qtbot, demo_workspace, tmp_path)
    assert again.runs_model.column_names == chosen
    again.open_column_chooser().reset_button.click()
    assert again.runs_model.column_names[:4] == ["run_name", "status", "start_time", "duration_s"]


def test_pinned_runs_stay_on_top_and_are_remembered(qtbot, demo_workspace, tmp_path):
    view = open_isolated(qtbot, demo_workspace, tmp_path)
    model = view.runs_model
    picked = [model.run_id(r) for r in (5, 9)]
    view._select_runs(picked)
    menu = view.build_context_menu(model.index(5, 0))
    pin = menu.findChild(QAction, "pinAction")
    assert pin.text() == "Pin 2 runs"
    pin.trigger()
    assert shown_run_ids(view)[:2] == sorted(picked, key=shown_run_ids(view).index)
    assert model.index(0, 0).data(Qt.ItemDataRole.DecorationRole) is not None
    for column in ("duration_s", "metrics.val_auc"):
        for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
            view.runs_table.sortByColumn(model.column_index(column), order)
            assert set(shown_run_ids(view)[:2]) == set(picked)
    quick_filter(qtbot, view, "status = killed")
    assert set(shown_run_ids(view)[:2]) == set(picked)
    assert "pinned runs always show" in view.quick_filter_box.message.text()
    view.table_settings.sync()

    again = open_isolated(qtbot, demo_workspace, tmp_path)
    assert set(shown_run_ids(again)[:2]) == set(picked)
    assert again.quick_filter_edit.text() == "status = killed", "the quick filter is kept too"
    assert all(again.runs_model.is_pinned(r) for r in (0, 1))


def test_ctrl_c_copies_the_selected_rows_as_tsv(qtbot, browser):
    model = browser.runs_model
    browser.runs_table.selectRow(2)
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    browser.runs_table.selectionModel().select(model.index(4, 0), flags)
    browser.runs_table.setFocus()
    qtbot.keySequence(browser.runs_table, QKeySequence.StandardKey.Copy)
    lines = QGuiApplication.clipboard().text().splitlines()
    assert lines[0].split("\t") == model.column_names
    assert len(lines) == 3
    name = model.column_index("run_name")
    assert lines[1].split("\t")[name] == model.value(2, name)
    assert lines[2].split("\t")[name] == model.value(4, name)
    auc = model.column_index("metrics.val_auc")
    value = model.value(2, auc)
    assert lines[1].split("\t")[auc] == ("" if np.isnan(value) else repr(float(value)))


def test_the_context_menu_copies_run_ids_and_knows_a_local_store_has_no_web_ui(qtbot, browser):
    model = browser.runs_model
    param = next(name for name in model.column_names if name.startswith("params."))
    column = model.column_index(param)
    menu = browser.build_context_menu(model.index(3, column))
    assert browser.selected_run_ids() == [model.run_id(3)]
    menu.findChild(QAction, "copyRunIdAction").trigger()
    assert QGuiApplication.clipboard().text() == model.run_id(3)
    web = menu.findChild(QAction, "webAction")
    assert not web.isEnabled()
    assert not browser.web_button.isEnabled()
    assert "local MLflow store" in browser.web_button.toolTip()
    assert browser.web_url(3) is None
    value = model.value(3, column)
    keep = menu.findChild(QAction, "filterOnValueAction")
    assert keep.text() == f"Quick filter: {param.removeprefix('params.')} = {value}"
    keep.trigger()
    assert browser.quick_filter_edit.text() == f"{param} = '{value}'"
    assert {model.value(r, column) for r in range(model.rowCount())} == {value}
    menu.findChild(QAction, "hideColumnAction").trigger()
    assert param not in model.column_names


def test_the_experiments_list_searches_and_shows_tags(qtbot, browser):
    model = browser.experiments_model
    qtbot.keyClicks(browser.experiment_search, "risk-ml")
    assert [model.index(r, 0).data() for r in range(model.rowCount())] == ["fraud-detection"]
    browser.experiment_search.clear()
    assert model.rowCount() >= 4
    assert "team = growth-ml" in browser.experiment_details.text()
    browser.lifecycle_combo.setCurrentIndex(browser.lifecycle_combo.findData("deleted"))
    assert model.rowCount() == 0  # the demo deletes nothing
    browser.lifecycle_combo.setCurrentIndex(browser.lifecycle_combo.findData("all"))
    assert model.rowCount() >= 4


def test_dragging_a_header_reorders_and_remembers_the_columns(qtbot, browser):
    header = browser.runs_table.horizontalHeader()
    names = browser.runs_model.column_names
    header.moveSection(header.visualIndex(3), 0)
    qtbot.waitUntil(lambda: browser.runs_model.column_names[0] == names[3], timeout=2_000)
    assert browser.runs_model.column_names == [names[3], *names[:3], *names[4:]]
    assert browser._saved_columns() == browser.runs_model.column_names


def test_a_reload_comes_back_to_the_open_experiment(qtbot, browser):
    model = browser.experiments_model
    other = next(
        r for r in range(model.rowCount()) if model.index(r, 0).data() == "fraud-detection"
    )
    with qtbot.waitSignal(browser.runs_loaded, timeout=LOAD_TIMEOUT_MS):
        browser.experiments_list.setCurrentIndex(model.index(other, 0))
    with qtbot.waitSignal(browser.runs_loaded, timeout=LOAD_TIMEOUT_MS) as loaded:
        browser.reload()
    assert loaded.args[0] == [model.experiment(other).experiment_id]
    assert "fraud-detection" in browser.experiment_details.text()


# -- grouping, run detail, show_run --------------------------------------------------------------
def group_by_first_offered(qtbot, view: ExperimentsView) -> str:
    """Group by the first column the bar offers (found on a worker after the load)."""
    if view.group_bar.show_combo.count() <= 2:
        with qtbot.waitSignal(view.grouping_offered, timeout=LOAD_TIMEOUT_MS):
            pass
    combo = view.group_bar.show_combo
    position = next(i for i in range(combo.count()) if str(combo.itemData(i) or "").count("."))
    with qtbot.waitSignal(view.runs_arranged, timeout=LOAD_TIMEOUT_MS) as arranged:
        combo.setCurrentIndex(position)
    assert arranged.args == ["group"]
    return str(combo.itemData(position))


def test_grouping_shows_the_runs_under_their_groups_in_a_tree(qtbot, view):
    column = group_by_first_offered(qtbot, view)
    assert view.runs_stack.currentWidget() is view.runs_tree
    model = view.tree_model
    values = view.runs_frame[column].fillna("(none)").astype(str)
    assert model.rowCount() == values.nunique()
    children = sum(model.rowCount(model.index(g, 0)) for g in range(model.rowCount()))
    assert children == len(view.runs_frame)
    title = model.index(0, 0).data()
    assert " = " in title and "run" in title
    assert model.column_names == view.runs_model.column_names

    # A run selected in the tree drives the detail panel and the compare button.
    first_run = model.index(0, 0, model.index(0, 0))
    with qtbot.waitSignal(view.detail.detail_ready, timeout=LOAD_TIMEOUT_MS) as ready:
        view.runs_tree.selectionModel().select(
            first_run,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
    assert ready.args == [model.run_id(first_run)]
    assert view.selected_run_ids() == [model.run_id(first_run)]
    view.runs_tree.selectionModel().select(
        model.index(0, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    assert len(view.selected_run_ids()) == int(model.index(0, 0).data().split("· ")[1].split()[0])
    with qtbot.waitSignal(view.runs_arranged, timeout=LOAD_TIMEOUT_MS):
        view.group_bar.set_mode("flat")
    assert view.runs_stack.currentWidget() is view.runs_table


def test_the_first_run_is_selected_and_its_detail_shown(qtbot, view):
    # open_isolated waits for content_ready, which waits for the first run's detail.
    first = view.runs_model.run_id(0)
    assert view.selected_run_ids() == [first]
    assert view.detail.run_id == first
    assert view.detail.stack.currentWidget() is view.detail.content
    assert view.detail_splitter.widget(1) is view.detail

    other = view.runs_model.run_id(7)
    with qtbot.waitSignal(view.detail.detail_ready, timeout=LOAD_TIMEOUT_MS) as ready:
        view.runs_table.selectRow(7)
    assert ready.args == [other]
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    view.runs_table.selectionModel().select(view.runs_model.index(9, 0), flags)
    assert view.detail.stack.currentWidget() is view.detail.empty, "several runs: no detail"
    view.runs_table.clearSelection()
    assert view.detail.run_id == ""


def test_show_run_opens_its_experiment_and_lands_on_it(qtbot, view, demo_workspace):
    frame_ids = set(view.runs_frame["run_id"])
    tracking = demo_workspace.tracking
    others = [e for e in tracking.list_experiments() if e.experiment_id not in view._experiment_ids]
    other, runs = next(
        (e, runs)
        for e in others
        if (runs := tracking.search_runs([e.experiment_id], max_results=50)[0])
    )
    target = runs[-1].run_id
    assert target not in frame_ids
    with qtbot.waitSignal(view.runs_loaded, timeout=LOAD_TIMEOUT_MS) as loaded:
        view.show_run(target)
    assert loaded.args[0] == [other.experiment_id]
    if view.detail.run_id != target or view.detail.detail is None:
        with qtbot.waitSignal(view.detail.detail_ready, timeout=LOAD_TIMEOUT_MS):
            pass
    assert view.selected_run_ids() == [target]
    assert view.detail.detail is not None and view.detail.run_id == target
    current = view.experiments_list.currentIndex()
    assert view.experiments_model.experiment(current.row()).experiment_id == other.experiment_id
    row = view.runs_model.row_of_run(target)
    rect = view.runs_table.visualRect(view.runs_model.index(row, 0))
    assert view.runs_table.viewport().rect().intersects(rect), "scrolled to the run"


def test_show_run_clears_a_quick_filter_that_hides_the_run(qtbot, view):
    hidden = view.runs_model.run_id(3)
    name = view.runs_model.value(3, view.runs_model.column_index("run_name"))
    quick_filter(qtbot, view, f"not run_name = '{name}'")
    assert view.runs_model.row_of_run(hidden) < 0
    view.show_run(hidden)
    assert view.quick_filter_edit.text() == ""
    assert view.selected_run_ids() == [hidden]


def test_write_grouped_and_detail_screenshots(qtbot, view, tmp_path):
    """Writes experiments-detail.png and experiments-grouped.png into MLOPS_SCREENSHOT_DIR
    (resources/screenshots/ for the docs), or into the test's temp dir."""
    folder = Path(os.environ.get("MLOPS_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    with qtbot.waitSignal(view.detail.detail_ready, timeout=LOAD_TIMEOUT_MS):
        view.runs_table.selectRow(2)
    qtbot.wait(300)  # let the layout settle before grabbing (not an assertion)
    assert view.grab().save(str(folder / "experiments-detail.png"), "PNG")
    group_by_first_offered(qtbot, view)
    model = view.tree_model
    view.runs_tree.expand(model.index(0, 0))
    with qtbot.waitSignal(view.detail.detail_ready, timeout=LOAD_TIMEOUT_MS):
        view.runs_tree.selectionModel().select(
            model.index(0, 0, model.index(0, 0)),
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
    qtbot.wait(300)
    assert view.grab().save(str(folder / "experiments-grouped.png"), "PNG")
