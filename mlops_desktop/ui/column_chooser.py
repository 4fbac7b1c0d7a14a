"""The column chooser of the runs table: every column with a check box, searchable, live.

An experiment can have 10,000+ distinct param, metric and tag keys; the chooser is one
`QListView` over `ColumnListModel` (a name list, a checked set and an index array of the
names matching the search), never a widget per key, so typing in its search field stays
instant. Every change is emitted at once (`columns_chosen`) and the table follows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLineEdit,
    QListView,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from mlops_desktop.services.experiments import METRIC_PREFIX, PARAM_PREFIX, TAG_PREFIX
from mlops_desktop.ui.runs_table_model import header_tooltip
from mlops_desktop.ui.widgets import plain

_INDEX = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
#: More columns than this would hold 100,000 rows x 8 bytes each in memory and make the
#: header slow: "show all matching" stops there and says so.
MAX_SHOWN_COLUMNS = 200
#: The groups of the chooser's group filter: label and the test on a column name.
GROUPS = (
    ("All columns", ""),
    ("Run attributes", "attributes"),
    ("Params", PARAM_PREFIX),
    ("Metrics", METRIC_PREFIX),
    ("Tags", TAG_PREFIX),
    ("Shown only", "shown"),
)


class ColumnListModel(QAbstractListModel):
    """Column names with check boxes, filtered by a search text and a group."""

    chosen_changed = Signal(list)  #: the chosen names, in display order, after a change
    limit_reached = Signal(int)  #: "show all matching" stopped at this many columns

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._names: list[str] = []
        self._lowered = pd.Series([], dtype="str")
        self._chosen: list[str] = []
        self._chosen_set: set[str] = set()
        self._matching: npt.NDArray[np.intp] = np.zeros(0, dtype=np.intp)
        self._search = ""
        self._group = ""

    # -- contents ----------------------------------------------------------------------------
    def set_columns(self, names: Sequence[str], chosen: Sequence[str]) -> None:
        """Every column of the runs, and the ones shown now (in their order)."""
        self.beginResetModel()
        self._names = list(names)
        self._lowered = pd.Series(self._names, dtype="str").str.lower()
        self._chosen = [name for name in chosen if name in set(self._names)]
        self._chosen_set = set(self._chosen)
        self._matching = self._match()
        self.endResetModel()

    def set_search(self, text: str, group: str | None = None) -> None:
        """Show the names containing every word of `text` (any case), within `group`."""
        self._search = text
        if group is not None:
            self._group = group
        self.beginResetModel()
        self._matching = self._match()
        self.endResetModel()

    def _match(self) -> npt.NDArray[np.intp]:
        keep = np.ones(len(self._names), dtype=bool)
        for word in self._search.lower().split():
            keep &= self._lowered.str.contains(word, regex=False).to_numpy(
                dtype=bool, na_value=False
            )
        if self._group == "attributes":
            keep &= ~self._lowered.str.contains(".", regex=False).to_numpy(dtype=bool)
        elif self._group == "shown":
            keep &= np.fromiter(
                (name in self._chosen_set for name in self._names), bool, len(self._names)
            )
        elif self._group:
            keep &= self._lowered.str.startswith(self._group).to_numpy(dtype=bool)
        return np.flatnonzero(keep).astype(np.intp)

    @property
    def chosen(self) -> list[str]:
        return list(self._chosen)

    @property
    def total(self) -> int:
        return len(self._names)

    def name(self, row: int) -> str:
        return self._names[int(self._matching[row])]

    def matching_names(self) -> list[str]:
        return [self._names[i] for i in self._matching]

    # -- changing the choice -----------------------------------------------------------------
    def set_checked(self, names: Sequence[str], checked: bool) -> None:
        """Show or hide these columns; shown ones join the end, up to `MAX_SHOWN_COLUMNS`."""
        before = list(self._chosen)
        if checked:
            room = MAX_SHOWN_COLUMNS - len(self._chosen)
            added = [n for n in names if n not in self._chosen_set]
            if len(added) > room:
                self.limit_reached.emit(MAX_SHOWN_COLUMNS)
            self._chosen.extend(added[: max(room, 0)])
        else:
            gone = set(names)
            self._chosen = [name for name in self._chosen if name not in gone]
        self._chosen_set = set(self._chosen)
        if self._chosen != before:
            if self.rowCount():
                self.dataChanged.emit(
                    self.index(0), self.index(self.rowCount() - 1), [Qt.ItemDataRole.CheckStateRole]
                )
            self.chosen_changed.emit(self.chosen)

    def set_matching_checked(self, checked: bool) -> None:
        self.set_checked(self.matching_names(), checked)

    # -- QAbstractListModel ------------------------------------------------------------------
    def rowCount(self, parent: _INDEX = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._matching)

    def data(self, index: _INDEX, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        name = self.name(index.row())
        if role == Qt.ItemDataRole.DisplayRole:
            return name
        if role == Qt.ItemDataRole.CheckStateRole:
            return Qt.CheckState.Checked if name in self._chosen_set else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.ToolTipRole:
            return header_tooltip(name)
        return None

    def setData(self, index: _INDEX, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or role != Qt.ItemDataRole.CheckStateRole:
            return False
        checked = Qt.CheckState(value) == Qt.CheckState.Checked
        self.set_checked([self.name(index.row())], checked)
        return True

    def flags(self, index: _INDEX) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemIsUserCheckable
        )


class ColumnChooser(QDialog):
    """A search field over every column, with check boxes; changes apply as they are made."""

    columns_chosen = Signal(list)  #: the chosen column names, in order, after each change
    reset_requested = Signal()  #: the user asked for the default columns back

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("columnChooser")
        self.setWindowTitle("Choose columns")
        self.resize(420, 560)
        self.model = ColumnListModel(self)
        self.model.chosen_changed.connect(self._on_model_chosen_changed)
        self.model.limit_reached.connect(self._on_model_limit_reached)
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Search columns, e.g. val loss")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.textChanged.connect(self._on_search_changed)
        self.group_combo = QComboBox()
        for label, group in GROUPS:
            self.group_combo.addItem(label, group)
        self.group_combo.currentIndexChanged.connect(self._on_search_changed)
        self.list_view = QListView()
        self.list_view.setObjectName("columnList")
        self.list_view.setModel(self.model)
        self.list_view.setUniformItemSizes(True)  # no per-row size query: 10,000 rows stay fast
        self.list_view.setSelectionMode(QListView.SelectionMode.ExtendedSelection)
        self.list_view.activated.connect(self._on_list_activated)
        self.show_matching_button = QPushButton("Show all matching")
        self.show_matching_button.clicked.connect(lambda: self.model.set_matching_checked(True))
        self.hide_matching_button = QPushButton("Hide all matching")
        self.hide_matching_button.clicked.connect(lambda: self.model.set_matching_checked(False))
        self.reset_button = QPushButton("Default columns")
        self.reset_button.setToolTip("The columns shown before any choice: name, status, …")
        self.reset_button.clicked.connect(self.reset_requested)
        self.count_label = plain("")
        self.count_label.setObjectName("subtitle")
        self.count_label.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        search_row = QHBoxLayout()
        search_row.addWidget(self.search_edit, 1)
        search_row.addWidget(self.group_combo)
        actions = QHBoxLayout()
        actions.addWidget(self.show_matching_button)
        actions.addWidget(self.hide_matching_button)
        actions.addStretch(1)
        actions.addWidget(self.reset_button)
        layout = QVBoxLayout(self)
        layout.addLayout(search_row)
        layout.addWidget(self.list_view, 1)
        layout.addLayout(actions)
        layout.addWidget(self.count_label)
        layout.addWidget(buttons)
        self._limit_note = ""

    def set_columns(self, names: Sequence[str], chosen: Sequence[str]) -> None:
        self.model.set_columns(names, chosen)
        self._update_count()

    def _on_search_changed(self, *_: Any) -> None:
        self.model.set_search(self.search_edit.text(), str(self.group_combo.currentData()))
        self._update_count()

    def _on_list_activated(self, index: QModelIndex) -> None:
        """Enter or a double click toggles the column, as a click on its box does."""
        name = self.model.name(index.row())
        self.model.set_checked([name], name not in self.model.chosen)

    def _on_model_chosen_changed(self, chosen: list[str]) -> None:
        self._update_count()
        self.columns_chosen.emit(chosen)

    def _on_model_limit_reached(self, limit: int) -> None:
        self._limit_note = (
            f" At most {limit} columns show at once, to keep the table fast: "
            "hide some to show others."
        )

    def _update_count(self) -> None:
        matching, total = self.model.rowCount(), self.model.total
        shown = len(self.model.chosen)
        text = f"{shown:,} of {total:,} columns shown"
        if matching != total:
            text += f" · {matching:,} match the search"
        self.count_label.setText(text + "." + self._limit_note)
        self._limit_note = ""
        has_matches = matching > 0
        self.show_matching_button.setEnabled(has_matches)
        self.hide_matching_button.setEnabled(has_matches)
