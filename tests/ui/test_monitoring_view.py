"""The Monitoring view on the demo workspace: charts with data, thresholds, alerts, drift."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QPalette

from mlops_desktop.services.workspace import Workspace
from mlops_desktop.ui.views.monitoring_view import MonitoringView
from tests.ui.views import open_view

pytestmark = pytest.mark.ui

DEMO_MODEL = "churn-classifier"
DRIFTING = "monthly_charges"


@pytest.fixture
def view(qtbot, demo_workspace) -> MonitoringView:
    return open_view(qtbot, MonitoringView, demo_workspace)


def test_it_opens_on_the_demo_model_over_the_last_7_days(view):
    assert view.model_name == DEMO_MODEL
    assert view.range_key == "7d"
    assert not view.banner.isVisibleTo(view)
    dashboard = view.dashboard
    assert dashboard is not None
    assert dashboard.end_s - dashboard.start_s == 7 * 86_400
    assert "samples" in view.summary.text()
    assert view.overall.text() == "ALERT"


def test_every_panel_has_a_chart_with_data_and_a_status_badge(view):
    assert list(view.charts)[:3] == ["throughput", "error_rate", "latency"]
    assert "drift" in view.charts
    for key, chart in view.charts.items():
        assert chart.isVisibleTo(view), key
        assert chart.panel is not None and chart.panel.has_data, key
        for series in chart.panel.series:
            curve = chart.curves[series.name]
            assert curve.xData is not None and len(curve.xData) == len(series) > 100, key
        assert chart.badge.text() in {"OK", "WARNING", "ALERT"}
    assert len(view.charts["latency"].curves) == 3
    assert view.charts["drift"].badge.text() == "ALERT"
    assert view.charts["throughput"].badge.text() == "OK"


def test_thresholds_are_drawn_as_dashed_lines(view):
    error_lines = view.charts["error_rate"].lines
    assert sorted(line.value() for line in error_lines) == [0.01, 0.02]
    assert "alert" in " ".join(line.label.textItem.toPlainText() for line in error_lines)
    assert len(view.charts["latency"].lines) == 4
    assert view.charts["throughput"].lines == []


def test_the_drifting_feature_is_ranked_first_with_an_alert(view):
    table = view.drift_table
    assert table.rowCount() >= 2
    assert table.item(0, 0).text() == DRIFTING
    assert table.item(0, 2).text() == "ALERT"
    assert float(table.item(0, 1).text()) > 0.2
    assert {table.item(row, 2).text() for row in range(1, table.rowCount())} == {"OK"}


def test_the_alert_list_has_the_ongoing_drift_and_the_ended_incident(view):
    rows = [
        [view.alerts_table.item(row, column).text() for column in range(4)]
        for row in range(view.alerts_table.rowCount())
    ]
    drift = next(row for row in rows if DRIFTING in row[0])
    assert drift[2] == "ongoing"
    error = next(row for row in rows if row[0].startswith("error_rate"))
    assert error[2] != "ongoing"
    assert error[3].endswith("%")


def test_picking_an_alert_zooms_every_chart_to_it(view):
    alerts = view.dashboard.alerts
    row = next(i for i, a in enumerate(alerts) if a.series_name == "error_rate")
    view.alerts_table.setCurrentCell(row, 0)
    for chart in view.charts.values():
        low, high = chart.plot.getPlotItem().getViewBox().viewRange()[0]
        assert low <= alerts[row].start_s and high >= alerts[row].end_s
        assert high - low < 86_400
    view.whole_range.click()
    low, high = view.charts["drift"].plot.getPlotItem().getViewBox().viewRange()[0]
    assert high - low >= 7 * 86_400


def test_a_shorter_range_reloads_fewer_samples(qtbot, view):
    before = view.dashboard.sample_count
    with qtbot.waitSignal(view.dashboard_loaded, timeout=60_000) as loaded:
        view.range_combo.setCurrentIndex(view.range_combo.findData("24h"))
    assert loaded.args == [DEMO_MODEL, "24h"]
    assert 0 < view.dashboard.sample_count < before
    assert len(view.charts["throughput"].curves["throughput"].xData) == len(
        view.dashboard.panel("throughput").series[0]
    )


def test_a_model_without_series_says_so(qtbot, view):
    index = next(
        i for i in range(view.model_combo.count()) if view.model_combo.itemData(i) != DEMO_MODEL
    )
    with qtbot.waitSignal(view.dashboard_loaded, timeout=60_000):
        view.model_combo.setCurrentIndex(index)
    assert view.charts_stack.currentWidget() is view.charts_empty
    assert view.charts_empty.heading.text().startswith("No monitoring series for")
    assert view.no_drift.isVisibleTo(view) and view.no_alerts.isVisibleTo(view)


def test_charts_follow_the_palette(view):
    chart = view.charts["throughput"]
    base = chart.palette().color(QPalette.ColorRole.Base)
    assert chart.plot.backgroundBrush().color() == base


def test_a_workspace_without_a_metrics_source_explains_itself(qtbot, demo_workspace):
    bare = Workspace(label="prod", kind="mlflow", tracking=demo_workspace.tracking)
    view = open_view(qtbot, MonitoringView, bare)
    assert view.placeholder.heading.text() == "No monitoring source"
    assert view.pages.currentWidget() is view.placeholder
