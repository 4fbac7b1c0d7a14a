"""The Compare view: a few runs side by side — param diff, metric table, overlaid histories.

With no runs chosen it compares the top runs of the largest experiment; `compare(run_ids)`
compares any others. Each run keeps one colour across both tables and the chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyqtgraph as pg
from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QIcon, QPalette, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from mlops_desktop.domain.tracking import MetricHistory
from mlops_desktop.services.compare import (
    DefaultComparison,
    default_history_key,
    load_default_comparison,
    load_histories,
    metric_keys,
    metric_table,
    param_diff,
    rows_that_differ,
    run_labels,
)
from mlops_desktop.services.experiments import METRIC_PREFIX, load_runs_by_id
from mlops_desktop.services.workspace import Workspace
from mlops_desktop.ui.context import UiContext
from mlops_desktop.ui.runs_table_model import format_number
from mlops_desktop.ui.views.base import View
from mlops_desktop.ui.widgets import EmptyState, plain

_INDEX = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
#: Distinct on light and dark backgrounds (Okabe-Ito and tab10, reordered).
RUN_COLOURS = (
    "#1f77b4",
    "#e4572e",
    "#2ca02c",
    "#9467bd",
    "#e6a000",
    "#17becf",
    "#d62790",
    "#8c564b",
    "#7f7f7f",
    "#bcbd22",
)
_BEST_BACKGROUND = QColor(46, 157, 91, 56)
_BETTER = QColor("#2e9d5b")
_WORSE = QColor("#d93f3f")

pg.setConfigOptions(antialias=True)


def run_colours(count: int) -> list[QColor]:
    """One colour per run position: a fixed palette first, then evenly spread hues."""
    if count <= len(RUN_COLOURS):
        return [QColor(c) for c in RUN_COLOURS[:count]]
    return [
        QColor(RUN_COLOURS[i]) if i < len(RUN_COLOURS) else pg.intColor(i, count)
        for i in range(count)
    ]


def swatch(colour: QColor) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(colour)
    return QIcon(pixmap)


class _RunColumnsModel(QAbstractTableModel):
    """A table with one column per compared run, headed by its label and colour."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._run_ids: list[str] = []
        self._labels: list[str] = []
        self._icons: list[QIcon] = []
        self._row_names: list[str] = []

    def set_runs(
        self, run_ids: Sequence[str], labels: dict[str, str], colours: Sequence[QColor]
    ) -> None:
        self._run_ids = list(run_ids)
        self._labels = [labels[r] for r in run_ids]
        self._icons = [swatch(c) for c in colours]

    def rowCount(self, parent: _INDEX = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._row_names)

    def columnCount(self, parent: _INDEX = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._run_ids)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Vertical:
            if role == Qt.ItemDataRole.DisplayRole and section < len(self._row_names):
                return self._row_names[section]
            return None
        if section >= len(self._run_ids):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._labels[section] + (" (baseline)" if section == 0 else "")
        if role == Qt.ItemDataRole.DecorationRole:
            return self._icons[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{self._labels[section]}\nrun {self._run_ids[section]}"
        return None


class ParamDiffModel(_RunColumnsModel):
    """Params (rows) by run (columns); rows whose values differ can be bold."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._values: np.ndarray[Any, Any] = np.empty((0, 0), dtype=object)
        self._differs: np.ndarray[Any, Any] = np.empty(0, dtype=bool)

    def set_table(self, table: pd.DataFrame, bold_differences: bool = True) -> None:
        """Show a `services.compare.param_diff` table; bold the rows that differ, if asked."""
        self.beginResetModel()
        self._row_names = [str(name) for name in table.index]
        self._values = table.to_numpy(dtype=object)
        differs = rows_that_differ(table)
        self._differs = differs if bold_differences else np.zeros_like(differs)
        self.endResetModel()

    def data(self, index: _INDEX, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        value = self._values[index.row(), index.column()]
        missing = value is None or (isinstance(value, float) and np.isnan(value))
        if role == Qt.ItemDataRole.DisplayRole:
            return "—" if missing else str(value)
        if role == Qt.ItemDataRole.ToolTipRole:
            return "not set for this run" if missing else str(value)
        if role == Qt.ItemDataRole.FontRole and self._differs[index.row()]:
            font = QFont()
            font.setBold(True)
            return font
        return None


class MetricTableModel(_RunColumnsModel):
    """Metrics (rows) by run (columns): the value and its delta to the baseline; best in bold."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._bold = QFont()
        self._bold.setBold(True)
        self._set_cells(pd.DataFrame(columns=["metric", "run_id"]))

    def set_table(self, table: pd.DataFrame) -> None:
        """Show a `services.compare.metric_table` (long format) as a metric-by-run grid."""
        self.beginResetModel()
        self._set_cells(table)
        self.endResetModel()

    def _set_cells(self, table: pd.DataFrame) -> None:
        self._row_names = list(dict.fromkeys(str(m) for m in table["metric"]))
        rows = {name: i for i, name in enumerate(self._row_names)}
        columns = {run_id: i for i, run_id in enumerate(self._run_ids)}
        #: (row, column) -> position in the arrays below
        self._cells = {
            (rows[str(metric)], columns[run_id]): position
            for position, (metric, run_id) in enumerate(
                zip(table["metric"], table["run_id"], strict=True)
            )
            if run_id in columns
        }
        empty = pd.Series(dtype=object)
        self._value = table.get("value", empty).to_numpy(dtype=np.float64)
        self._delta = table.get("delta", empty).to_numpy(dtype=np.float64)
        self._is_baseline = table.get("is_baseline", empty).to_numpy(dtype=bool)
        self._is_best = table.get("is_best", empty).to_numpy(dtype=bool)
        self._better = table.get("better_than_baseline", empty).to_numpy(dtype=object)
        self._lower = table.get("lower_is_better", empty).to_numpy(dtype=bool)
        self._metric = table["metric"].to_numpy(dtype=object)

    def data(self, index: _INDEX, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        position = self._cells.get((index.row(), index.column()))
        if position is None:
            return "—" if role == Qt.ItemDataRole.DisplayRole else None
        value, delta = float(self._value[position]), float(self._delta[position])
        best = bool(self._is_best[position])
        if role == Qt.ItemDataRole.DisplayRole:
            if np.isnan(value):
                return "—"
            if self._is_baseline[position] or np.isnan(delta):
                return format_number(value)
            return f"{format_number(value)}  ({delta:+.3g})"
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        if role == Qt.ItemDataRole.FontRole and best:
            return self._bold
        if role == Qt.ItemDataRole.BackgroundRole and best:
            return _BEST_BACKGROUND
        if role == Qt.ItemDataRole.ForegroundRole:
            better = self._better[position]
            if better is True:
                return _BETTER
            if better is False:
                return _WORSE
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            direction = "lower" if self._lower[position] else "higher"
            lines = [f"{self._metric[position]} = {value!r} ({direction} is better)"]
            if not self._is_baseline[position] and not np.isnan(delta):
                lines.append(f"{delta:+.6g} vs the baseline")
            if best:
                lines.append("best of the compared runs")
            return "\n".join(lines)
        return None


def _table_view() -> QTableView:
    table = QTableView()
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    table.verticalHeader().setDefaultAlignment(
        Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
    )
    table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
    return table


class _Panel(QWidget):
    """A bold title with optional controls to its right, above one main widget."""

    def __init__(self, title: str, controls: QHBoxLayout, *widgets: QWidget) -> None:
        super().__init__()
        self.main = QVBoxLayout(self)
        self.main.setContentsMargins(0, 0, 0, 0)
        heading = plain(title)
        font = heading.font()
        font.setBold(True)
        heading.setFont(font)
        self.top = QHBoxLayout()
        self.top.addWidget(heading)
        self.top.addStretch(1)
        self.top.addLayout(controls)
        self.main.addLayout(self.top)
        for widget in widgets:
            self.main.addWidget(widget, 1 if widget is widgets[-1] else 0)

    def chrome_height(self) -> int:
        """The height the panel needs besides its main widget."""
        return self.top.sizeHint().height() + self.main.spacing()


class CompareView(View):
    view_id = "compare"
    title = "Compare runs"
    subtitle = "Loading the runs to compare…"

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.only_differences = QCheckBox("Only differences")
        self.only_differences.setChecked(True)
        self.only_differences.toggled.connect(self._on_only_differences_toggled)
        self.param_model = ParamDiffModel(self)
        self.param_table = _table_view()
        self.param_table.setObjectName("paramTable")
        self.param_table.setModel(self.param_model)
        self.metric_model = MetricTableModel(self)
        self.metric_table = _table_view()
        self.metric_table.setObjectName("metricTable")
        self.metric_table.setModel(self.metric_model)
        only_row = QHBoxLayout()
        only_row.addWidget(self.only_differences)
        metric_note = QHBoxLayout()
        metric_note.addWidget(plain("best in bold · (change vs the baseline; green = better)"))

        self.metric_combo = QComboBox()
        self.metric_combo.setMinimumContentsLength(16)
        self.metric_combo.setToolTip("The metric whose history the chart shows")
        self.metric_combo.currentTextChanged.connect(self._on_metric_combo_text_changed)
        combo_row = QHBoxLayout()
        combo_row.addWidget(plain("Metric"))
        combo_row.addWidget(self.metric_combo)
        self.chart_note = plain("")
        self.chart_note.hide()
        self.plot_widget = pg.PlotWidget()
        self.plot_widget.setObjectName("historyChart")
        self.plot = self.plot_widget.getPlotItem()
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.plot.setLabel("bottom", "step")
        for name in ("left", "bottom"):
            # "val_loss (x0.001)" reads worse than the values themselves
            self.plot.getAxis(name).enableAutoSIPrefix(False)
        self.legend = self.plot.addLegend(offset=(-12, 12), labelTextSize="9pt")
        #: run id -> its curve on the chart (one PlotDataItem per run, updated with setData)
        self.curves: dict[str, pg.PlotDataItem] = {}

        self.metrics_panel = _Panel("Metrics (latest value)", metric_note, self.metric_table)
        self.params_panel = _Panel("Parameters", only_row, self.param_table)
        chart = _Panel("History", combo_row, self.chart_note, self.plot_widget)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        for panel in (self.metrics_panel, self.params_panel, chart):
            self.splitter.addWidget(panel)
        self.splitter.setStretchFactor(2, 1)
        self.splitter.setChildrenCollapsible(False)

        self.empty = EmptyState("Loading the runs to compare…", "")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.splitter)
        self.body.addWidget(self.stack, 1)

        self._requested: list[str] | None = None
        self._frame = pd.DataFrame()
        self._run_ids: list[str] = []
        self._labels: dict[str, str] = {}
        self._colours: list[QColor] = []
        self._history_cache: dict[tuple[str, str], MetricHistory] = {}
        self._cache_for: Workspace | None = None
        self._apply_palette()

    # -- public ------------------------------------------------------------------------------
    def compare(self, run_ids: list[str]) -> None:
        """Compare these runs (the first is the baseline) instead of the default selection."""
        self._requested = list(dict.fromkeys(run_ids))
        self.header.subtitle.setText(f"Loading {len(self._requested)} runs…")
        self.reload()

    @property
    def run_ids(self) -> list[str]:
        """The runs compared now, baseline first."""
        return list(self._run_ids)

    @property
    def history_key(self) -> str:
        return self.metric_combo.currentText()

    # -- loading -----------------------------------------------------------------------------
    def load(self, workspace: Workspace) -> None:
        if self._cache_for is not workspace:
            self._history_cache.clear()
            self._cache_for = workspace
        self.empty.set_text("Loading the runs to compare…", f"Reading {workspace.location}")
        if not self._run_ids:
            self.stack.setCurrentWidget(self.empty)
        if self._requested:
            self.tasks.run(
                load_runs_by_id,
                workspace.tracking,
                self._requested,
                on_done=self._on_requested_runs_loaded,
                on_error=lambda e: self.show_error(e, "load the runs to compare"),
                description="Loading the runs to compare",
                slot="comparison",
            )
        else:
            self.tasks.run(
                load_default_comparison,
                workspace.tracking,
                on_done=self._on_default_comparison_loaded,
                on_error=lambda e: self.show_error(e, "load the runs to compare"),
                description="Finding the best runs to compare",
                slot="comparison",
            )

    def _on_default_comparison_loaded(self, result: DefaultComparison) -> None:
        if not result.run_ids or result.experiment is None:
            self._show_nothing()
            return
        metric = result.metric.removeprefix(METRIC_PREFIX)
        self.header.subtitle.setText(
            f"Top {len(result.run_ids)} runs of {result.experiment.name} by {metric} — "
            "select runs in Experiments to compare others"
        )
        self._show_comparison(result.frame, result.run_ids)

    def _on_requested_runs_loaded(self, frame: pd.DataFrame) -> None:
        run_ids = [str(r) for r in frame["run_id"]] if len(frame) else []
        if not run_ids:
            self._show_nothing()
            return
        self.header.subtitle.setText(
            f"{len(run_ids)} selected runs — deltas are against the first, "
            f"{run_labels(frame, run_ids)[run_ids[0]]}"
        )
        self._show_comparison(frame, run_ids)

    def _show_nothing(self) -> None:
        self._run_ids = []
        self.header.subtitle.setText("Nothing to compare")
        self.empty.set_text(
            "Nothing to compare yet",
            "This workspace has no runs to compare. Select two or more runs in Experiments "
            "and press \u201cCompare selected\u201d.",
        )
        self.stack.setCurrentWidget(self.empty)
        self.mark_ready()

    def _show_comparison(self, frame: pd.DataFrame, run_ids: list[str]) -> None:
        self._frame, self._run_ids = frame, run_ids
        self._labels = run_labels(frame, run_ids)
        self._colours = run_colours(len(run_ids))
        for model in (self.param_model, self.metric_model):
            model.set_runs(run_ids, self._labels, self._colours)
        self._update_param_table()
        self.metric_model.set_table(metric_table(frame, run_ids, run_ids[0]))
        self.stack.setCurrentWidget(self.splitter)
        for table in (self.param_table, self.metric_table):
            table.resizeColumnsToContents()
        self._fit_tables()
        self._rebuild_curves()
        keys = metric_keys(frame, run_ids)
        previous = self.metric_combo.currentText()
        self.metric_combo.blockSignals(True)
        self.metric_combo.clear()
        self.metric_combo.addItems(keys)
        key = previous if previous in keys else default_history_key(keys)
        self.metric_combo.setCurrentText(key or "")
        self.metric_combo.blockSignals(False)
        if key is None:
            self.chart_note.setText("These runs logged no metric.")
            self.mark_ready()
            return
        self._load_histories(key)

    def _fit_tables(self) -> None:
        """Give each table the height of its rows (within bounds), the chart the rest."""
        # The stack is laid out even while the splitter was hidden behind the empty state.
        total = self.stack.height()
        heights = []
        for table, panel in (
            (self.metric_table, self.metrics_panel),
            (self.param_table, self.params_panel),
        ):
            rows = max(1, table.model().rowCount())
            wanted = (
                table.horizontalHeader().sizeHint().height()
                + rows * table.verticalHeader().defaultSectionSize()
                + table.horizontalScrollBar().sizeHint().height()
                + 2 * table.frameWidth()
                + panel.chrome_height()
                + 4
            )
            heights.append(min(wanted, int(total * 0.3)))
        self.splitter.setSizes([*heights, max(240, total - sum(heights))])

    def _update_param_table(self) -> None:
        only = self.only_differences.isChecked()
        table = param_diff(self._frame, self._run_ids, only)
        self.param_model.set_table(table, bold_differences=not only)

    def _load_histories(self, key: str) -> None:
        workspace = self.ctx.workspace
        missing = [r for r in self._run_ids if (r, key) not in self._history_cache]
        if not missing or workspace is None:
            self._draw_histories(key)
            return
        self.chart_note.setText(f"Loading the {key} history of {len(missing)} runs…")
        self.tasks.run(
            load_histories,
            workspace.tracking,
            missing,
            key,
            on_done=lambda histories: self._on_histories_loaded(key, histories),
            on_error=lambda e: self.show_error(e, f"load the {key} histories"),
            description=f"Loading {key} histories",
            slot="histories",
        )

    def _on_histories_loaded(self, key: str, histories: list[MetricHistory]) -> None:
        for history in histories:
            self._history_cache[(history.run_id, key)] = history
        if key == self.metric_combo.currentText():
            self._draw_histories(key)

    # -- chart -------------------------------------------------------------------------------
    def _rebuild_curves(self) -> None:
        """One curve per compared run, coloured and named like the table columns."""
        for curve in self.curves.values():
            self.plot.removeItem(curve)
        self.curves = {}
        for run_id, colour in zip(self._run_ids, self._colours, strict=True):
            curve = pg.PlotDataItem(pen=pg.mkPen(colour, width=2), name=self._labels[run_id])
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
            self.plot.addItem(curve)
            self.curves[run_id] = curve

    def _draw_histories(self, key: str) -> None:
        empty = []
        for run_id, curve in self.curves.items():
            history = self._history_cache.get((run_id, key))
            if history is None or len(history) == 0:
                curve.setData([], [])
                empty.append(self._labels[run_id])
                continue
            curve.setData(history.steps.astype(np.float64), history.values)
        self.plot.setLabel("left", key)
        self.plot.enableAutoRange()
        self.chart_note.setText(f"No {key} history for: {', '.join(empty)}" if empty else "")
        self.chart_note.setVisible(bool(empty))
        self.mark_ready()

    def _apply_palette(self) -> None:
        palette = self.palette()
        background = palette.color(QPalette.ColorRole.Window)
        text = palette.color(QPalette.ColorRole.WindowText)
        self.plot_widget.setBackground(background)
        for name in ("left", "bottom"):
            axis = self.plot.getAxis(name)
            axis.setPen(pg.mkPen(palette.color(QPalette.ColorRole.Mid)))
            axis.setTextPen(pg.mkPen(text))
        legend_background = QColor(background)
        legend_background.setAlpha(220)
        self.legend.setBrush(pg.mkBrush(legend_background))
        self.legend.setPen(pg.mkPen(palette.color(QPalette.ColorRole.Mid)))
        self.legend.setLabelTextColor(text)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
        super().changeEvent(event)

    # -- user actions ----------------------------------------------------------------------
    def _on_only_differences_toggled(self, _: bool) -> None:
        if self._run_ids:
            self._update_param_table()
            self.param_table.resizeColumnsToContents()

    def _on_metric_combo_text_changed(self, key: str) -> None:
        if key and self._run_ids:
            self._load_histories(key)
