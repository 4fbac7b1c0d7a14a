"""services.monitoring: status, alert intervals, panels, drift ranking and dashboards, headless."""

from __future__ import annotations

import time

import numpy as np
import pytest

from mlops_desktop.domain.monitoring import Series
from mlops_desktop.services.monitoring import (
    DEFAULT_RANGE,
    RANGES,
    alert_intervals,
    build_dashboard,
    drift_ranking,
    group_panels,
    load_dashboard,
    load_recent_dashboard,
    series_label,
    status_of,
    time_range,
    window_end_s,
)
from mlops_desktop.services.tasks import Cancelled, TaskState

STEP = 300.0
START = 1_764_000_000.0


def series(
    name: str,
    values: list[float],
    warning: float | None = None,
    alert: float | None = None,
    unit: str = "x",
) -> Series:
    stamps = START + STEP * np.arange(len(values), dtype=np.float64)
    return Series(name, unit, stamps, np.asarray(values, dtype=np.float64), warning, alert)


class FakeSource:
    """A MetricsSource over in-memory series."""

    label = "fake"

    def __init__(self, items: list[Series], span: bool = False) -> None:
        self.items = {s.name: s for s in items}
        self.queries: list[tuple[str, float, float]] = []
        if span:
            self.time_span = self._time_span

    def list_series(self, model_name: str) -> list[str]:
        return list(self.items) if model_name == "m" else []

    def query_range(self, model_name: str, name: str, start_s: float, end_s: float) -> Series:
        self.queries.append((name, start_s, end_s))
        full = self.items[name]
        keep = (full.timestamps_s >= start_s) & (full.timestamps_s <= end_s)
        return Series(
            name, full.unit, full.timestamps_s[keep], full.values[keep], full.warning, full.alert
        )

    def _time_span(self, model_name: str) -> tuple[float, float] | None:
        stamps = [s.timestamps_s[-1] for s in self.items.values()]
        return (START, float(max(stamps))) if stamps else None


# -- status ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("latest", "expected"),
    [(0.05, "ok"), (0.1, "warning"), (0.15, "warning"), (0.2, "alert"), (0.9, "alert")],
)
def test_status_compares_the_latest_value_with_the_thresholds(latest, expected):
    assert status_of(series("drift.a", [0.9, 0.0, latest], warning=0.1, alert=0.2)) == expected


def test_status_skips_trailing_gaps_and_is_ok_without_data_or_thresholds():
    assert status_of(series("e", [0.5, np.nan], warning=0.1, alert=0.2)) == "alert"
    assert status_of(series("e", [], warning=0.1, alert=0.2)) == "ok"
    assert status_of(series("t", [1e9])) == "ok"


# -- alert intervals ------------------------------------------------------------------------


def test_an_alert_runs_from_crossing_the_alert_line_until_back_under_the_warning_line():
    values = [0.0, 0.3, 0.19, 0.25, 0.15, 0.05, 0.0]  # dips under the alert line, not the warning
    (interval,) = alert_intervals(series("drift.a", values, warning=0.1, alert=0.2, unit="psi"))
    assert interval.start_s == START + STEP
    assert interval.end_s == START + 5 * STEP
    assert interval.peak == pytest.approx(0.3)
    assert interval.threshold == 0.2
    assert interval.unit == "psi"
    assert not interval.ongoing


def test_an_alert_still_on_at_the_end_is_ongoing_and_separate_alerts_stay_separate():
    values = [0.5, 0.0, 0.0, 0.5, 0.6]
    first, second = alert_intervals(series("e", values, alert=0.2))
    assert (first.start_s, first.end_s) == (START, START + STEP)
    assert second.start_s == START + 3 * STEP
    assert second.end_s is None and second.ongoing
    assert second.peak == pytest.approx(0.6)


def test_no_alert_without_a_threshold_or_a_crossing():
    assert alert_intervals(series("t", [1.0, 100.0])) == []
    assert alert_intervals(series("e", [0.1, 0.15], warning=0.1, alert=0.2)) == []
    assert alert_intervals(series("e", [], alert=0.2)) == []


# -- panels and ranking ---------------------------------------------------------------------


def test_series_are_grouped_into_panels_in_dashboard_order():
    names = [
        "drift.b",
        "latency_p99",
        "throughput",
        "custom_gauge",
        "latency_p50",
        "error_rate",
        "drift.a",
        "latency_p95",
    ]
    panels = group_panels([series(n, [1.0]) for n in names])
    assert [p.key for p in panels] == [
        "throughput",
        "error_rate",
        "latency",
        "drift",
        "custom_gauge",
    ]
    latency = panels[2]
    assert [s.name for s in latency.series] == ["latency_p50", "latency_p95", "latency_p99"]
    assert [s.name for s in panels[3].series] == ["drift.a", "drift.b"]
    assert panels[4].title == "Custom gauge"


def test_a_panel_takes_the_worst_status_and_lists_its_thresholds_once():
    panel = group_panels(
        [
            series("latency_p50", [10.0], unit="ms"),
            series("latency_p95", [90.0], warning=80.0, alert=120.0, unit="ms"),
            series("latency_p99", [100.0], warning=150.0, alert=250.0, unit="ms"),
        ]
    )[0]
    assert panel.status == "warning"
    assert panel.unit == "ms"
    assert {(t.level, t.value) for t in panel.thresholds} == {
        ("warning", 80.0),
        ("alert", 120.0),
        ("warning", 150.0),
        ("alert", 250.0),
    }
    drift = group_panels(
        [series(f"drift.{f}", [0.0], warning=0.1, alert=0.2) for f in ("a", "b", "c")]
    )[0]
    assert len(drift.thresholds) == 2
    assert all(t.series == ("drift.a", "drift.b", "drift.c") for t in drift.thresholds)


