"""RunsTableModel: cells from numpy columns, formatting, permutation sort, streamed pages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PySide6.QtCore import QPersistentModelIndex, Qt
from PySide6.QtGui import QIcon

from mlops_desktop.ui.runs_table_model import (
    RAW_VALUE_ROLE,
    RUN_ID_ROLE,
    RunsTableModel,
    format_number,
)

pytestmark = [pytest.mark.ui, pytest.mark.usefixtures("qapp")]
DISPLAY = Qt.ItemDataRole.DisplayRole


def runs(n: int, start: int = 0, **extra: object) -> pd.DataFrame:
    ids = np.arange(start, start + n)
    columns: dict[str, object] = {
        "run_id": [f"r{i:04d}" for i in ids],
        "run_name": [f"trial-{i}" for i in ids],
        "status": ["FINISHED" if i % 3 else "FAILED" for i in ids],
        "start_time": pd.to_datetime(1_750_000_000_000 + ids * 60_000, unit="ms", utc=True).astype(
            "datetime64[ms, UTC]"
        ),
        "duration_s": ids * 10.0 + 5,
        "params.lr": pd.array([str(10.0 ** -(i % 4)) for i in ids], dtype="str"),
        "params.model": pd.array(["gbdt" if i % 2 else "MLP" for i in ids], dtype="str"),
        "metrics.val_auc": 0.5 + ids / (10 * (n + start + 1)),
    }
    columns.update(extra)
    return pd.DataFrame(columns)


def column_values(model: RunsTableModel, name: str, role: int = DISPLAY) -> list[object]:
    column = model.column_index(name)
    return [model.index(row, column).data(role) for row in range(model.rowCount())]


def test_the_model_passes_qt_consistency_checks(qtmodeltester):
    model = RunsTableModel(runs(20))
    qtmodeltester.check(model, force_py=True)


def test_shape_headers_and_tooltips():
    model = RunsTableModel(runs(7))
    assert (model.rowCount(), model.columnCount()) == (7, 8)
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(8)]
    assert headers == ["Run ID", "Name", "Status", "Started", "Duration", "lr", "model", "val_auc"]
    tooltip = model.headerData(7, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
    assert "metrics.val_auc" in tooltip


def test_a_name_in_two_groups_keeps_its_prefix():
    frame = runs(2).assign(**{"metrics.lr": [0.1, 0.2]})
    model = RunsTableModel(frame)
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert "params.lr" in headers
    assert "metrics.lr" in headers


def test_numbers_are_right_aligned_with_four_significant_digits():
    model = RunsTableModel(runs(3).assign(**{"metrics.val_auc": [0.812345, np.nan, 12345.678]}))
    assert column_values(model, "metrics.val_auc") == ["0.8123", "", "1.235e+04"]
    index = model.index(0, model.column_index("metrics.val_auc"))
    assert index.data(Qt.ItemDataRole.TextAlignmentRole) & Qt.AlignmentFlag.AlignRight
    assert index.data(Qt.ItemDataRole.ToolTipRole) == "0.812345"
    name = model.index(0, model.column_index("run_name"))
    assert name.data(Qt.ItemDataRole.TextAlignmentRole) & Qt.AlignmentFlag.AlignLeft


def test_number_formatting():
    assert format_number(3.0) == "3"
    assert format_number(0.000123456) == "0.0001235"
    assert format_number(2_500_000.0) == "2.5e+06"


def test_status_has_a_coloured_icon_and_a_readable_word():
    model = RunsTableModel(runs(2))
    index = model.index(0, model.column_index("status"))
    assert index.data(DISPLAY) == "Failed"
    icon = index.data(Qt.ItemDataRole.DecorationRole)
    assert isinstance(icon, QIcon)
    assert not icon.isNull()
    assert model.index(0, 0).data(Qt.ItemDataRole.DecorationRole) is None


def test_times_and_durations_are_formatted_for_people():
    model = RunsTableModel(runs(1))
    started = model.index(0, model.column_index("start_time")).data(DISPLAY)
    assert len(started) == len("2025-06-15 15:06") and started[4] == "-"
    assert model.index(0, model.column_index("duration_s")).data(DISPLAY) == "5 s"


def test_sorting_numbers_puts_missing_last_in_both_orders():
    frame = runs(5).assign(**{"metrics.val_auc": [0.3, np.nan, 0.9, 0.1, np.nan]})
    model = RunsTableModel(frame)
    column = model.column_index("metrics.val_auc")
    model.sort(column, Qt.SortOrder.AscendingOrder)
    assert column_values(model, "run_id")[:3] == ["r0003", "r0000", "r0002"]
    assert column_values(model, "metrics.val_auc")[3:] == ["", ""]
    model.sort(column, Qt.SortOrder.DescendingOrder)
    assert column_values(model, "run_id")[:3] == ["r0002", "r0000", "r0003"]
    assert column_values(model, "metrics.val_auc")[3:] == ["", ""]


def test_numeric_looking_params_sort_as_numbers_and_text_ignores_case():
    model = RunsTableModel(runs(8))
    model.sort(model.column_index("params.lr"), Qt.SortOrder.AscendingOrder)
    lrs = [float(v) for v in column_values(model, "params.lr")]
    assert lrs == sorted(lrs)
    model.sort(model.column_index("params.model"), Qt.SortOrder.AscendingOrder)
    assert column_values(model, "params.model") == ["gbdt"] * 4 + ["MLP"] * 4


def test_missing_text_sorts_last():
    frame = runs(3).assign(**{"params.model": pd.array(["b", None, "a"], dtype="str")})
    model = RunsTableModel(frame)
    model.sort(model.column_index("params.model"), Qt.SortOrder.DescendingOrder)
    assert column_values(model, "params.model") == ["b", "a", ""]


def test_sorting_keeps_the_frame_and_moves_persistent_indexes():
    frame = runs(6)
    before = frame.copy()
    model = RunsTableModel(frame)
    persistent = QPersistentModelIndex(model.index(0, 1))  # r0000
    model.sort(model.column_index("duration_s"), Qt.SortOrder.DescendingOrder)
    assert persistent.row() == 5
    assert model.index(persistent.row(), 0).data(RUN_ID_ROLE) == "r0000"
    pd.testing.assert_frame_equal(frame, before)


def test_appending_pages_inserts_rows_and_new_columns(qtbot):
    model = RunsTableModel(runs(0))
    with qtbot.waitSignal(model.rowsInserted) as inserted:
        model.append_frame(runs(300))
    assert inserted.args[1:] == [0, 299]
    second = runs(200, start=300).assign(**{"metrics.f1": 0.5})
    with qtbot.waitSignals([model.columnsInserted, model.rowsInserted]):
        model.append_frame(second)
    assert model.rowCount() == 500
    assert model.column_names[-1] == "metrics.f1"
    f1 = column_values(model, "metrics.f1", RAW_VALUE_ROLE)
    assert np.isnan(f1[0]) and f1[-1] == 0.5
    assert model.run_id(499) == "r0499"


def test_appending_to_a_sorted_table_keeps_it_sorted():
    model = RunsTableModel(runs(10))
    model.sort(model.column_index("duration_s"), Qt.SortOrder.DescendingOrder)
    model.append_frame(runs(10, start=10))
    durations = column_values(model, "duration_s", RAW_VALUE_ROLE)
    assert durations == sorted(durations, reverse=True)
    assert model.run_id(0) == "r0019"


def test_set_frame_replaces_everything():
    model = RunsTableModel(runs(10))
    model.set_frame(runs(3).drop(columns=["params.model"]))
    assert model.rowCount() == 3
    assert "params.model" not in model.column_names
    model.clear()
    assert (model.rowCount(), model.columnCount()) == (0, 0)


def test_a_hundred_thousand_runs_sort_and_filter_by_index_arrays():
    frame = runs(100_000)
    for k in range(20):
        frame[f"metrics.m{k:02d}"] = np.random.default_rng(k).random(100_000)
    model = RunsTableModel(frame)
    column = model.column_index("metrics.m07")
    mask = frame["metrics.m07"].to_numpy() > 0.5
    model.set_row_mask(mask)
    model.sort(column, Qt.SortOrder.DescendingOrder)
    assert model.rowCount() == int(mask.sum())
    values = np.array([model.value(row, column) for row in range(0, model.rowCount(), 97)])
    assert (values > 0.5).all()
    assert (np.diff(values) <= 0).all()
    assert model._order is not None and model._order.dtype == np.intp  # a view, not a copy


# -- chosen columns ------------------------------------------------------------------------------
def test_chosen_columns_are_the_only_ones_stored_and_shown_in_their_order():
    model = RunsTableModel(runs(5), columns=["metrics.val_auc", "run_name", "params.nope"])
    assert model.column_names == ["metrics.val_auc", "run_name"]
    assert model.run_id(2) == "r0002"  # run ids are kept for every row anyway
    assert "params.lr" not in model._store


def test_a_chosen_column_first_seen_on_a_later_page_is_inserted_in_its_place(qtbot):
    model = RunsTableModel(columns=["run_name", "metrics.f1", "duration_s"])
    model.append_frame(runs(3))
    assert model.column_names == ["run_name", "duration_s"]
    with qtbot.waitSignal(model.columnsInserted) as inserted:
        model.append_frame(runs(2, start=3).assign(**{"metrics.f1": [0.1, 0.2]}))
    assert inserted.args[1:] == [1, 1]
    assert model.column_names == ["run_name", "metrics.f1", "duration_s"]
    f1 = column_values(model, "metrics.f1", RAW_VALUE_ROLE)
    assert np.isnan(f1[:3]).all() and f1[3:] == [0.1, 0.2]


def test_set_columns_brings_columns_in_from_the_full_frame_and_keeps_the_sort():
    frame = runs(6)
    model = RunsTableModel(frame, columns=["run_name", "duration_s"])
    model.sort(model.column_index("duration_s"), Qt.SortOrder.DescendingOrder)
    model.set_columns(["params.model", "duration_s"], frame)
    assert model.column_names == ["params.model", "duration_s"]
    assert model.sort_column == 1
    assert column_values(model, "params.model")[0] == "gbdt"  # r0005, the longest
    assert model.run_id(0) == "r0005"
    with pytest.raises(ValueError, match="rows"):
        model.set_columns(["run_name"], frame.head(2))


# -- the quick filter's mask ---------------------------------------------------------------------
def test_a_row_mask_hides_rows_without_touching_the_data():
    model = RunsTableModel(runs(6))
    model.set_row_mask(np.array([True, False, True, False, False, True]))
    assert model.rowCount() == 3
    assert model.total_rows == 6
    assert [model.run_id(r) for r in range(3)] == ["r0000", "r0002", "r0005"]
    model.set_row_mask(None)
    assert model.rowCount() == 6
    with pytest.raises(ValueError):
        model.set_row_mask(np.ones(2, dtype=bool))


def test_sorting_with_a_mask_sorts_only_what_is_shown():
    model = RunsTableModel(runs(8))
    model.set_row_mask(np.arange(8) % 2 == 0)
    model.sort(model.column_index("duration_s"), Qt.SortOrder.DescendingOrder)
    assert [model.run_id(r) for r in range(model.rowCount())] == [
        "r0006",
        "r0004",
        "r0002",
        "r0000",
    ]
    model.set_row_mask(None)  # the sort stays when the filter goes
    assert model.run_id(0) == "r0007"


def test_a_masked_table_keeps_filtering_the_pages_that_follow():
    model = RunsTableModel(runs(4))
    model.set_row_mask(np.array([True, False, True, False]))
    model.append_frame(runs(4, start=4), visible=np.array([False, True, True, False]))
    assert [model.run_id(r) for r in range(model.rowCount())] == [
        "r0000",
        "r0002",
        "r0005",
        "r0006",
    ]
    model.append_frame(runs(1, start=8))  # no mask for this page: it shows
    assert model.run_id(model.rowCount() - 1) == "r0008"


def test_a_mask_on_the_first_page_of_an_empty_table():
    model = RunsTableModel(columns=["run_name"])
    model.append_frame(runs(3), visible=np.array([False, True, False]))
    assert model.rowCount() == 1 and model.run_id(0) == "r0001"


def test_the_mask_moves_the_selection_and_drops_hidden_rows(qtbot):
    model = RunsTableModel(runs(6))
    kept = QPersistentModelIndex(model.index(4, 0))  # r0004
    dropped = QPersistentModelIndex(model.index(1, 0))  # r0001
    model.set_row_mask(np.array([True, False, False, True, True, False]))
    assert kept.row() == 2 and model.run_id(kept.row()) == "r0004"
    assert not dropped.isValid()


def test_the_model_passes_qt_checks_with_a_mask_sort_and_pins(qtmodeltester):
    model = RunsTableModel(runs(30))
    model.set_row_mask(np.arange(30) % 3 != 0)
    model.sort(model.column_index("metrics.val_auc"), Qt.SortOrder.DescendingOrder)
    model.set_pinned({"r0003", "r0010"})
    qtmodeltester.check(model, force_py=True)


# -- pinned runs ---------------------------------------------------------------------------------
def test_pinned_runs_stay_on_top_whatever_the_sort_and_the_filter():
    model = RunsTableModel(runs(8))
    model.set_pinned({"r0002", "r0006"})
    assert [model.run_id(r) for r in range(2)] == ["r0002", "r0006"]
    column = model.column_index("duration_s")
    model.sort(column, Qt.SortOrder.DescendingOrder)
    assert [model.run_id(r) for r in range(3)] == ["r0006", "r0002", "r0007"]
    model.sort(column, Qt.SortOrder.AscendingOrder)
    assert [model.run_id(r) for r in range(3)] == ["r0002", "r0006", "r0000"]
    model.set_row_mask(np.arange(8) == 5)  # the filter hides both pinned runs...
    assert [model.run_id(r) for r in range(model.rowCount())] == ["r0002", "r0006", "r0005"]
    assert model.is_pinned(0) and not model.is_pinned(2)


def test_pinned_runs_are_marked_and_found_on_later_pages():
    model = RunsTableModel(runs(3))
    model.set_pinned({"r0004"})
    assert not any(model.is_pinned(r) for r in range(3))
    model.append_frame(runs(3, start=3))
    assert model.run_id(0) == "r0004"
    first = model.index(0, 0)
    assert isinstance(first.data(Qt.ItemDataRole.DecorationRole), QIcon)  # the pin mark
    assert first.data(Qt.ItemDataRole.BackgroundRole) is not None
    assert model.index(1, 0).data(Qt.ItemDataRole.BackgroundRole) is None
    model.set_pinned(set())
    assert model.run_id(0) == "r0000"


# -- copying -------------------------------------------------------------------------------------
def test_rows_copy_as_tsv_with_a_header_line_and_full_precision():
    frame = runs(3).assign(
        **{
            "metrics.val_auc": [0.123456789, np.nan, 3.0],
            "params.model": pd.array(["a\tb", "x y", None], dtype="str"),
        }
    )
    model = RunsTableModel(frame)
    columns = [model.column_index(n) for n in ("run_id", "params.model", "metrics.val_auc")]
    text = model.rows_as_tsv([0, 1, 2], columns)
    assert text.splitlines() == [
        "run_id\tparams.model\tmetrics.val_auc",
        "r0000\ta b\t0.123456789",
        "r0001\tx y\t",
        "r0002\t\t3",
    ]
    started = model.rows_as_tsv([0], [model.column_index("start_time")]).splitlines()[1]
    assert len(started) == len("2025-06-15 15:06:40") and started[10] == " "
