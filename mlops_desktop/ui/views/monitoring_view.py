"""The Monitoring view: a model's production charts, thresholds, alerts and drift ranking.

A model and a time range are picked at the top; `services.monitoring` loads the dashboard on a
worker. Each panel is a pyqtgraph chart (time axis, one curve per series updated in place with
`setData`, peak downsampling, clip to view) with its dashed threshold lines and a status
badge. The charts share their time axis. Beside them, the alert intervals (a click zooms every
chart to one) and the features ranked by their latest drift.
"""

from __future__ import annotations

import html
import time
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mlops_desktop.domain.monitoring import Series
from mlops_desktop.services.monitoring import (
    DEFAULT_RANGE,
    RANGES,
    AlertInterval,
    Dashboard,
    MonitoredModel,
    Panel,
    Status,
    latest_value,
    load_monitored_models,
    load_recent_dashboard,
    series_label,
    status_of,
)
from mlops_desktop.services.workspace import Workspace
from mlops_desktop.ui.context import UiContext
from mlops_desktop.ui.format import format_duration, format_time_ms
from mlops_desktop.ui.views.base import View
from mlops_desktop.ui.widgets import EmptyState, plain

STATUS_COLOURS: dict[Status, str] = {"ok": "#2e9d5b", "warning": "#c98a00", "alert": "#d64545"}
LEVEL_COLOURS = {"warning": STATUS_COLOURS["warning"], "alert": STATUS_COLOURS["alert"]}
#: Curve colours, distinct on light and dark backgrounds.
SERIES_COLOURS = (
    "#2f6fde",
    "#e07b39",
    "#9b59b6",
    "#17a2b8",
    "#8c6d31",
    "#e377c2",
    "#2e9d5b",
    "#7f7f7f",
)
HOVER_RATE_HZ = 30
#: Where along its line each threshold's label sits, so close lines do not stack labels.
LABEL_POSITIONS = (0.98, 0.72, 0.46, 0.2)


def format_value(value: float | None, unit: str) -> str:
    """A sample as a person reads it: "1.25%", "41 ms", "52.3 req/s", "0.311"."""
    if value is None or not np.isfinite(value):
        return "–"
    if unit == "ratio":
        return f"{value * 100:.2f}%"
    if unit == "ms":
        return f"{value:.0f} ms" if abs(value) >= 10 else f"{value:.1f} ms"
    if unit == "req/s":
        return f"{value:.1f} req/s"
    if unit:
        return f"{value:.3f} {unit}" if unit not in ("psi", "score") else f"{value:.3f}"
    return f"{value:.3g}"


def style_badge(label: QLabel, status: Status) -> None:
    label.setText(status.upper())
    label.setStyleSheet(
        f"QLabel {{ color: white; background: {STATUS_COLOURS[status]}; border-radius: 8px;"
        " padding: 1px 9px; font-weight: bold; }"
    )


class PercentAxis(pg.AxisItem):  # type: ignore[misc]
    """A left axis for ratios, labelled in percent."""

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        decimals = 0 if spacing * 100 >= 1 else (1 if spacing * 100 >= 0.1 else 2)
        return [f"{v * 100:.{decimals}f}%" for v in values]


