"""The column chooser over 10,000+ keys: one list model, filtered by index arrays."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from mlops_desktop.ui.column_chooser import (
    MAX_SHOWN_COLUMNS,
    ColumnChooser,
    ColumnListModel,
)

pytestmark = [pytest.mark.ui, pytest.mark.usefixtures("qapp")]
CHECK = Qt.ItemDataRole.CheckStateRole


def synthetic_columns(keys: int = 10_000) -> list[str]:
    """Run attributes, then `keys` params, metrics and tags: a sweep that logged per-layer
    statistics."""
    names = ["run_name", "status", "start_time", "duration_s"]
    names += [f"params.layer_{i:05d}.lr" for i in range(keys // 2)]
    names += [f"metrics.layer_{i:05d}.grad_norm" for i in range(keys // 2 - 3)]
    names += ["metrics.val_auc", "metrics.val_loss", "tags.team"]
    return names


def test_search_over_ten_thousand_keys_keeps_one_row_per_match(qtmodeltester):
    model = ColumnListModel()
    columns = synthetic_columns()
    model.set_columns(columns, ["run_name", "metrics.val_auc"])
    assert model.rowCount() == len(columns) == 10_004
    model.set_search("val")
    assert model.matching_names() == ["metrics.val_auc", "metrics.val_loss"]
    model.set_search("LAYER_00420 grad")  # every word, any case
    assert model.matching_names() == ["metrics.layer_00420.grad_norm"]
    model.set_search("layer_040", group="params.")
    assert model.rowCount() == 100
    assert all(name.startswith("params.") for name in model.matching_names())
    model.set_search("", group="attributes")
    assert model.matching_names() == ["run_name", "status", "start_time", "duration_s"]
    model.set_search("", group="shown")
    assert model.matching_names() == ["run_name", "metrics.val_auc"]
    qtmodeltester.check(model, force_py=True)


def test_checking_and_unchecking_changes_the_chosen_list_in_order(qtbot):
    model = ColumnListModel()
    model.set_columns(synthetic_columns(), ["run_name"])
    model.set_search("val_loss")
    with qtbot.waitSignal(model.chosen_changed) as changed:
        assert model.setData(model.index(0), Qt.CheckState.Checked.value, CHECK)
    assert changed.args == [["run_name", "metrics.val_loss"]]
    assert model.index(0).data(CHECK) == Qt.CheckState.Checked
    model.set_search("")
    assert model.index(0).data(CHECK) == Qt.CheckState.Checked  # run_name
    assert model.index(1).data(CHECK) == Qt.CheckState.Unchecked
    model.setData(model.index(0), Qt.CheckState.Unchecked.value, CHECK)
    assert model.chosen == ["metrics.val_loss"]


def test_show_all_matching_stops_at_the_limit_and_says_so(qtbot):
    chooser = ColumnChooser()
    qtbot.addWidget(chooser)
    chooser.set_columns(synthetic_columns(), ["run_name"])
    chooser.search_edit.setText("grad_norm")
    assert chooser.model.rowCount() == 4_997
    with qtbot.waitSignal(chooser.columns_chosen) as chosen:
        chooser.show_matching_button.click()
    assert len(chosen.args[0]) == MAX_SHOWN_COLUMNS
    assert chosen.args[0][0] == "run_name"
    assert f"At most {MAX_SHOWN_COLUMNS} columns show at once" in chooser.count_label.text()
    chooser.hide_matching_button.click()
    assert chooser.model.chosen == ["run_name"]
    assert chooser.count_label.text() == "1 of 10,004 columns shown · 4,997 match the search."


def test_enter_on_a_row_toggles_it(qtbot):
    chooser = ColumnChooser()
    qtbot.addWidget(chooser)
    chooser.set_columns(synthetic_columns(100), [])
    chooser.search_edit.setText("team")
    chooser.list_view.activated.emit(chooser.model.index(0))
    assert chooser.model.chosen == ["tags.team"]
    chooser.list_view.activated.emit(chooser.model.index(0))
    assert chooser.model.chosen == []