def test_drift_ranking_puts_the_most_drifted_feature_first():
    ranking = drift_ranking(
        [
            series("drift.low", [0.5, 0.01], warning=0.1, alert=0.2),
            series("drift.high", [0.0, 0.31], warning=0.1, alert=0.2),
            series("drift.empty", [], warning=0.1, alert=0.2),
            series("throughput", [99.0]),
            series("drift.mid", [0.12], warning=0.1, alert=0.2),
        ]
    )
    assert [(d.feature, d.status) for d in ranking] == [
        ("high", "alert"),
        ("mid", "warning"),
        ("low", "ok"),
        ("empty", "ok"),
    ]
    assert ranking[0].latest == pytest.approx(0.31)
    assert ranking[-1].latest is None


def test_series_labels_are_short():
    assert series_label("drift.monthly_charges") == "monthly_charges"
    assert series_label("latency_p95") == "p95"
    assert series_label("error_rate") == "error_rate"


def test_ranges_run_from_15_minutes_to_90_days_and_default_to_7_days():
    assert [r.key for r in RANGES] == ["15m", "1h", "6h", "24h", "7d", "30d", "90d"]
    assert [r.seconds for r in RANGES] == sorted(r.seconds for r in RANGES)
    assert time_range(DEFAULT_RANGE).seconds == 7 * 86_400
    with pytest.raises(ValueError, match="15m"):
        time_range("2w")


# -- dashboards -----------------------------------------------------------------------------


def test_load_dashboard_queries_the_range_and_derives_everything():
    source = FakeSource(
        [
            series("throughput", [50.0] * 6),
            series("error_rate", [0.0, 0.05, 0.0, 0.0, 0.0, 0.0], warning=0.01, alert=0.02),
            series("drift.a", [0.0, 0.0, 0.0, 0.0, 0.3, 0.35], warning=0.1, alert=0.2),
        ]
    )
    end = START + 5 * STEP
    dashboard = load_dashboard(source, "m", START, end, TaskState())
    assert {q[1:] for q in source.queries} == {(START, end)}
    assert [p.key for p in dashboard.panels] == ["throughput", "error_rate", "drift"]
    assert dashboard.status == "alert"
    assert dashboard.sample_count == 18
    assert [a.series_name for a in dashboard.alerts] == ["drift.a", "error_rate"]  # newest first
    assert dashboard.alerts[0].ongoing
    assert dashboard.drift_ranking[0].feature == "a"
    assert dashboard.panel("error_rate").status == "ok"
    assert dashboard.newest_sample_s == end


def test_an_empty_range_says_when_the_newest_sample_was():
    source = FakeSource([series("throughput", [1.0, 2.0])])
    later = START + 30 * 86_400
    dashboard = load_dashboard(source, "m", later - 3600, later, TaskState())
    assert dashboard.sample_count == 0
    assert dashboard.newest_sample_s == START + STEP


def test_a_model_without_series_has_an_empty_dashboard():
    dashboard = build_dashboard("other", [], START, START + 60)
    assert dashboard.panels == () and dashboard.alerts == () and dashboard.drift_ranking == ()
    assert dashboard.status == "ok"
    assert dashboard.newest_sample_s is None


def test_a_fixed_data_set_anchors_the_window_at_its_end():
    items = [series("throughput", [1.0] * 10)]
    data_end = START + 9 * STEP
    now = data_end + 14 * 86_400
    assert window_end_s(FakeSource(items, span=True), "m", now) == data_end
    assert window_end_s(FakeSource(items, span=False), "m", now) == now
    dashboard = load_recent_dashboard(FakeSource(items, span=True), "m", 3600.0, now, TaskState())
    assert (dashboard.start_s, dashboard.end_s) == (data_end - 3600, data_end)
    assert dashboard.sample_count == 10  # the data set spans 45 minutes


def test_load_dashboard_stops_when_cancelled():
    state = TaskState()
    state.cancel()
    with pytest.raises(Cancelled):
        load_dashboard(FakeSource([series("throughput", [1.0])]), "m", START, START + 1, state)


# -- on the seeded demo workspace -------------------------------------------------------------


def test_the_demo_dashboard_shows_the_incident_and_the_drifting_feature(demo_workspace):
    from mlops_desktop.services.demo import DEMO_MODEL, DRIFTING_FEATURE

    dashboard = load_recent_dashboard(
        demo_workspace.metrics, DEMO_MODEL, 7 * 86_400.0, time.time(), TaskState()
    )
    assert [p.key for p in dashboard.panels][:3] == ["throughput", "error_rate", "latency"]
    assert "drift" in [p.key for p in dashboard.panels]
    assert all(p.has_data for p in dashboard.panels)
    assert dashboard.drift_ranking[0].feature == DRIFTING_FEATURE
    assert dashboard.drift_ranking[0].status == "alert"
    assert all(d.status == "ok" for d in dashboard.drift_ranking[1:])
    by_series = {a.series_name: a for a in dashboard.alerts}
    assert by_series[f"drift.{DRIFTING_FEATURE}"].ongoing
    assert not by_series["error_rate"].ongoing, "the error-rate incident ended"
    assert dashboard.panel("error_rate").status == "ok"
    assert dashboard.panel("drift").status == "alert"
