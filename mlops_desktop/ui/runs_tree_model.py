"""RunsTreeModel: runs as a tree, grouped by a param or tag with aggregates, or nested under
their parent runs, over the same columnar storage and formatting as the runs table.

Run cells come from a private `RunsTableModel` over the visible columns that is never sorted,
so its row `r` is frame row `r` and every run cell looks exactly as in the table. The tree
is a few numpy arrays over node ids (the groups first, then one node per run): an index
carries its node id, so `index()`, `parent()` and `data()` are O(1), and sorting rebuilds
the arrays with one `lexsort`, never a Python object per row.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont

from mlops_desktop.services.grouping import (
    AGGREGATES,
    Grouping,
    MetricSummary,
    Nesting,
    group_runs,
    is_number_column,
    nest_runs,
    sort_key,
)
from mlops_desktop.ui.format import format_duration
from mlops_desktop.ui.runs_table_model import (
    RAW_VALUE_ROLE,
    RUN_ID_ROLE,
    RunsTableModel,
    format_number,
    header_label,
)

#: Data role answering True on a group row, False on a run row.
IS_GROUP_ROLE = Qt.ItemDataRole.UserRole + 3

FLAT, NESTED, GROUPED = "flat", "nested", "group"
MODES = (FLAT, NESTED, GROUPED)

_INDEX = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
_DISPLAY = Qt.ItemDataRole.DisplayRole
_HORIZONTAL = Qt.Orientation.Horizontal


class RunsTreeModel(QAbstractItemModel):
    """Runs flat, nested under their parents, or grouped by a column; read-only.

    Node ids: `0 .. groups - 1` are the groups (grouped mode only), `groups + r` is frame
    row `r`. Per node, `_node_parent` holds the parent node (-1 at the top level) and
    `_row_in_parent` its row; `_children[_child_offsets[p]:_child_offsets[p + 1]]` are the
    children of node `p` in view order, the top level being the extra node `_top`.
    """

    def __init__(
        self,
        frame: pd.DataFrame | None = None,
        columns: Sequence[str] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._table = RunsTableModel(parent=self)
        self._frame = pd.DataFrame()
        self._run_ids: pd.Series | None = None
        self._names: list[str] = []
        self._mode = FLAT
        self._group_column = ""
        self._aggregate = "mean"
        self._grouping: Grouping | None = None
        self._nesting: Nesting | None = None
        self._summaries: dict[int, MetricSummary] = {}  # aggregated column -> its summary
        self._groups = 0
        self._top = 0
        self._node_parent: npt.NDArray[np.intp] = np.empty(0, dtype=np.intp)
        self._row_in_parent: npt.NDArray[np.intp] = np.empty(0, dtype=np.intp)
        self._children: npt.NDArray[np.intp] = np.empty(0, dtype=np.intp)
        self._child_offsets: npt.NDArray[np.intp] = np.zeros(2, dtype=np.intp)
        self._sort_column = -1
        self._sort_order = Qt.SortOrder.AscendingOrder
        self._sort_keys: dict[str, npt.NDArray[np.float64]] = {}
        self._bold = QFont()
        self._bold.setBold(True)
        self._italic = QFont()
        self._italic.setItalic(True)
        if frame is not None:
            self.set_frame(frame, columns)

    # -- loading -----------------------------------------------------------------------------
    def set_frame(self, frame: pd.DataFrame, columns: Sequence[str] | None = None) -> None:
        """Show these runs with these columns (all of the frame's by default), in the current
        mode; a grouping by a column the frame lacks falls back to the flat list."""
        names = list(frame.columns if columns is None else columns)
        missing = [name for name in names if name not in frame.columns]
        if missing:
            raise KeyError(f"The runs have no column {missing[0]!r}.")
        sort_name = self.column_name(self._sort_column) if self._sort_column >= 0 else None
        self.beginResetModel()
        self._frame = frame
        self._names = names
        # Only the visible columns: run ids are read from the frame when asked for.
        self._table.set_frame(frame[names])
        self._run_ids = frame["run_id"] if "run_id" in frame.columns else None
        self._sort_keys = {}
        self._sort_column = names.index(sort_name) if sort_name in names else -1
        self._grouping = self._nesting = None
        if self._mode == GROUPED and self._group_column not in frame.columns:
            self._mode, self._group_column = FLAT, ""
        self._build_tree()
        self.endResetModel()

    def set_mode(self, mode: str, column: str = "", aggregate: str = "") -> None:
        """Switch to "flat", "nested" or "group" (by `column`); connect `GroupBar.mode_changed`."""
        if mode == GROUPED:
            self.show_grouped(column, aggregate or self._aggregate)
        elif mode == NESTED:
            self.show_nested()
        elif mode == FLAT:
            self.show_flat()
        else:
            raise ValueError(f"Unknown mode {mode!r}: choose one of {', '.join(MODES)}.")

    def show_flat(self) -> None:
        """Every run at the top level, as in the table."""
        self._change_mode(FLAT, "", None, None)

    def show_nested(self, nesting: Nesting | None = None) -> None:
        """Each run under its parent run. `nesting` may be computed beforehand on a worker."""
        self._change_mode(NESTED, "", None, nesting)

    def show_grouped(
        self, column: str, aggregate: str = "mean", grouping: Grouping | None = None
    ) -> None:
        """Runs grouped by `column`; group rows show `aggregate` in the numeric columns.

        `grouping` may be computed beforehand on a worker, with `group_runs(frame, column,
        model.aggregated_columns)`.
        """
        if column not in self._frame.columns:
            raise KeyError(f"The runs have no column {column!r} to group by.")
        self._check_aggregate(aggregate)
        self._aggregate = aggregate
        self._change_mode(GROUPED, column, grouping, None)

    def set_aggregate(self, aggregate: str) -> None:
        """Show another aggregate in the group rows (re-sorting when sorted by one)."""
        self._check_aggregate(aggregate)
        if aggregate == self._aggregate:
            return
        self._aggregate = aggregate
        if self._mode != GROUPED or not self._groups:
            return
        if self._sort_column in self._summaries:
            self.sort(self._sort_column, self._sort_order)
        for column in self._summaries:
            first = self.index(0, column)
            self.dataChanged.emit(first, self.index(self._groups - 1, column), [_DISPLAY])

    @staticmethod
    def _check_aggregate(aggregate: str) -> None:
        if aggregate not in AGGREGATES:
            raise ValueError(f"Unknown aggregate {aggregate!r}: choose one of mean, min, max.")

    def _change_mode(
        self, mode: str, column: str, grouping: Grouping | None, nesting: Nesting | None
    ) -> None:
        self.beginResetModel()
        self._mode, self._group_column = mode, column
        self._grouping, self._nesting = grouping, nesting
        self._build_tree()
        self.endResetModel()

    def _build_tree(self) -> None:
        """The node arrays of the current mode, then their order under the current sort."""
        runs = len(self._frame)
        self._summaries = {}
        if self._mode == GROUPED:
            grouping = self._grouping
            if (
                grouping is None
                or grouping.column != self._group_column
                or not self._fits(grouping.group_of_row)
            ):
                grouping = group_runs(self._frame, self._group_column, self.aggregated_columns)
            self._grouping = grouping
            self._groups = len(grouping)
            run_parents = grouping.group_of_row.astype(np.intp)
            self._summaries = {
                self._names.index(name): summary
                for name, summary in grouping.metrics.items()
                if name in self._names
            }
        elif self._mode == NESTED:
            if self._nesting is None or not self._fits(self._nesting.parent):
                self._nesting = nest_runs(self._frame)
            self._groups = 0
            run_parents = self._nesting.parent
        else:
            self._groups = 0
            run_parents = np.full(runs, -1, dtype=np.intp)
        groups = self._groups
        node_parent = np.full(groups + runs, -1, dtype=np.intp)
        if self._mode == GROUPED:
            node_parent[groups:] = run_parents  # a run's parent is its group's node
        else:
            node_parent[groups:] = np.where(run_parents >= 0, run_parents + groups, -1)
        self._node_parent = node_parent
        self._top = groups + runs
        self._arrange()

    def _fits(self, per_row: npt.NDArray[np.intp]) -> bool:
        """True when a grouping's or nesting's per-row array (perhaps computed on a worker)
        is of this frame: a stale one is recomputed rather than shown wrong."""
        return len(per_row) == len(self._frame)

    def _arrange(self) -> None:
        """Children per node in view order: sorted by the sort column's key under one parent,
        else groups in value order and runs in frame order."""
        parents = np.where(self._node_parent < 0, self._top, self._node_parent)
        if self._sort_column >= 0:
            key = self._node_keys(self._sort_column)
            if self._sort_order == Qt.SortOrder.DescendingOrder:
                key = -key  # NaN stays NaN, so missing values stay last
            children = np.lexsort((key, parents)).astype(np.intp)
        else:
            children = np.argsort(parents, kind="stable").astype(np.intp)
        counts = np.bincount(parents, minlength=self._top + 1)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.intp)
        row_in_parent = np.empty(self._top, dtype=np.intp)
        row_in_parent[children] = np.arange(self._top) - offsets[parents[children]]
        self._children, self._child_offsets, self._row_in_parent = children, offsets, row_in_parent

    def _node_keys(self, column: int) -> npt.NDArray[np.float64]:
        """A float per node that sorts by `column`: groups by its aggregate (or in value order
        when it has none, "(none)" last), runs by their value."""
        name = self._names[column]
        run_keys = self._sort_keys.get(name)
        if run_keys is None:
            run_keys = self._sort_keys[name] = sort_key(self._frame[name])
        if not self._groups:
            return run_keys
        summary = self._summaries.get(column)
        if summary is not None:
            group_keys = summary.aggregate(self._aggregate)
        else:
            group_keys = np.arange(self._groups, dtype=np.float64)
            if self._grouping is not None and self._grouping.missing_group >= 0:
                group_keys[self._grouping.missing_group] = np.nan
        return np.concatenate([group_keys, run_keys])

    # -- queries -----------------------------------------------------------------------------
    @property
    def mode(self) -> str:
        return self._mode

    @property
    def group_column(self) -> str:
        """The frame column runs are grouped by ("" unless grouped)."""
        return self._group_column

    @property
    def aggregate(self) -> str:
        return self._aggregate

    @property
    def grouping(self) -> Grouping | None:
        return self._grouping if self._mode == GROUPED else None

    @property
    def nesting(self) -> Nesting | None:
        return self._nesting if self._mode == NESTED else None

    @property
    def column_names(self) -> list[str]:
        return list(self._names)

    @property
    def aggregated_columns(self) -> list[str]:
        """The visible numeric columns (metrics, duration) that group rows aggregate."""
        return [name for name in self._names if is_number_column(self._frame[name])]

    def column_name(self, column: int) -> str:
        return self._names[column]

    def column_index(self, name: str) -> int:
        """The column of this frame column name, or -1."""
        return self._names.index(name) if name in self._names else -1

    @property
    def sort_column(self) -> int:
        return self._sort_column

    def is_group(self, index: _INDEX) -> bool:
        return index.isValid() and index.internalId() < self._groups

    def frame_row(self, index: _INDEX) -> int:
        """The frame row of a run's index; -1 for a group row or an invalid index."""
        if not index.isValid() or index.internalId() < self._groups:
            return -1
        return int(index.internalId()) - self._groups

    def run_id(self, index: _INDEX) -> str | None:
        """The run id of a run's row (any column); None for a group row."""
        row = self.frame_row(index)
        if row < 0 or self._run_ids is None:
            return None
        return str(self._run_ids.iat[row])

    def group_run_ids(self, index: _INDEX) -> list[str]:
        """The run ids of a group row's runs, in frame order; [] for a run row."""
        if not self.is_group(index) or self._grouping is None:
            return []
        rows = self._grouping.members(index.internalId())
        return self._frame["run_id"].iloc[rows].astype(str).tolist()

    # -- QAbstractItemModel ------------------------------------------------------------------
    def index(self, row: int, column: int, parent: _INDEX = _ROOT) -> QModelIndex:
        if parent.isValid() and parent.column() != 0:
            return QModelIndex()
        node = self._top if not parent.isValid() else int(parent.internalId())
        start = int(self._child_offsets[node])
        if not (0 <= row < int(self._child_offsets[node + 1]) - start):
            return QModelIndex()
        if not 0 <= column < len(self._names):
            return QModelIndex()
        return self.createIndex(row, column, int(self._children[start + row]))

    def parent(self, index: _INDEX = _ROOT) -> QModelIndex:  # type: ignore[override]
        if not index.isValid():
            return QModelIndex()
        parent = int(self._node_parent[index.internalId()])
        if parent < 0:
            return QModelIndex()
        return self.createIndex(int(self._row_in_parent[parent]), 0, parent)

    def rowCount(self, parent: _INDEX = _ROOT) -> int:
        if not parent.isValid():
            node = self._top
        elif parent.column() != 0:
            return 0
        else:
            node = int(parent.internalId())
        return int(self._child_offsets[node + 1] - self._child_offsets[node])

    def columnCount(self, parent: _INDEX = _ROOT) -> int:
        return len(self._names)

    def data(self, index: _INDEX, role: int = _DISPLAY) -> Any:
        if not index.isValid():
            return None
        node = int(index.internalId())
        if role == IS_GROUP_ROLE:
            return node < self._groups
        if node < self._groups:
            return self._group_data(node, index.column(), role)
        row = node - self._groups
        if role == RUN_ID_ROLE:
            return self.run_id(index)
        if self._mode == NESTED and index.column() == 0 and self._nesting is not None:
            flagged = self._nesting_flag(row, role)
            if flagged is not None:
                return flagged
        return self._table.data(self._table.index(row, index.column()), role)

    def _nesting_flag(self, row: int, role: int) -> Any:
        """Italics and a tooltip on the first cell of a run shown out of its parent."""
        nesting = self._nesting
        assert nesting is not None
        orphan, cut = bool(nesting.orphan[row]), bool(nesting.cycle_cut[row])
        if not (orphan or cut):
            return None
        if role == Qt.ItemDataRole.FontRole:
            return self._italic
        if role == Qt.ItemDataRole.ToolTipRole:
            if orphan:
                return "Its parent run is not in this list (deleted, filtered out, or elsewhere)."
            return "Its parent runs lead back to itself, so it is shown at the top level."
        return None

    def _group_data(self, group: int, column: int, role: int) -> Any:
        grouping = self._grouping
        assert grouping is not None
        if role == Qt.ItemDataRole.FontRole:
            return self._bold
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self._table.headerData(column, _HORIZONTAL, role)
        summary = self._summaries.get(column)
        if role in (_DISPLAY, RAW_VALUE_ROLE):
            if summary is not None:
                value = float(summary.aggregate(self._aggregate)[group])
                if role == RAW_VALUE_ROLE:
                    return value
                return self._format_aggregate(column, value)
            if role == RAW_VALUE_ROLE:
                return None
            if column == 0:
                return self._group_title(group)
            if self._names[column] == grouping.column:
                return grouping.labels[group]
            return ""
        if role == Qt.ItemDataRole.ToolTipRole:
            if summary is not None:
                return self._aggregate_tooltip(column, group, summary)
            return self._group_title(group)
        return None

    def _group_title(self, group: int) -> str:
        grouping = self._grouping
        assert grouping is not None
        count = int(grouping.counts[group])
        runs = "1 run" if count == 1 else f"{count:,} runs"
        return f"{header_label(grouping.column)} = {grouping.labels[group]} · {runs}"

    def _format_aggregate(self, column: int, value: float) -> str:
        if math.isnan(value):
            return ""
        if self._names[column] == "duration_s":
            return format_duration(value)
        return format_number(value)

    def _aggregate_tooltip(self, column: int, group: int, summary: MetricSummary) -> str:
        label = header_label(self._names[column])
        counted, total = int(summary.count[group]), int(self._grouping_counts()[group])
        if not counted:
            return f"None of the {total:,} runs has a value of {label}."
        parts = [
            f"{name} {self._format_aggregate(column, float(summary.aggregate(name)[group]))}"
            for name in AGGREGATES
        ]
        return f"{label}: {', '.join(parts)} over {counted:,} of {total:,} runs"

    def _grouping_counts(self) -> npt.NDArray[np.int64]:
        assert self._grouping is not None
        return self._grouping.counts

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        if orientation != _HORIZONTAL or not 0 <= section < len(self._names):
            return None
        return self._table.headerData(section, orientation, role)

    def flags(self, index: _INDEX) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    # -- sorting -----------------------------------------------------------------------------
    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort siblings by one column, missing values last: groups by their aggregate, runs
        within each group or parent by their value."""
        if not 0 <= column < len(self._names):
            return
        self.layoutAboutToBeChanged.emit()
        self._sort_column, self._sort_order = column, order
        persistent = self.persistentIndexList()
        nodes = [int(index.internalId()) for index in persistent]
        self._arrange()
        self.changePersistentIndexList(
            persistent,
            [
                self.createIndex(int(self._row_in_parent[node]), index.column(), node)
                for node, index in zip(nodes, persistent, strict=True)
            ],
        )
        self.layoutChanged.emit()
