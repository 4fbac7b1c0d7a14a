"""RunsTableModel: a Qt table model over a runs DataFrame, O(1) per cell, sorted by permutation.

Each column is one numpy array that grows by doubling as pages are appended: numbers, times
and durations as float64 (NaN for missing), text as int32 codes into the column's distinct
values (-1 for missing; a sweep's params have few). `data()` reads one element and formats it
only when asked. Nothing ever moves the data: sorting argsorts one column's float key, the
quick filter hands in a row mask, pinned runs are a boolean per row, and the three combine
into `_order`, the index array from view rows to stored rows (pinned first).

The model stores only the columns it shows (and `run_id`): with `columns=` it shows that
chosen list, in that order, and the caller's frame keeps the rest (`set_columns` brings one in
on demand); without, it shows every column of the frames it is given.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPointF,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap

from mlops_desktop.services.experiments import METRIC_PREFIX, PARAM_PREFIX, TAG_PREFIX
from mlops_desktop.services.grouping import text_ranks
from mlops_desktop.ui.format import format_duration, format_time_ms

#: Data role returning the run id of a row, whatever the column.
RUN_ID_ROLE = Qt.ItemDataRole.UserRole + 1
#: Data role returning the raw stored value (float, str or None) of a cell.
RAW_VALUE_ROLE = Qt.ItemDataRole.UserRole + 2
#: Data role answering whether the row's run is pinned.
PINNED_ROLE = Qt.ItemDataRole.UserRole + 4

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
#: The colour of the pin mark and, translucent, of a pinned row's background.
PIN_COLOUR = "#d9822b"
_TEXT, _NUMBER, _TIME, _DURATION, _STATUS = "text", "number", "time", "duration", "status"
_INDEX = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
Mask = npt.NDArray[np.bool_]


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

    def codes_of(self, texts: Iterable[str]) -> list[int]:
        """The codes of those of `texts` the column holds."""
        return [self._codes[t] for t in texts if t in self._codes]

    def raw(self, row: int) -> Any:
        """The stored value: a float (NaN missing), or a str (None missing)."""
        if not self.is_text:
            return self.values[row]
        code = self.values[row]
        return None if code < 0 else self.categories[code]

    def copy_text(self, row: int) -> str:
        """The value for the clipboard: full precision, local ISO times, no tabs or newlines."""
        value = self.raw(row)
        if self.is_text:
            return "" if value is None else " ".join(str(value).split())
        if math.isnan(value):
            return ""
        if self.kind == _TIME:
            stamp = dt.datetime.fromtimestamp(value / 1000)
            return stamp.isoformat(sep=" ", timespec="seconds")
        if float(value).is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(float(value))

    def sort_key(self, rows: int) -> npt.NDArray[np.float64]:
        """A float per row that sorts like the column (NaN for missing)."""
        if not self.is_text:
            return np.asarray(self.values[:rows], dtype=np.float64)
        # Numeric-looking params sort as numbers, other text ignoring case: the grouping's rule.
        ranks = np.append(text_ranks(self.categories), np.nan)  # code -1 indexes this: missing
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


def pin_icon(size: int = 14) -> QIcon:
    """A pushpin, drawn (no image file): the mark of a pinned run."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    colour = QColor(PIN_COLOUR)
    scale = size / 14
    painter.scale(scale, scale)
    painter.translate(7, 7)
    painter.rotate(40)  # a pin leaning right reads as "pinned", not as a location marker
    painter.setPen(QPen(colour.darker(130), 1.4))
    painter.drawLine(QPointF(0, 1), QPointF(0, 7))  # the needle
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QBrush(colour))
    head = QPainterPath()
    head.addRoundedRect(-3.0, -6.5, 6.0, 3.0, 1.0, 1.0)
    head.addRect(-1.8, -4.0, 3.6, 3.2)
    head.addRoundedRect(-4.2, -1.2, 8.4, 2.4, 1.0, 1.0)
    painter.drawPath(head.simplified())
    painter.end()
    return QIcon(pixmap)