class PanelChart(QFrame):
    """One dashboard panel: title, latest values, status badge, and its chart."""

    def __init__(self, panel: Panel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panelChart")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.key = panel.key
        self.panel: Panel | None = None
        self.title = plain(panel.title)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.readout = plain("")
        self.readout.setObjectName("subtitle")
        # Long readouts are clipped rather than widening the chart grid.
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.badge = plain("")
        self.badge.setObjectName("statusBadge")
        header = QHBoxLayout()
        header.addWidget(self.title)
        header.addSpacing(8)
        header.addWidget(self.readout, 1)
        header.addWidget(self.badge)
        # The legend sits above the chart, never over the data.
        self.legend = QLabel()
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setVisible(len(panel.series) > 1)
        self.legend.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        axes: dict[str, pg.AxisItem] = {"bottom": pg.DateAxisItem(orientation="bottom")}
        if panel.unit == "ratio":
            axes["left"] = PercentAxis(orientation="left")
        self.plot = pg.PlotWidget(axisItems=axes)
        self.plot.setMinimumSize(220, 170)
        item = self.plot.getPlotItem()
        item.setDownsampling(auto=True, mode="peak")
        item.setClipToView(True)
        item.showGrid(x=True, y=True, alpha=0.15)
        item.hideButtons()
        # "psi (x0.001)" reads worse than plain decimals: no SI prefixes on the value axis.
        item.getAxis("left").enableAutoSIPrefix(False)
        if panel.unit and panel.unit != "ratio":
            item.setLabel("left", panel.unit)
        view_box = item.getViewBox()
        view_box.setMouseEnabled(x=True, y=False)
        view_box.setAutoVisible(y=True)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.colours: dict[str, str] = {}
        self._lines: dict[tuple[str, float, tuple[str, ...], float], pg.InfiniteLine] = {}
        self._hover = pg.SignalProxy(
            self.plot.scene().sigMouseMoved,
            rateLimit=HOVER_RATE_HZ,
            slot=self._on_scene_mouse_moved,
            threadSafe=False,
        )
        self._hover.setParent(self)  # dies with the chart, on the GUI thread

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addLayout(header)
        layout.addWidget(self.legend)
        layout.addWidget(self.plot, 1)
        self.apply_palette()

    # -- data ------------------------------------------------------------------------------
    def set_panel(self, panel: Panel) -> None:
        """Show a panel's series, thresholds and status, reusing the existing curves."""
        self.panel = panel
        item = self.plot.getPlotItem()
        for number, series in enumerate(panel.series):
            curve = self.curves.get(series.name)
            if curve is None:
                colour = SERIES_COLOURS[number % len(SERIES_COLOURS)]
                self.colours[series.name] = colour
                curve = item.plot(antialias=True)
                curve.setPen(pg.mkPen(colour, width=1.5))
                curve.setDownsampling(auto=True, method="peak")
                curve.setClipToView(True)
                self.curves[series.name] = curve
            # A series in trouble is drawn thicker, so the eye finds it among its neighbours.
            pen = curve.opts["pen"]
            curve.setPen(pg.mkPen(pen.color(), width=2.5 if status_of(series) != "ok" else 1.5))
            curve.setData(series.timestamps_s, series.values)
            curve.show()
        shown = {s.name for s in panel.series}
        for name, curve in self.curves.items():
            if name not in shown:
                curve.setData([], [])
                curve.hide()
        self.legend.setText(
            "&nbsp;&nbsp;".join(
                f'<span style="color:{self.colours[s.name]}">■</span>&nbsp;'
                f"{html.escape(series_label(s.name))}"
                for s in panel.series
            )
        )
        wanted = {
            (t.level, t.value, t.series, LABEL_POSITIONS[n % len(LABEL_POSITIONS)])
            for n, t in enumerate(panel.thresholds)
        }
        for key in [k for k in self._lines if k not in wanted]:
            line = self._lines.pop(key)
            item.removeItem(line)
            # Delete it here: a removed line left to Python's garbage collector could be
            # destroyed on a worker thread, which crashes Qt.
            line.deleteLater()
        for key in sorted(wanted - set(self._lines), key=lambda k: -k[3]):
            self._lines[key] = self._threshold_line(panel, *key)
        style_badge(self.badge, panel.status)
        self.badge.setToolTip(f"From the latest value of each series: {panel.status}")
        self._show_latest()

    @property
    def lines(self) -> list[pg.InfiniteLine]:
        """The threshold lines drawn now."""
        return list(self._lines.values())

    def _label_fill(self) -> QColor:
        backdrop = QColor(self.palette().color(QPalette.ColorRole.Base))
        backdrop.setAlpha(190)
        return backdrop

    def _threshold_line(
        self, panel: Panel, level: str, value: float, names: tuple[str, ...], position: float
    ) -> pg.InfiniteLine:
        who = (
            ""
            if len(names) == len(panel.series)
            else " ".join(series_label(n) for n in names) + " "
        )
        colour = LEVEL_COLOURS.get(level, "#7a808a")
        line = pg.InfiniteLine(
            pos=value,
            angle=0,
            pen=pg.mkPen(colour, width=1.2, style=Qt.PenStyle.DashLine),
            label=f"{who}{level} {format_value(value, panel.unit)}",
            labelOpts={
                "position": position,
                "color": colour,
                # Anchored at its own position, a label never runs off either end.
                "anchors": [(position, 1), (position, 1)],
                # Over a busy curve a bare label is unreadable: give it the chart's background.
                "fill": pg.mkBrush(self._label_fill()),
            },
        )
        line.setToolTip(f"{who}{level} threshold: {format_value(value, panel.unit)}")
        # Thresholds count in the auto-range, so the headroom to them is always visible.
        self.plot.getPlotItem().addItem(line)
        return line

    def _show_latest(self) -> None:
        panel = self.panel
        if panel is None:
            return
        if not panel.has_data:
            self.readout.setText("no samples in this range")
        elif panel.key == "drift":
            top = max(panel.series, key=lambda s: latest_value(s) or 0.0)
            self.readout.setText(
                f"highest now: {series_label(top.name)} "
                f"{format_value(latest_value(top), panel.unit)}"
            )
        else:
            parts = [
                (series_label(s.name) + " " if len(panel.series) > 1 else "latest ")
                + format_value(latest_value(s), s.unit)
                for s in panel.series
            ]
            self.readout.setText(" · ".join(parts))
        self.readout.setToolTip(self.readout.text())

    def _on_scene_mouse_moved(self, event: tuple[QPointF]) -> None:
        panel, position = self.panel, event[0]
        view_box = self.plot.getPlotItem().getViewBox()
        if (
            panel is None
            or not panel.has_data
            or not view_box.sceneBoundingRect().contains(position)
        ):
            self._show_latest()
            return
        at_s = view_box.mapSceneToView(position).x()
        parts = []
        for series in panel.series:
            if not len(series):
                continue
            index = int(np.clip(np.searchsorted(series.timestamps_s, at_s), 0, len(series) - 1))
            parts.append(
                f"{series_label(series.name)} {format_value(series.values[index], series.unit)}"
            )
        when = format_time_ms(int(at_s * 1000))
        shown = parts if len(parts) <= 3 else [*parts[:3], "…"]
        self.readout.setText(f"{when} · " + " · ".join(shown))

    # -- looks -----------------------------------------------------------------------------
    def apply_palette(self) -> None:
        """Follow the window's palette (light or dark theme)."""
        palette = self.palette()
        base = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.Text)
        self.plot.setBackground(base)
        item = self.plot.getPlotItem()
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            axis.setPen(pg.mkPen(palette.color(QPalette.ColorRole.Mid)))
            axis.setTextPen(pg.mkPen(text))
        for line in self._lines.values():
            line.label.fill = pg.mkBrush(self._label_fill())
            line.label.update()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self.apply_palette()
        super().changeEvent(event)


