"""RunsTableModel: cells from numpy columns, formatting, permutation sort, streamed pages."""

from __future__ import annotations

import time

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


def test_a_hundred_thousand_runs_load_and_sort_quickly():
    frame = runs(100_000)
    for k in range(20):
        frame[f"metrics.m{k:02d}"] = np.random.default_rng(k).random(100_000)
    started = time.perf_counter()
    model = RunsTableModel(frame)
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    model.sort(model.column_index("metrics.m07"), Qt.SortOrder.DescendingOrder)
    model.sort(model.column_index("params.model"), Qt.SortOrder.AscendingOrder)
    sorted_in = time.perf_counter() - started
    started = time.perf_counter()
    for row in range(0, 100_000, 100):
        for column in range(model.columnCount()):
            model.index(row, column).data(DISPLAY)
    read = time.perf_counter() - started
    assert loaded < 2.0, loaded
    assert sorted_in < 2.0, sorted_in
    assert read < 2.0, read  # 28,000 cells