class RunsTableModel(QAbstractTableModel):
    """One row per run, one column per chosen frame column; read-only."""

    def __init__(
        self,
        frame: pd.DataFrame | None = None,
        parent: QObject | None = None,
        columns: Sequence[str] | None = None,
    ) -> None:
        super().__init__(parent)
        self._names: list[str] = []  # shown columns, in order
        self._headers: list[str] = []
        self._tooltips: list[str] = []
        self._columns: list[_Column] = []  # parallel to _names
        self._store: dict[str, _Column] = {}  # shown columns and run_id
        self._chosen = None if columns is None else list(columns)  # None: every column
        self._rows = 0
        self._capacity = 0
        self._visible: Mask | None = None  # quick filter mask over stored rows
        self._pinned_ids: set[str] = set()
        self._pinned: Mask = np.zeros(0, dtype=bool)
        self._sort_perm: npt.NDArray[np.intp] | None = None  # stored rows in sort order
        self._order: npt.NDArray[np.intp] | None = None  # view row -> stored row
        self._sort_column = -1
        self._sort_order = Qt.SortOrder.AscendingOrder
        self._icons: dict[str, QIcon] = {}
        self._pin_icon: QIcon | None = None
        self._pin_brush = QBrush(QColor(217, 130, 43, 38))
        if frame is not None:
            self.set_frame(frame, columns)

    # -- loading -----------------------------------------------------------------------------
    def set_frame(self, frame: pd.DataFrame, columns: Sequence[str] | None = None) -> None:
        """Replace everything with this frame, showing `columns` (all by default).

        The sort column is kept when it is still shown, and so are the pinned run ids; the
        row mask is dropped (it described other rows).
        """
        sort_name = self.column_name(self._sort_column) if self._sort_column >= 0 else None
        self.beginResetModel()
        self._chosen = None if columns is None else list(columns)
        self._names, self._columns, self._store = [], [], {}
        self._rows, self._capacity = 0, 0
        self._visible, self._pinned = None, np.zeros(0, dtype=bool)
        self._sort_perm, self._order = None, None
        self._add_columns(frame, self._wanted_in(frame))
        self._store_rows(frame)
        self._mark_pinned(0, self._rows)
        self._sort_column = self._names.index(sort_name) if sort_name in self._names else -1
        if self._sort_column >= 0:
            self._sort_perm = self._argsort(self._sort_column, self._sort_order)
        self._order = self._compute_order()
        self.endResetModel()

    def clear(self) -> None:
        self.set_frame(pd.DataFrame(), self._chosen)

    def append_frame(self, frame: pd.DataFrame, visible: Mask | None = None) -> None:
        """Append a page of runs; `visible` is the quick filter's mask over its rows.

        New columns (every new one, or the chosen ones this page is the first to have) are
        inserted where they belong; an active sort and the pinned runs are kept.
        """
        if self._rows == 0 and len(frame):
            self._retype_columns(frame)
        self._insert_new_columns(frame)
        if len(frame) == 0:
            return
        first_stored, first_view = self._rows, self.rowCount()
        end = first_stored + len(frame)
        if visible is not None and self._visible is None:
            if self._order is None:  # every row was shown in loading order so far
                self._order = np.arange(first_stored, dtype=np.intp)
            self._visible = np.ones(self._capacity, dtype=bool)
        self._write_rows(frame)
        new_rows = np.arange(first_stored, end, dtype=np.intp)
        if self._visible is not None:
            self._visible[first_stored:end] = True if visible is None else visible
            new_rows = new_rows[self._visible[first_stored:end]]
        new_pins = self._mark_pinned(first_stored, end)
        if len(new_rows):
            self.beginInsertRows(_ROOT, first_view, first_view + len(new_rows) - 1)
            self._rows = end
            if self._order is not None:
                self._order = np.concatenate([self._order, new_rows])
            self.endInsertRows()
        self._rows = end
        if self._sort_column >= 0:
            self.sort(self._sort_column, self._sort_order)
        elif new_pins:
            self._relayout()

    def set_columns(self, names: Sequence[str], frame: pd.DataFrame) -> None:
        """Show these columns, in this order; `frame` holds every stored row (same order) and
        gives the data of the columns not stored yet. Sort, mask and pins are kept."""
        wanted = [name for name in dict.fromkeys(names) if name in frame.columns]
        if len(frame) != self._rows:
            raise ValueError(f"The frame has {len(frame)} rows, the table {self._rows}.")
        sort_name = self.column_name(self._sort_column) if self._sort_column >= 0 else None
        self.beginResetModel()
        self._chosen = list(names)
        kept = {name: self._store[name] for name in wanted if name in self._store}
        run_id = self._store.get("run_id")
        self._names, self._columns = [], []
        self._store = {"run_id": run_id} if run_id is not None else {}
        for name in wanted:
            column = kept.get(name)
            if column is None:
                column = _Column(name, _kind_of(name, frame[name]), self._capacity)
                column.store(frame[name], 0)
            self._show(name, column)
        self._refresh_headers()
        self._sort_column = self._names.index(sort_name) if sort_name in self._names else -1
        if self._sort_column < 0:
            self._sort_perm = None
        self._order = self._compute_order()
        self.endResetModel()

    def _wanted_in(self, frame: pd.DataFrame) -> list[str]:
        if self._chosen is None:
            return list(frame.columns)
        return [name for name in self._chosen if name in frame.columns]

    def _retype_columns(self, frame: pd.DataFrame) -> None:
        """Take the column kinds from the first rows: an empty page cannot tell them."""
        for name in list(self._store):
            if name in frame.columns:
                column = _Column(name, _kind_of(name, frame[name]), self._capacity)
                self._store[name] = column
                if name in self._names:
                    self._columns[self._names.index(name)] = column
        if self._names:
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self._names) - 1)

    def _insert_new_columns(self, frame: pd.DataFrame) -> None:
        if "run_id" in frame.columns and "run_id" not in self._store:
            self._store["run_id"] = _Column("run_id", _TEXT, self._capacity)
        new = [name for name in self._wanted_in(frame) if name not in self._names]
        if self._chosen is None:
            if new:
                first = len(self._names)
                self.beginInsertColumns(_ROOT, first, first + len(new) - 1)
                self._add_columns(frame, new)
                self.endInsertColumns()
            return
        order = {name: position for position, name in enumerate(self._chosen)}
        for name in new:  # each at its place in the chosen order
            at = sum(1 for shown in self._names if order[shown] < order[name])
            self.beginInsertColumns(_ROOT, at, at)
            # Empty for the rows stored so far: earlier pages did not have this key.
            column = self._store.get(name) or _Column(
                name, _kind_of(name, frame[name]), self._capacity
            )
            self._names.insert(at, name)
            self._columns.insert(at, column)
            self._store[name] = column
            if self._sort_column >= at:
                self._sort_column += 1
            self._refresh_headers()
            self.endInsertColumns()

    def _add_columns(self, frame: pd.DataFrame, names: Sequence[str]) -> None:
        for name in names:
            self._show(name, _Column(name, _kind_of(name, frame[name]), self._capacity))
        if "run_id" in frame.columns and "run_id" not in self._store:
            self._store["run_id"] = _Column("run_id", _TEXT, self._capacity)
        self._refresh_headers()

    def _show(self, name: str, column: _Column) -> None:
        self._names.append(name)
        self._columns.append(column)
        self._store[name] = column

    def _refresh_headers(self) -> None:
        labels = [header_label(n) for n in self._names]
        repeated = {label for label in labels if labels.count(label) > 1}
        self._headers = [
            n if label in repeated else label for n, label in zip(self._names, labels, strict=True)
        ]
        self._tooltips = [header_tooltip(n) for n in self._names]

    def _store_rows(self, frame: pd.DataFrame) -> None:
        self._write_rows(frame)
        self._rows += len(frame)

    def _write_rows(self, frame: pd.DataFrame) -> None:
        """Write the frame's rows after the stored ones (growing the arrays); `_rows` is
        left to the caller, which counts them in when the view is told."""
        needed = self._rows + len(frame)
        if needed > self._capacity:
            capacity = max(needed, 2 * self._capacity, 256)
            for column in self._store.values():
                column.grow(capacity, self._rows)
            self._pinned = _grown(self._pinned, capacity, self._rows)
            if self._visible is not None:
                self._visible = _grown(self._visible, capacity, self._rows)
            self._capacity = capacity
        for column in self._store.values():
            if column.name in frame.columns:
                column.store(frame[column.name], self._rows)

    # -- queries -----------------------------------------------------------------------------
    @property
    def column_names(self) -> list[str]:
        """The shown columns, in order."""
        return list(self._names)

    @property
    def chosen_columns(self) -> list[str] | None:
        return None if self._chosen is None else list(self._chosen)

    def column_name(self, column: int) -> str:
        return self._names[column]

    def column_index(self, name: str) -> int:
        """The column of this frame column name, or -1."""
        return self._names.index(name) if name in self._names else -1

    def stored_row(self, row: int) -> int:
        return int(self._order[row]) if self._order is not None else row

    def view_row(self, stored: int) -> int:
        """The view row of a stored row, or -1 when the filter hides it."""
        if self._order is None:
            return stored if 0 <= stored < self._rows else -1
        found = np.flatnonzero(self._order == stored)
        return int(found[0]) if len(found) else -1

    def run_id(self, row: int) -> str:
        column = self._store.get("run_id")
        return "" if column is None else str(column.raw(self.stored_row(row)))

    def row_of_run(self, run_id: str) -> int:
        """The view row of a run, or -1 (absent or hidden by the filter)."""
        column = self._store.get("run_id")
        codes = column.codes_of([run_id]) if column is not None else []
        if column is None or not codes:
            return -1
        stored = np.flatnonzero(column.values[: self._rows] == codes[0])
        return self.view_row(int(stored[0])) if len(stored) else -1

    def value(self, row: int, column: int) -> Any:
        """The raw value (float or str, None/NaN for missing) at a view position."""
        return self._columns[column].raw(self.stored_row(row))

    @property
    def sort_column(self) -> int:
        return self._sort_column

    @property
    def total_rows(self) -> int:
        """Every stored run, shown or hidden by the filter."""
        return self._rows

    @property
    def is_filtered(self) -> bool:
        return self._visible is not None

    # -- QAbstractTableModel -----------------------------------------------------------------
    def rowCount(self, parent: _INDEX = _ROOT) -> int:
        if parent.isValid():
            return 0
        return self._rows if self._order is None else len(self._order)

    def columnCount(self, parent: _INDEX = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._names)

    def data(self, index: _INDEX, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        column = self._columns[index.column()]
        kind = column.kind
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT if kind in (_NUMBER, _DURATION) else _LEFT
        row = self.stored_row(index.row())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(column.raw(row), kind)
        if role == Qt.ItemDataRole.ToolTipRole:
            value = column.raw(row)
            if kind == _NUMBER and not math.isnan(value):
                return repr(float(value))
            return self._display(value, kind) or None
        if role == Qt.ItemDataRole.DecorationRole:
            if index.column() == 0 and self._pinned[row]:
                return self._pin()
            if kind == _STATUS:
                status = column.raw(row)
                return self._status_icon(status) if status else None
            return None
        if role == Qt.ItemDataRole.BackgroundRole:
            return self._pin_brush if self._pinned[row] else None
        if role == RUN_ID_ROLE:
            run_id = self._store.get("run_id")
            return None if run_id is None else str(run_id.raw(row))
        if role == RAW_VALUE_ROLE:
            return column.raw(row)
        if role == PINNED_ROLE:
            return bool(self._pinned[row])
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
            return _RIGHT if self._columns[section].kind in (_NUMBER, _DURATION) else _LEFT
        return None

    def flags(self, index: _INDEX) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    # -- sorting, filtering, pinning ---------------------------------------------------------
    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort the view rows by one column, missing values last in either order; -1 restores
        the loading order."""
        if column >= len(self._names):
            return
        self._sort_column, self._sort_order = max(column, -1), order
        self._sort_perm = self._argsort(column, order) if column >= 0 else None
        self._relayout()

    def set_row_mask(self, mask: Mask | None) -> None:
        """Show only the stored rows where `mask` is True (None shows every row); pinned
        runs stay shown."""
        if mask is not None and len(mask) != self._rows:
            raise ValueError(f"The mask has {len(mask)} rows, the table {self._rows}.")
        if mask is None:
            self._visible = None
        else:
            self._visible = np.ones(self._capacity, dtype=bool)
            self._visible[: self._rows] = mask
        self._relayout()

    @property
    def pinned_run_ids(self) -> set[str]:
        return set(self._pinned_ids)

    def set_pinned(self, run_ids: Iterable[str]) -> None:
        """Pin exactly these runs: they stay on top, whatever the sort and the filter."""
        self._pinned_ids = set(run_ids)
        self._pinned[:] = False
        self._mark_pinned(0, self._rows)
        self._relayout()

    def is_pinned(self, row: int) -> bool:
        return bool(self._pinned[self.stored_row(row)])

    def _mark_pinned(self, first: int, end: int) -> bool:
        """Flag the pinned runs among stored rows `first:end`; True when there was one."""
        column = self._store.get("run_id")
        if column is None or not self._pinned_ids:
            return False
        codes = column.codes_of(self._pinned_ids)
        if not codes:
            return False
        hits = np.isin(column.values[first:end], codes)
        self._pinned[first:end] = hits
        return bool(hits.any())

    def _compute_order(self) -> npt.NDArray[np.intp] | None:
        """Sorted, then masked (pinned rows always kept), then the pinned rows first."""
        rows = self._rows
        pinned = self._pinned[:rows]
        any_pinned = bool(pinned.any())
        if self._sort_perm is None and self._visible is None and not any_pinned:
            return None
        order = self._sort_perm if self._sort_perm is not None else np.arange(rows, dtype=np.intp)
        if self._visible is not None:
            keep = self._visible[:rows][order]
            order = order[keep | pinned[order]] if any_pinned else order[keep]
        if any_pinned:
            on_top = pinned[order]
            order = np.concatenate([order[on_top], order[~on_top]])
        return order.astype(np.intp, copy=False)

    def _relayout(self) -> None:
        """Recompute the view order, moving persistent indexes (the selection) with their
        runs; those the filter now hides become invalid."""
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        stored = [self.stored_row(index.row()) for index in persistent]
        self._order = self._compute_order()
        view_row_of = np.full(self._rows, -1, dtype=np.intp)
        if self._order is None:
            view_row_of[:] = np.arange(self._rows)
        else:
            view_row_of[self._order] = np.arange(len(self._order))
        moved = []
        for row, index in zip(stored, persistent, strict=True):
            target = int(view_row_of[row]) if 0 <= row < self._rows else -1
            moved.append(self.index(target, index.column()) if target >= 0 else QModelIndex())
        self.changePersistentIndexList(persistent, moved)
        self.layoutChanged.emit()

    def _argsort(self, column: int, order: Qt.SortOrder) -> npt.NDArray[np.intp]:
        key = self._columns[column].sort_key(self._rows)
        return _argsort_floats(key, order == Qt.SortOrder.DescendingOrder)

    # -- copying -----------------------------------------------------------------------------
    def rows_as_tsv(self, rows: Sequence[int], columns: Sequence[int]) -> str:
        """View rows and columns as tab-separated text with a header line of column names,
        numbers at full precision: what a spreadsheet or pandas.read_csv(sep='\\t') reads."""
        lines = ["\t".join(self._names[c] for c in columns)]
        picked = [self._columns[c] for c in columns]
        for row in rows:
            stored = self.stored_row(row)
            lines.append("\t".join(column.copy_text(stored) for column in picked))
        return "\n".join(lines) + "\n"

    # -- icons -------------------------------------------------------------------------------
    def _pin(self) -> QIcon:
        if self._pin_icon is None:
            self._pin_icon = pin_icon()
        return self._pin_icon

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


def _grown(mask: Mask, capacity: int, rows: int) -> Mask:
    grown = np.zeros(capacity, dtype=bool)
    grown[:rows] = mask[:rows]
    return grown


def _argsort_floats(values: npt.NDArray[np.float64], descending: bool) -> npt.NDArray[np.intp]:
    """A stable argsort with NaN last: numpy puts NaN last, and -NaN is NaN too."""
    return np.argsort(-values if descending else values, kind="stable").astype(np.intp)