def short_time(seconds: float) -> str:
    """ "11-24 23:30": month, day and time, for narrow tables (the tooltip has the year)."""
    return format_time_ms(int(seconds * 1000))[5:]


def alert_title(alert: AlertInterval) -> str:
    """ "error_rate ≥ 2.00%", "drift monthly_charges ≥ 0.200"."""
    name = alert.series_name
    label = f"drift {series_label(name)}" if name.startswith("drift.") else name
    return f"{label} ≥ {format_value(alert.threshold, alert.unit)}"


class MonitoringView(View):
    view_id = "monitoring"
    title = "Monitoring"
    subtitle = (
        "Production throughput, errors, latency and drift of a model, with thresholds and "
        "the alerts they raised."
    )

    #: a dashboard finished loading and is shown: the model name, the range key
    dashboard_loaded = Signal(str, str)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.models: list[MonitoredModel] = []
        self.dashboard: Dashboard | None = None
        self.charts: dict[str, PanelChart] = {}
        self._syncing = False

        self.model_combo = QComboBox()
        self.model_combo.setMinimumWidth(240)
        self.model_combo.currentIndexChanged.connect(self._on_model_combo_index_changed)
        self.range_combo = QComboBox()
        for choice in RANGES:
            self.range_combo.addItem(choice.label, choice.key)
        self.range_combo.setCurrentIndex([r.key for r in RANGES].index(DEFAULT_RANGE))
        self.range_combo.currentIndexChanged.connect(self._on_range_combo_index_changed)
        self.whole_range = QPushButton("Show whole range")
        self.whole_range.setToolTip("Undo a zoom (scroll or drag on a chart, or pick an alert)")
        self.whole_range.clicked.connect(self._on_whole_range_clicked)
        self.summary = plain("")
        self.summary.setObjectName("subtitle")
        # Long on a wide window, clipped on a narrow one: it must not widen the window.
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.overall = plain("")
        toolbar = QHBoxLayout()
        toolbar.addWidget(plain("Model"))
        toolbar.addWidget(self.model_combo)
        toolbar.addSpacing(12)
        toolbar.addWidget(plain("Range"))
        toolbar.addWidget(self.range_combo)
        toolbar.addWidget(self.whole_range)
        toolbar.addSpacing(12)
        toolbar.addWidget(self.summary, 1)
        toolbar.addWidget(self.overall)

        self.grid = QGridLayout()
        self.grid.setSpacing(8)
        grid_host = QWidget()
        grid_host.setLayout(self.grid)
        self.grid.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        # Charts shrink to the width there is; only a short window scrolls, vertically.
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(grid_host)
        self.charts_empty = EmptyState("", "")
        self.charts_stack = QStackedWidget()
        self.charts_stack.addWidget(scroll)
        self.charts_stack.addWidget(self.charts_empty)
        self.charts_scroll = scroll

        self.alerts_table = self._table(("Alert", "Started", "Ended", "Peak"))
        self.alerts_table.currentCellChanged.connect(self._on_alerts_table_current_cell_changed)
        self.no_alerts = plain("No alert in this range.")
        alerts_box = QGroupBox("Alerts")
        alerts_layout = QVBoxLayout(alerts_box)
        alerts_layout.addWidget(self.alerts_table)
        alerts_layout.addWidget(self.no_alerts)
        alerts_hint = plain("Pick an alert to zoom every chart to it.")
        alerts_hint.setObjectName("subtitle")
        alerts_layout.addWidget(alerts_hint)

        self.drift_table = self._table(("Feature", "Latest PSI", "Status"))
        self.no_drift = plain("This model has no drift series.")
        drift_box = QGroupBox("Drift ranking")
        drift_layout = QVBoxLayout(drift_box)
        drift_layout.addWidget(self.drift_table)
        drift_layout.addWidget(self.no_drift)

        side = QSplitter(Qt.Orientation.Vertical)
        side.addWidget(alerts_box)
        side.addWidget(drift_box)
        side.setChildrenCollapsible(False)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.charts_stack)
        self.splitter.addWidget(side)
        # Charts get two thirds of any change in width, the side column one third.
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([860, 460])
        self.splitter.setChildrenCollapsible(False)

        content = QWidget()
        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(0, 0, 0, 0)
        content_layout.addLayout(toolbar)
        content_layout.addWidget(self.splitter, 1)
        self.content = content
        self.placeholder = EmptyState("Loading monitoring…", "Reading the model's series.")
        self.pages = QStackedWidget()
        self.pages.addWidget(self.placeholder)
        self.pages.addWidget(content)
        self.body.addWidget(self.pages, 1)

    @staticmethod
    def _table(columns: tuple[str, ...]) -> QTableWidget:
        table = QTableWidget(0, len(columns))
        table.setHorizontalHeaderLabels(columns)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setWordWrap(False)
        table.verticalHeader().hide()
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        return table

    # -- loading ---------------------------------------------------------------------------
    @property
    def range_key(self) -> str:
        return str(self.range_combo.currentData())

    @property
    def model_name(self) -> str | None:
        data = self.model_combo.currentData()
        return str(data) if data is not None else None

    def load(self, workspace: Workspace) -> None:
        self.pages.setCurrentWidget(self.placeholder)
        if workspace.metrics is None:
            self.placeholder.set_text(
                "No monitoring source",
                f"{workspace.label} has no metrics store. Add a Prometheus connection to watch "
                "a model's throughput, errors, latency and drift here.",
            )
            self.mark_ready()
            return
        self.placeholder.set_text("Loading monitoring…", "Finding the monitored models.")
        self.tasks.run(
            load_monitored_models,
            workspace.tracking,
            workspace.metrics,
            on_done=self._on_models_loaded,
            on_error=self._on_load_failed,
            description="Listing monitored models",
        )

    def _on_load_failed(self, error: Exception) -> None:
        self.summary.setText("")
        self.placeholder.set_text(
            "Monitoring could not be loaded", "See the message above, then Retry."
        )
        self.show_error(error, "load the monitoring series")

    def _on_models_loaded(self, models: list[MonitoredModel]) -> None:
        shown = self.model_name
        self.models = models
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for model in models:
            count = f"{model.series_count} series" if model.series_count else "no series"
            self.model_combo.addItem(f"{model.name}  ({count})", model.name)
        names = [m.name for m in models]
        self.model_combo.setCurrentIndex(names.index(shown) if shown in names else 0)
        self.model_combo.blockSignals(False)
        if not models:
            self.placeholder.set_text(
                "No models to monitor",
                "Register a model and point a metrics source at its production endpoint.",
            )
            self.mark_ready()
            return
        self.pages.setCurrentWidget(self.content)
        self.load_dashboard()

    def load_dashboard(self) -> None:
        """(Re)load the dashboard of the picked model and range."""
        workspace, model = self.ctx.workspace, self.model_name
        if workspace is None or workspace.metrics is None or model is None:
            return
        seconds = next(r.seconds for r in RANGES if r.key == self.range_key)
        self.summary.setText(f"Loading {model}…")
        self.tasks.run(
            load_recent_dashboard,
            workspace.metrics,
            model,
            float(seconds),
            time.time(),
            on_done=self._on_dashboard_loaded,
            on_error=self._on_load_failed,
            description=f"Loading the monitoring of {model}",
            slot="dashboard",
        )

    def _on_model_combo_index_changed(self, _index: int) -> None:
        self.load_dashboard()

    def _on_range_combo_index_changed(self, _index: int) -> None:
        self.load_dashboard()

    # -- showing a dashboard ---------------------------------------------------------------
    def _on_dashboard_loaded(self, dashboard: Dashboard) -> None:
        self.dashboard = dashboard
        self._show_charts(dashboard)
        self._show_alerts(dashboard)
        self._show_drift(dashboard)
        series = sum(len(p.series) for p in dashboard.panels)
        self.summary.setText(
            f"{series} series · {dashboard.sample_count:,} samples · "
            f"{format_time_ms(int(dashboard.start_s * 1000))} – "
            f"{format_time_ms(int(dashboard.end_s * 1000))}"
        )
        self.summary.setToolTip(self.summary.text())
        if dashboard.panels:
            style_badge(self.overall, dashboard.status)
            self.overall.setToolTip("The worst status of the panels")
            self.overall.show()
        else:
            self.overall.hide()
        self.dashboard_loaded.emit(dashboard.model_name, self.range_key)
        self.mark_ready()

    def _show_charts(self, dashboard: Dashboard) -> None:
        if not dashboard.panels:
            self.charts_empty.set_text(
                f"No monitoring series for {dashboard.model_name}",
                "The metrics source has no throughput, latency or drift series for this model. "
                "Pick another model, or export its production metrics to the source.",
            )
            self.charts_stack.setCurrentWidget(self.charts_empty)
            return
        if dashboard.sample_count == 0:
            newest = ""
            if dashboard.newest_sample_s is not None:
                newest = format_time_ms(int(dashboard.newest_sample_s * 1000))
                newest = f" The newest sample is from {newest}."
            self.charts_empty.set_text(
                "No samples in this range",
                f"{dashboard.model_name} has no data in the picked range.{newest} "
                "Pick a longer range.",
            )
            self.charts_stack.setCurrentWidget(self.charts_empty)
            return
        self.charts_stack.setCurrentWidget(self.charts_scroll)
        keys = [p.key for p in dashboard.panels]
        if keys != [k for k in self.charts]:
            self._rebuild_grid(dashboard.panels)
        for panel in dashboard.panels:
            self.charts[panel.key].set_panel(panel)
        self._show_whole_range()

    def _rebuild_grid(self, panels: tuple[Panel, ...]) -> None:
        for chart in self.charts.values():
            self.grid.removeWidget(chart)
            chart.deleteLater()
        self.charts = {}
        for number, panel in enumerate(panels):
            chart = PanelChart(panel)
            self.charts[panel.key] = chart
            # Not setXLink: it keeps the pixel scale, so a wider chart would show more time.
            chart.plot.getPlotItem().getViewBox().sigXRangeChanged.connect(
                self._on_chart_x_range_changed
            )
            last_alone = number == len(panels) - 1 and number % 2 == 0
            self.grid.addWidget(chart, number // 2, number % 2, 1, 2 if last_alone else 1)
        for row in range((len(panels) + 1) // 2):
            self.grid.setRowStretch(row, 1)

    def show_time(self, start_s: float, end_s: float) -> None:
        """Show the same time window on every chart, the value axes fitting what is visible."""
        self._syncing = True
        try:
            for chart in self.charts.values():
                chart.plot.setXRange(start_s, end_s, padding=0)
                chart.plot.getPlotItem().enableAutoRange(axis="y")
        finally:
            self._syncing = False

    def _on_chart_x_range_changed(self, _view_box: object, x_range: tuple[float, float]) -> None:
        if not self._syncing:
            self.show_time(*x_range)

    def _show_whole_range(self) -> None:
        if self.dashboard is not None:
            margin = (self.dashboard.end_s - self.dashboard.start_s) * 0.01
            self.show_time(self.dashboard.start_s - margin, self.dashboard.end_s + margin)

    def _on_whole_range_clicked(self) -> None:
        self._show_whole_range()

    def _show_alerts(self, dashboard: Dashboard) -> None:
        table = self.alerts_table
        # Refilling must not count as picking an alert (which would zoom the charts).
        table.blockSignals(True)
        table.setCurrentCell(-1, -1)
        table.setRowCount(len(dashboard.alerts))
        for row, alert in enumerate(dashboard.alerts):
            ended = "ongoing" if alert.end_s is None else short_time(alert.end_s)
            end_s = dashboard.end_s if alert.end_s is None else alert.end_s
            cells = (
                alert_title(alert),
                short_time(alert.start_s),
                ended,
                format_value(alert.peak, alert.unit),
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(
                    f"{alert_title(alert)} from {format_time_ms(int(alert.start_s * 1000))}"
                    f" for {format_duration(end_s - alert.start_s)}"
                    f"{' so far' if alert.ongoing else ''}; peak "
                    f"{format_value(alert.peak, alert.unit)}"
                )
                if column == 2 and alert.ongoing:
                    item.setForeground(QColor(STATUS_COLOURS["alert"]))
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                table.setItem(row, column, item)
        table.blockSignals(False)
        table.setVisible(bool(dashboard.alerts))
        self.no_alerts.setVisible(not dashboard.alerts)

    def _show_drift(self, dashboard: Dashboard) -> None:
        table = self.drift_table
        ranking = dashboard.drift_ranking
        table.setRowCount(len(ranking))
        for row, score in enumerate(ranking):
            cells = (score.feature, format_value(score.latest, "psi"), score.status.upper())
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 2:
                    item.setForeground(QColor("white"))
                    item.setBackground(QColor(STATUS_COLOURS[score.status]))
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if column == 1:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                table.setItem(row, column, item)
        table.setVisible(bool(ranking))
        self.no_drift.setVisible(not ranking)

    def _on_alerts_table_current_cell_changed(self, row: int, *_: Any) -> None:
        dashboard = self.dashboard
        if dashboard is None or not self.charts or not 0 <= row < len(dashboard.alerts):
            return
        alert = dashboard.alerts[row]
        end_s = dashboard.end_s if alert.end_s is None else alert.end_s
        margin = max(1800.0, (end_s - alert.start_s) * 0.5)
        self.show_time(alert.start_s - margin, end_s + margin)

    def series(self, panel_key: str) -> tuple[Series, ...]:
        """The series a panel shows (for tests and the screenshot command)."""
        chart = self.charts.get(panel_key)
        return chart.panel.series if chart is not None and chart.panel is not None else ()
