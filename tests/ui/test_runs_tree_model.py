"""RunsTreeModel: runs grouped by a column (aggregates in bold group rows) or nested under
their parents, O(1) cells from the table's storage, sorting within groups; and the GroupBar."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont, QIcon
from PySide6.QtWidgets import QTreeView, QVBoxLayout, QWidget

from mlops_desktop.services.experiments import load_runs_frame
from mlops_desktop.services.grouping import NONE_LABEL, group_runs, groupable_columns
from mlops_desktop.services.tasks import TaskState
from mlops_desktop.ui.group_bar import GroupBar
from mlops_desktop.ui.runs_table_model import RAW_VALUE_ROLE, RUN_ID_ROLE, RunsTableModel
from mlops_desktop.ui.runs_tree_model import IS_GROUP_ROLE, RunsTreeModel

pytestmark = [pytest.mark.ui, pytest.mark.usefixtures("qapp")]
DISPLAY = Qt.ItemDataRole.DisplayRole
ROOT = QModelIndex()
COLUMNS = ["run_name", "status", "duration_s", "metrics.auc", "params.opt"]
NAN = np.nan


def runs() -> pd.DataFrame:
    """Six runs: two parents (p1 with two children and a grandchild), one orphan.

    opt: adam (p1, c1, g1), sgd (c2, p2), missing (orphan). auc: see below.
    """
    return pd.DataFrame(
        {
            "run_id": pd.array(["p1", "c1", "c2", "g1", "p2", "orphan"], dtype="str"),
            "run_name": pd.array(["parent-1", "child-1", "child-2", "grand-1", "parent-2", "lost"]),
            "status": pd.array(["FINISHED", "FINISHED", "FAILED", "RUNNING", "FINISHED", "KILLED"]),
            "duration_s": [60.0, 30.0, 10.0, NAN, 5.0, 1.0],
            "parent_run_id": pd.array([None, "p1", "p1", "c1", None, "gone"], dtype="str"),
            "metrics.auc": [0.8, 0.9, NAN, 0.7, 0.6, 0.5],
            "params.opt": pd.array(["adam", "adam", "sgd", "adam", "sgd", None], dtype="str"),
        }
    )


def children(model: RunsTreeModel, parent: QModelIndex = ROOT, column: int = 0) -> list[object]:
    return [model.index(row, column, parent).data() for row in range(model.rowCount(parent))]


def run_ids(model: RunsTreeModel, parent: QModelIndex = ROOT) -> list[str | None]:
    return [model.run_id(model.index(row, 0, parent)) for row in range(model.rowCount(parent))]


def grouped(aggregate: str = "mean") -> RunsTreeModel:
    model = RunsTreeModel(runs(), COLUMNS)
    model.show_grouped("params.opt", aggregate)
    return model


@pytest.mark.parametrize("mode", ["flat", "nested", "group"])
def test_every_mode_passes_qt_consistency_checks(qtmodeltester, mode):
    model = RunsTreeModel(runs(), COLUMNS)
    model.set_mode(mode, "params.opt")
    qtmodeltester.check(model, force_py=True)
    model.sort(model.column_index("metrics.auc"), Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(model, force_py=True)


def test_flat_mode_lists_every_run_at_the_top_level_like_the_table():
    model = RunsTreeModel(runs(), COLUMNS)
    assert model.mode == "flat"
    assert (model.rowCount(), model.columnCount()) == (6, 5)
    table = RunsTableModel(runs()[COLUMNS])
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(5)]
    assert headers == [table.headerData(c, Qt.Orientation.Horizontal) for c in range(5)]
    assert children(model, column=2) == ["1 min 00 s", "30 s", "10 s", "", "5 s", "1 s"]


def test_grouped_rows_are_groups_with_their_runs_as_children():
    model = grouped()
    assert model.rowCount() == 3
    assert children(model) == [
        "opt = adam · 3 runs",
        "opt = sgd · 2 runs",
        f"opt = {NONE_LABEL} · 1 run",
    ]
    adam = model.index(0, 0)
    assert model.is_group(adam) and adam.data(IS_GROUP_ROLE) is True
    assert model.run_id(adam) is None
    assert run_ids(model, adam) == ["p1", "c1", "g1"]
    assert model.group_run_ids(adam) == ["p1", "c1", "g1"]
    assert model.index(1, 0, adam).parent() == adam
    assert model.rowCount(model.index(1, 0, adam)) == 0
    assert model.rowCount(model.index(0, 3)) == 0  # only the first column has children


def test_a_group_row_shows_its_aggregate_in_bold():
    model = grouped()
    auc, duration = model.column_index("metrics.auc"), model.column_index("duration_s")
    adam, sgd = model.index(0, auc), model.index(1, auc)
    assert adam.data() == "0.8"  # mean of 0.8, 0.9, 0.7
    assert adam.data(RAW_VALUE_ROLE) == pytest.approx(0.8)
    assert sgd.data() == "0.6"  # the missing auc of c2 is skipped
    assert "over 1 of 2 runs" in sgd.data(Qt.ItemDataRole.ToolTipRole)
    assert model.index(0, duration).data() == "45 s"  # mean of 60 and 30; g1 still runs
    assert model.index(0, model.column_index("params.opt")).data() == "adam"
    assert model.index(0, model.column_index("status")).data() == ""
    font = adam.data(Qt.ItemDataRole.FontRole)
    assert isinstance(font, QFont) and font.bold()
    assert adam.data(Qt.ItemDataRole.TextAlignmentRole) & Qt.AlignmentFlag.AlignRight


def test_changing_the_aggregate_updates_the_group_rows(qtbot):
    model = grouped()
    auc = model.index(0, model.column_index("metrics.auc"))
    with qtbot.waitSignal(model.dataChanged):
        model.set_aggregate("max")
    assert auc.data() == "0.9"
    model.set_aggregate("min")
    assert auc.data() == "0.7"
    with pytest.raises(ValueError, match="median"):
        model.set_aggregate("median")


def test_a_run_row_reads_like_the_table_row():
    model = grouped()
    sgd = model.index(1, 0)
    failed = model.index(0, model.column_index("status"), sgd)
    assert model.run_id(failed) == "c2"
    assert failed.data(RUN_ID_ROLE) == "c2"
    assert failed.data() == "Failed"
    assert isinstance(failed.data(Qt.ItemDataRole.DecorationRole), QIcon)
    assert failed.data(IS_GROUP_ROLE) is False
    assert failed.siblingAtColumn(model.column_index("metrics.auc")).data() == ""
    font = failed.siblingAtColumn(0).data(Qt.ItemDataRole.FontRole)
    assert font is None or not font.bold()


def test_sorting_orders_groups_by_their_aggregate_and_runs_within_each_group():
    model = grouped()
    auc = model.column_index("metrics.auc")
    model.sort(auc, Qt.SortOrder.DescendingOrder)
    assert [label.split(" ·")[0] for label in children(model)] == [
        "opt = adam",  # mean 0.8
        "opt = sgd",  # mean 0.6
        f"opt = {NONE_LABEL}",  # 0.5
    ]
    assert run_ids(model, model.index(0, 0)) == ["c1", "p1", "g1"]
    assert run_ids(model, model.index(1, 0)) == ["p2", "c2"]  # missing auc last
    model.sort(auc, Qt.SortOrder.AscendingOrder)
    assert children(model, column=auc) == ["0.5", "0.6", "0.8"]
    assert run_ids(model, model.index(2, 0)) == ["g1", "p1", "c1"]
    model.set_aggregate("min")  # re-sorts: sgd 0.6, adam 0.7, none 0.5
    assert children(model, column=auc) == ["0.5", "0.6", "0.7"]


def test_sorting_by_a_text_column_keeps_groups_in_value_order_with_none_last():
    model = grouped()
    model.sort(model.column_index("run_name"), Qt.SortOrder.DescendingOrder)
    assert [label.split(" ·")[0] for label in children(model)] == [
        "opt = sgd",
        "opt = adam",
        f"opt = {NONE_LABEL}",
    ]
    assert run_ids(model, model.index(1, 0)) == ["p1", "g1", "c1"]


def test_a_persistent_index_follows_its_run_through_a_sort():
    model = grouped()
    adam = model.index(0, 0)
    kept = QPersistentModelIndex(model.index(2, 1, adam))
    assert model.run_id(kept) == "g1"
    model.sort(model.column_index("metrics.auc"), Qt.SortOrder.AscendingOrder)
    assert model.run_id(kept) == "g1"
    assert kept.row() == 0
    assert kept.parent().data().startswith("opt = adam")


def test_nested_mode_puts_children_and_grandchildren_under_their_parents():
    model = RunsTreeModel(runs(), COLUMNS)
    model.show_nested()
    assert run_ids(model) == ["p1", "p2", "orphan"]
    p1 = model.index(0, 0)
    assert run_ids(model, p1) == ["c1", "c2"]
    c1 = model.index(0, 0, p1)
    assert run_ids(model, c1) == ["g1"]
    grandchild = model.index(0, 3, c1)
    assert grandchild.data() == "0.7"
    assert grandchild.parent() == c1 and c1.parent() == p1
    assert not model.is_group(p1)
    model.sort(model.column_index("metrics.auc"), Qt.SortOrder.AscendingOrder)
    assert run_ids(model) == ["orphan", "p2", "p1"]
    assert run_ids(model, model.index(2, 0)) == ["c1", "c2"]  # c2 has no auc: last


def test_an_orphan_is_at_the_top_level_in_italics_with_a_reason():
    model = RunsTreeModel(runs(), COLUMNS)
    model.show_nested()
    orphan = model.index(2, 0)
    assert orphan.data() == "lost"
    assert orphan.data(Qt.ItemDataRole.FontRole).italic()
    assert "parent run is not in this list" in orphan.data(Qt.ItemDataRole.ToolTipRole)
    assert model.index(0, 0).data(Qt.ItemDataRole.FontRole) is None


def test_a_new_frame_keeps_the_mode_unless_its_column_is_gone():
    model = grouped("max")
    model.set_frame(runs().iloc[:4], COLUMNS)
    assert model.mode == "group"
    assert children(model) == ["opt = adam · 3 runs", "opt = sgd · 1 run"]
    model.set_frame(runs().drop(columns=["params.opt"]), COLUMNS[:4])
    assert model.mode == "flat"
    assert model.rowCount() == 6


def test_a_grouping_computed_on_a_worker_is_used_as_is():
    model = RunsTreeModel(runs(), COLUMNS)
    grouping = group_runs(runs(), "params.opt", model.aggregated_columns)
    model.show_grouped("params.opt", "mean", grouping)
    assert model.grouping is grouping
    assert model.aggregated_columns == ["duration_s", "metrics.auc"]
    with pytest.raises(KeyError, match=r"params\.depth"):
        model.show_grouped("params.depth")


def test_a_grouping_of_other_rows_is_recomputed_rather_than_shown_wrong():
    model = RunsTreeModel(runs(), COLUMNS)
    stale = group_runs(runs().iloc[:3], "params.opt")
    model.show_grouped("params.opt", "mean", stale)
    assert model.grouping is not stale
    assert children(model) == [
        "opt = adam · 3 runs",
        "opt = sgd · 2 runs",
        f"opt = {NONE_LABEL} · 1 run",
    ]


# -- the group bar -----------------------------------------------------------------------------


def test_the_group_bar_offers_the_groupable_columns_and_says_what_was_chosen(qtbot):
    bar = GroupBar()
    qtbot.addWidget(bar)
    assert (bar.mode, bar.column, bar.aggregate) == ("flat", "", "mean")
    assert not bar.aggregate_combo.isEnabled()
    bar.set_columns(["params.opt", "tags.gpu"])
    items = [bar.show_combo.itemText(i) for i in range(bar.show_combo.count())]
    assert items == ["Flat list", "Nested runs", "", "Group by opt", "Group by tag gpu"]
    with qtbot.waitSignal(bar.mode_changed) as changed:
        bar.show_combo.setCurrentIndex(4)
    assert changed.args == ["group", "tags.gpu", "mean"]
    assert bar.aggregate_combo.isEnabled()
    with qtbot.waitSignal(bar.mode_changed) as changed:
        bar.aggregate_combo.setCurrentIndex(bar.aggregate_combo.findData("max"))
    assert changed.args == ["group", "tags.gpu", "max"]
    with qtbot.waitSignal(bar.mode_changed) as changed:
        bar.show_combo.setCurrentIndex(1)
    assert changed.args == ["nested", "", "max"]
    assert not bar.aggregate_combo.isEnabled()


def test_the_group_bar_keeps_its_choice_or_falls_back_to_flat(qtbot):
    bar = GroupBar()
    qtbot.addWidget(bar)
    bar.set_columns(["params.opt", "tags.gpu"])
    with qtbot.waitSignal(bar.mode_changed) as changed:
        bar.set_mode("group", "params.opt", "min")
    assert changed.args == ["group", "params.opt", "min"]
    with qtbot.assertNotEmitted(bar.mode_changed):
        bar.set_columns(["tags.team", "params.opt"])
    assert bar.column == "params.opt"
    with qtbot.waitSignal(bar.mode_changed) as changed:
        bar.set_columns(["tags.team"])
    assert changed.args == ["flat", "", "min"]


def test_the_group_bar_drives_the_tree_model(qtbot):
    bar = GroupBar()
    qtbot.addWidget(bar)
    model = RunsTreeModel(runs(), COLUMNS)
    bar.mode_changed.connect(model.set_mode)
    bar.set_columns(groupable_columns(runs()))
    bar.set_mode("group", "params.opt", "max")
    assert (model.mode, model.group_column, model.aggregate) == ("group", "params.opt", "max")
    assert model.index(0, model.column_index("metrics.auc")).data() == "0.9"


# -- look at it --------------------------------------------------------------------------------


def test_the_demo_sweep_grouped_by_optimizer(qtbot, demo_workspace):
    """The demo's churn sweep grouped by optimizer through the group bar, in a tree view;
    saved as a PNG under $MLOPS_SCREENSHOT_DIR when set, to look at."""
    from mlops_desktop.services.demo import SWEEP_EXPERIMENT

    tracking = demo_workspace.tracking
    experiment = next(e for e in tracking.list_experiments() if e.name == SWEEP_EXPERIMENT)
    frame = load_runs_frame(tracking, [experiment.experiment_id], TaskState())
    columns = [
        "run_name",
        "status",
        "start_time",
        "duration_s",
        "metrics.val_auc",
        "metrics.f1",
        "metrics.val_loss",
        "params.learning_rate",
        "params.optimizer",
        "params.feature_set",
    ]
    model = RunsTreeModel(frame, columns)
    bar = GroupBar()
    bar.mode_changed.connect(model.set_mode)
    bar.set_columns(groupable_columns(frame))
    assert "params.optimizer" in [bar.show_combo.itemData(i) for i in range(bar.show_combo.count())]
    assert "params.seed" not in [bar.show_combo.itemData(i) for i in range(bar.show_combo.count())]
    bar.set_mode("group", "params.optimizer", "mean")
    grouping = model.grouping
    assert grouping is not None
    # Four optimizers, and "(none)" for the sweep batches' parent runs.
    assert len(grouping) == model.rowCount() == 5
    assert grouping.labels[-1] == NONE_LABEL
    assert sum(model.rowCount(model.index(g, 0)) for g in range(model.rowCount())) == len(frame)

    view = QTreeView()
    view.setModel(model)
    view.setSortingEnabled(True)  # the header sorts the model, as in the app
    auc = model.column_index("metrics.val_auc")
    view.header().setSortIndicator(auc, Qt.SortOrder.DescendingOrder)
    best = [model.index(g, auc).data(RAW_VALUE_ROLE) for g in range(model.rowCount())]
    assert best[:-1] == sorted(best[:-1], reverse=True)  # "(none)" has no val_auc: last
    view.setAlternatingRowColors(True)
    view.setUniformRowHeights(True)
    smallest = min(range(len(grouping) - 1), key=lambda g: model.rowCount(model.index(g, 0)))
    view.expand(model.index(smallest, 0))
    for column in range(model.columnCount()):
        view.resizeColumnToContents(column)
        view.setColumnWidth(column, view.columnWidth(column) + 16)  # room for the sort arrow

    window = QWidget()
    qtbot.addWidget(window)
    layout = QVBoxLayout(window)
    layout.addWidget(bar, 0, Qt.AlignmentFlag.AlignLeft)
    layout.addWidget(view, 1)
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    out = os.environ.get("MLOPS_SCREENSHOT_DIR")
    if out:
        path = Path(out) / "runs_tree_grouped.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        assert window.grab().save(str(path))
