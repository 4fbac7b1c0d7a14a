"""RunsTableModel: a Qt table model over a runs DataFrame, O(1) per cell, sorted by permutation.

Each column is one numpy array that grows by doubling as pages are appended: numbers, times
and durations as float64 (NaN for missing), text as int32 codes into the column's distinct
values (-1 for missing; a sweep's params have few). `data()` reads one element and formats it
only when asked. Sorting never moves the data: it argsorts one column's float key into
`_order`, the permutation from view rows to stored rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

from mlops_desktop.services.experiments import METRIC_PREFIX, PARAM_PREFIX, TAG_PREFIX
from mlops_desktop.ui.format import format_duration, format_time_ms

#: Data role returning the run id of a row, whatever the column.
RUN_ID_ROLE = Qt.ItemDataRole.UserRole + 1
#: Data role returning the raw stored value (float, str or None) of a cell.
RAW_VALUE_ROLE = Qt.ItemDataRole.UserRole + 2

HEADERS = {
    "run_id": "Run ID",
    "run_name": "Name",
    "status": "Status",
    "start_time": "Started",
    "duration_s": "Duration",
    "user": "User",
    "parent_run_id": "Parent run",
    "experiment_id": "Experiment",
}
STATUS_COLOURS = {
    "FINISHED": "#2e9d5b",
    "RUNNING": "#2f6fde",
    "SCHEDULED": "#8a63d2",
    "FAILED": "#d93f3f",
    "KILLED": "#9aa0a8",
}
_TEXT, _NUMBER, _TIME, _DURATION, _STATUS = "text", "number", "time", "duration", "status"
_INDEX = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


def format_number(value: float) -> str:
    """4 significant digits; whole numbers below a million in full (epochs, sizes)."""
    if math.isnan(value):
        return ""
    if value.is_integer() and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.4g}"


def _kind_of(name: str, series: pd.Series) -> str:
    if name == "status":
        return _STATUS
    if name == "duration_s":
        return _DURATION
    if isinstance(series.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(
        series.dtype
    ):
        return _TIME
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        return _NUMBER
    return _TEXT


class _Column:
    """One column's storage: float64 values, or int32 codes into distinct strings."""

    def __init__(self, name: str, kind: str, capacity: int) -> None:
        self.name, self.kind = name, kind
        self.is_text = kind in (_TEXT, _STATUS)
        self.values: npt.NDArray[Any] = self._empty(capacity)
        self.categories: list[str] = []
        self._codes: dict[str, int] = {}

    def _empty(self, size: int) -> npt.NDArray[Any]:
        if self.is_text:
            return np.full(size, -1, dtype=np.int32)
        return np.full(size, np.nan, dtype=np.float64)

    def grow(self, capacity: int, rows: int) -> None:
        grown = self._empty(capacity)
        grown[:rows] = self.values[:rows]
        self.values = grown

    def store(self, series: pd.Series, start: int) -> None:
        """Write a page's values at rows `start`, `start + 1`, ..."""
        end = start + len(series)
        if self.kind == _TIME:
            naive = series.dt.tz_localize(None) if series.dt.tz is not None else series
            ms = naive.astype("datetime64[ms]").to_numpy().view(np.int64).astype(np.float64)
            ms[series.isna().to_numpy()] = np.nan
            self.values[start:end] = ms
        elif not self.is_text:
            self.values[start:end] = series.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            local, uniques = pd.factorize(series, use_na_sentinel=True)
            mapping = np.array([self._code(str(u)) for u in uniques] + [-1], dtype=np.int32)
            self.values[start:end] = mapping[local]  # the sentinel -1 picks the trailing -1

    def _code(self, text: str) -> int:
        code = self._codes.get(text)
        if code is None:
            code = self._codes[text] = len(self.categories)
            self.categories.append(text)
        return code

    def raw(self, row: int) -> Any:
        """The stored value: a float (NaN missing), or a str (None missing)."""
        if not self.is_text:
            return self.values[row]
        code = self.values[row]
        return None if code < 0 else self.categories[code]

    def sort_key(self, rows: int) -> npt.NDArray[np.float64]:
        """A float per row that sorts like the column (NaN for missing)."""
        if not self.is_text:
            return np.asarray(self.values[:rows], dtype=np.float64)
        categories = pd.Series(self.categories, dtype=object)
        numbers = pd.to_numeric(categories, errors="coerce")
        if len(categories) and numbers.notna().all():  # numeric-looking params sort as numbers
            ranks = numbers.to_numpy(dtype=np.float64)
        else:
            lowered = categories.str.lower().to_numpy(dtype=str)
            ranks = np.unique(lowered, return_inverse=True)[1].astype(np.float64)
        ranks = np.append(ranks, np.nan)  # code -1 indexes this: missing
        key: npt.NDArray[np.float64] = ranks[self.values[:rows]]
        return key


def header_label(name: str) -> str:
    """A column's header: fixed names spelled out, others without their group prefix."""
    if name in HEADERS:
        return HEADERS[name]
    for prefix in (PARAM_PREFIX, METRIC_PREFIX, TAG_PREFIX):
        if name.startswith(prefix):
            return name.removeprefix(prefix)
    return name


def header_tooltip(name: str) -> str:
    if name.startswith(PARAM_PREFIX):
        return f"Parameter {name.removeprefix(PARAM_PREFIX)} ({name})"
    if name.startswith(METRIC_PREFIX):
        return f"Metric {name.removeprefix(METRIC_PREFIX)}, latest value ({name})"
    if name.startswith(TAG_PREFIX):
        return f"Tag {name.removeprefix(TAG_PREFIX)} ({name})"
    return HEADERS.get(name, name)


class RunsTableModel(QAbstractTableModel):
    """One row per run, one column per frame column; read-only."""

    def __init__(self, frame: pd.DataFrame | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._names: list[str] = []
        self._headers: list[str] = []
        self._tooltips: list[str] = []
        self._kinds: list[str] = []
        self._columns: list[_Column] = []
        self._rows = 0
        self._capacity = 0
        self._order: npt.NDArray[np.intp] | None = None  # view row -> stored row
        self._sort_column = -1
        self._sort_order = Qt.SortOrder.AscendingOrder
        self._icons: dict[str, QIcon] = {}
        self._run_id_column = -1
        if frame is not None:
            self.set_frame(frame)

    # -- loading -----------------------------------------------------------------------------
    def set_frame(self, frame: pd.DataFrame) -> None:
        """Replace everything with this frame (the sort column is kept when it still exists)."""
        sort_name = self.column_name(self._sort_column) if self._sort_column >= 0 else None
        self.beginResetModel()
        self._names, self._headers, self._tooltips, self._kinds, self._columns = [], [], [], [], []
        self._rows, self._capacity, self._order = 0, 0, None
        self._run_id_column = -1
        self._add_columns(frame, list(frame.columns))
        self._store_rows(frame)
        self._sort_column = self._names.index(sort_name) if sort_name in self._names else -1
        if self._sort_column >= 0:
            self._order = self._argsort(self._sort_column, self._sort_order)
        self.endResetModel()

    def clear(self) -> None:
        self.set_frame(pd.DataFrame())

    def append_frame(self, frame: pd.DataFrame) -> None:
        """Append a page of runs; new columns go to the end, an active sort is kept."""
        if self._rows == 0 and len(frame):
            self._retype_columns(frame)
        new_columns = [c for c in frame.columns if c not in self._names]
        if new_columns:
            first = len(self._names)
            self.beginInsertColumns(_ROOT, first, first + len(new_columns) - 1)
            self._add_columns(frame, new_columns)
            self.endInsertColumns()
        if len(frame) == 0:
            return
        first = self._rows
        self.beginInsertRows(_ROOT, first, first + len(frame) - 1)
        self._store_rows(frame)
        if self._order is not None:
            self._order = np.concatenate([self._order, np.arange(first, self._rows)])
        self.endInsertRows()
        if self._sort_column >= 0:
            self.sort(self._sort_column, self._sort_order)

    def _retype_columns(self, frame: pd.DataFrame) -> None:
        """Take the column kinds from the first rows: an empty page cannot tell them."""
        for column, name in enumerate(self._names):
            if name in frame.columns:
                self._kinds[column] = _kind_of(name, frame[name])
                self._columns[column] = _Column(name, self._kinds[column], self._capacity)
        if self._names:
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self._names) - 1)

    def _add_columns(self, frame: pd.DataFrame, names: Sequence[str]) -> None:
        for name in names:
            kind = _kind_of(name, frame[name])
            self._names.append(name)
            self._kinds.append(kind)
            self._columns.append(_Column(name, kind, self._capacity))
        labels = [header_label(n) for n in self._names]
        repeated = {label for label in labels if labels.count(label) > 1}
        self._headers = [
            n if label in repeated else label for n, label in zip(self._names, labels, strict=True)
        ]
        self._tooltips = [header_tooltip(n) for n in self._names]
        self._run_id_column = self.column_index("run_id")

    def _store_rows(self, frame: pd.DataFrame) -> None:
        count = len(frame)
        needed = self._rows + count
        if needed > self._capacity:
            capacity = max(needed, 2 * self._capacity, 256)
            for column in self._columns:
                column.grow(capacity, self._rows)
            self._capacity = capacity
        for column in self._columns:
            if column.name in frame.columns:
                column.store(frame[column.name], self._rows)
        self._rows = needed

    # -- queries -----------------------------------------------------------------------------
    @property
    def column_names(self) -> list[str]:
        return list(self._names)

    def column_name(self, column: int) -> str:
        return self._names[column]

    def column_index(self, name: str) -> int:
        """The column of this frame column name, or -1."""
        return self._names.index(name) if name in self._names else -1

    def stored_row(self, row: int) -> int:
        return int(self._order[row]) if self._order is not None else row

    def run_id(self, row: int) -> str:
        return str(self._columns[self._run_id_column].raw(self.stored_row(row)))

    def value(self, row: int, column: int) -> Any:
        """The raw value (float or str, None/NaN for missing) at a view position."""
        return self._columns[column].raw(self.stored_row(row))

    @property
    def sort_column(self) -> int:
        return self._sort_column

    # -- QAbstractTableModel -----------------------------------------------------------------
    def rowCount(self, parent: _INDEX = _ROOT) -> int:
        return 0 if parent.isValid() else self._rows

    def columnCount(self, parent: _INDEX = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._names)

    def data(self, index: _INDEX, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        column = index.column()
        kind = self._kinds[column]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT if kind in (_NUMBER, _DURATION) else _LEFT
        row = self.stored_row(index.row())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(self._columns[column].raw(row), kind)
        if role == Qt.ItemDataRole.ToolTipRole:
            value = self._columns[column].raw(row)
            if kind == _NUMBER and not math.isnan(value):
                return repr(float(value))
            return self._display(value, kind) or None
        if role == Qt.ItemDataRole.DecorationRole and kind == _STATUS:
            status = self._columns[column].raw(row)
            return self._status_icon(status) if status else None
        if role == RUN_ID_ROLE and self._run_id_column >= 0:
            return str(self._columns[self._run_id_column].raw(row))
        if role == RAW_VALUE_ROLE:
            return self._columns[column].raw(row)
        return None

    @staticmethod
    def _display(value: Any, kind: str) -> str:
        if kind == _NUMBER:
            return format_number(value)
        if kind == _DURATION:
            return "" if math.isnan(value) else format_duration(float(value))
        if kind == _TIME:
            return "" if math.isnan(value) else format_time_ms(int(value))
        if value is None:
            return ""
        if kind == _STATUS:
            return str(value).capitalize()
        return str(value)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Vertical:
            return str(section + 1) if role == Qt.ItemDataRole.DisplayRole else None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._headers[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltips[section]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT if self._kinds[section] in (_NUMBER, _DURATION) else _LEFT
        return None

    def flags(self, index: _INDEX) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    # -- sorting -----------------------------------------------------------------------------
    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort the view rows by one column, missing values last in either order."""
        if not 0 <= column < len(self._names):
            return
        self._sort_column, self._sort_order = column, order
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        stored = [self.stored_row(index.row()) for index in persistent]
        self._order = self._argsort(column, order)
        view_row_of = np.empty(self._rows, dtype=np.intp)
        view_row_of[self._order] = np.arange(self._rows)
        self.changePersistentIndexList(
            persistent,
            [
                self.index(int(view_row_of[row]), index.column())
                for row, index in zip(stored, persistent, strict=True)
            ],
        )
        self.layoutChanged.emit()

    def _argsort(self, column: int, order: Qt.SortOrder) -> npt.NDArray[np.intp]:
        key = self._columns[column].sort_key(self._rows)
        return _argsort_floats(key, order == Qt.SortOrder.DescendingOrder)

    def _status_icon(self, status: str) -> QIcon:
        icon = self._icons.get(status)
        if icon is None:
            pixmap = QPixmap(12, 12)
            pixmap.fill(Qt.GlobalColor.transparent)
            painter = QPainter(pixmap)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(STATUS_COLOURS.get(status, "#9aa0a8")))
            painter.drawEllipse(1, 1, 10, 10)
            painter.end()
            icon = self._icons[status] = QIcon(pixmap)
        return icon


def _argsort_floats(values: npt.NDArray[np.float64], descending: bool) -> npt.NDArray[np.intp]:
    """A stable argsort with NaN last: numpy puts NaN last, and -NaN is NaN too."""
    return np.argsort(-values if descending else values, kind="stable").astype(np.intp)
