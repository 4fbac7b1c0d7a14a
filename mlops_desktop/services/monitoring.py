"""Production monitoring: a model's series as dashboard panels, their status, alerts and drift.

`load_dashboard` queries every series a `MetricsSource` knows for a model over a time range and
groups them into `Panel`s (throughput, error rate, latency p50/p95/p99 together, prediction mean,
drift of every feature together; any other series gets a panel of its own). From the same data
it derives each panel's status, the features ranked by their latest drift, and the alert
intervals. Thresholds are upper bounds: a value at or above `alert` is an alert, at or above
`warning` a warning.

An alert interval starts at the first sample at or above the alert threshold and ends at the
first sample back below the warning threshold (the alert threshold when there is none). This
hysteresis keeps a value that hovers around the alert line from reading as dozens of alerts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

import numpy as np

from mlops_desktop.backends.metrics_source import MetricsSource
from mlops_desktop.backends.tracking import TrackingBackend
from mlops_desktop.domain.monitoring import Series
from mlops_desktop.services.tasks import TaskState

Status = Literal["ok", "warning", "alert"]
Level = Literal["warning", "alert"]
_SEVERITY: dict[Status, int] = {"ok": 0, "warning": 1, "alert": 2}
DRIFT_PREFIX = "drift."
#: How far back `load_dashboard` looks for the newest sample when the range holds none.
_LOOKBACK_S = 365 * 86_400.0


@dataclass(frozen=True)
class TimeRange:
    key: str  # "7d": what settings and the CLI store
    label: str  # "Last 7 days": what the range picker shows
    seconds: int


RANGES = (
    TimeRange("15m", "Last 15 minutes", 15 * 60),
    TimeRange("1h", "Last hour", 3600),
    TimeRange("6h", "Last 6 hours", 6 * 3600),
    TimeRange("24h", "Last 24 hours", 24 * 3600),
    TimeRange("7d", "Last 7 days", 7 * 86_400),
    TimeRange("30d", "Last 30 days", 30 * 86_400),
    TimeRange("90d", "Last 90 days", 90 * 86_400),
)
DEFAULT_RANGE = "7d"


def time_range(key: str) -> TimeRange:
    """The range with this key; `ValueError` naming the valid keys otherwise."""
    for candidate in RANGES:
        if candidate.key == key:
            return candidate
    valid = ", ".join(r.key for r in RANGES)
    raise ValueError(f"Unknown time range {key!r}; use one of {valid}.")


@dataclass(frozen=True)
class _PanelSpec:
    key: str
    title: str
    names: tuple[str, ...] = ()  # exact series names, in drawing order
    prefix: str = ""  # or every series whose name starts with this


PANELS = (
    _PanelSpec("throughput", "Throughput", ("throughput",)),
    _PanelSpec("error_rate", "Error rate", ("error_rate",)),
    _PanelSpec("latency", "Latency", ("latency_p50", "latency_p95", "latency_p99")),
    _PanelSpec("prediction_mean", "Prediction mean", ("prediction_mean",)),
    _PanelSpec("drift", "Drift per feature (PSI)", prefix=DRIFT_PREFIX),
)


@dataclass(frozen=True)
class Threshold:
    """One threshold line of a panel: the series that share it, its level and its value."""

    level: Level
    value: float
    series: tuple[str, ...]


@dataclass(frozen=True)
class Panel:
    key: str  # "throughput", "latency", "drift", or the series name for an unknown series
    title: str
    unit: str
    series: tuple[Series, ...]
    status: Status  # the worst status of its series
    thresholds: tuple[Threshold, ...]

    @property
    def has_data(self) -> bool:
        return any(len(s) for s in self.series)


@dataclass(frozen=True)
class DriftScore:
    feature: str
    series_name: str
    latest: float | None  # None when the range holds no sample
    status: Status


@dataclass(frozen=True)
class AlertInterval:
    series_name: str
    unit: str
    threshold: float
    start_s: float
    end_s: float | None  # None: still over the threshold at the end of the range (ongoing)
    peak: float

    @property
    def ongoing(self) -> bool:
        return self.end_s is None


@dataclass(frozen=True)
class Dashboard:
    model_name: str
    start_s: float
    end_s: float
    panels: tuple[Panel, ...]
    drift_ranking: tuple[DriftScore, ...]  # most drifted first
    alerts: tuple[AlertInterval, ...]  # newest first
    #: The newest sample of any series, also when it is older than the range; None if none.
    newest_sample_s: float | None

    @property
    def sample_count(self) -> int:
        return sum(len(s) for panel in self.panels for s in panel.series)

    @property
    def status(self) -> Status:
        return worst(p.status for p in self.panels)

    def panel(self, key: str) -> Panel | None:
        return next((p for p in self.panels if p.key == key), None)


@dataclass(frozen=True)
class MonitoredModel:
    name: str
    series_count: int


def worst(statuses: Iterable[Status]) -> Status:
    """The most severe of some statuses ("ok" for none)."""
    result: Status = "ok"
    for status in statuses:
        if _SEVERITY[status] > _SEVERITY[result]:
            result = status
    return result


def latest_value(series: Series) -> float | None:
    """The newest value that is a number, or None."""
    finite = np.flatnonzero(np.isfinite(series.values))
    return float(series.values[finite[-1]]) if finite.size else None


def status_of(series: Series) -> Status:
    """ "alert", "warning" or "ok" from the series' latest value against its thresholds."""
    value = latest_value(series)
    if value is None:
        return "ok"
    if series.alert is not None and value >= series.alert:
        return "alert"
    if series.warning is not None and value >= series.warning:
        return "warning"
    return "ok"


def series_label(name: str) -> str:
    """How a series is named in a legend: "p95", "monthly_charges", "error_rate"."""
    if name.startswith(DRIFT_PREFIX):
        return name[len(DRIFT_PREFIX) :]
    if name.startswith("latency_"):
        return name[len("latency_") :]
    return name


def alert_intervals(series: Series) -> list[AlertInterval]:
    """When the series was at or above its alert threshold, oldest first (see module doc)."""
    if series.alert is None or not len(series):
        return []
    values = series.values
    clear_below = series.warning if series.warning is not None else series.alert
    index = np.arange(values.shape[0])
    last_set = np.maximum.accumulate(np.where(values >= series.alert, index, -1))
    last_clear = np.maximum.accumulate(np.where(values < clear_below, index, -1))
    active = last_set > last_clear
    if not active.any():
        return []
    edges = np.diff(active.astype(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)  # first inactive index after each run
    intervals = []
    for start, end in zip(starts, ends, strict=True):
        ongoing = end >= values.shape[0]
        intervals.append(
            AlertInterval(
                series_name=series.name,
                unit=series.unit,
                threshold=series.alert,
                start_s=float(series.timestamps_s[start]),
                end_s=None if ongoing else float(series.timestamps_s[end]),
                peak=float(np.nanmax(values[start:end])),
            )
        )
    return intervals


def _thresholds(series: Sequence[Series]) -> tuple[Threshold, ...]:
    found: dict[tuple[Level, float], list[str]] = {}
    for item in series:
        for level, value in (("warning", item.warning), ("alert", item.alert)):
            if value is not None:
                found.setdefault((level, value), []).append(item.name)  # type: ignore[arg-type]
    return tuple(
        Threshold(level, value, tuple(names)) for (level, value), names in sorted(found.items())
    )


def _panel(key: str, title: str, series: Sequence[Series]) -> Panel:
    units = sorted({s.unit for s in series if s.unit})
    return Panel(
        key=key,
        title=title,
        unit=" / ".join(units),
        series=tuple(series),
        status=worst([status_of(s) for s in series]),
        thresholds=_thresholds(series),
    )


def group_panels(series: Sequence[Series]) -> tuple[Panel, ...]:
    """The dashboard's panels in display order; panels with no series are left out."""
    by_name = {s.name: s for s in series}
    used: set[str] = set()
    panels = []
    for spec in PANELS:
        if spec.prefix:
            names = sorted(n for n in by_name if n.startswith(spec.prefix))
        else:
            names = [n for n in spec.names if n in by_name]
        if names:
            panels.append(_panel(spec.key, spec.title, [by_name[n] for n in names]))
            used.update(names)
    for item in series:
        if item.name not in used:
            panels.append(_panel(item.name, item.name.replace("_", " ").capitalize(), [item]))
    return tuple(panels)


def drift_ranking(series: Sequence[Series]) -> tuple[DriftScore, ...]:
    """Every drift series' feature, most drifted (latest value) first; no data sorts last."""
    scores = [
        DriftScore(series_label(s.name), s.name, latest_value(s), status_of(s))
        for s in series
        if s.name.startswith(DRIFT_PREFIX)
    ]
    return tuple(sorted(scores, key=lambda d: (d.latest is None, -(d.latest or 0.0), d.feature)))


def build_dashboard(
    model_name: str,
    series: Sequence[Series],
    start_s: float,
    end_s: float,
    newest_sample_s: float | None = None,
) -> Dashboard:
    """Derive the whole dashboard from series already fetched; pure and cheap."""
    alerts = [interval for s in series for interval in alert_intervals(s)]
    alerts.sort(key=lambda a: (a.start_s, a.series_name), reverse=True)
    if newest_sample_s is None:
        newest = [float(s.timestamps_s[-1]) for s in series if len(s)]
        newest_sample_s = max(newest) if newest else None
    return Dashboard(
        model_name=model_name,
        start_s=start_s,
        end_s=end_s,
        panels=group_panels(series),
        drift_ranking=drift_ranking(series),
        alerts=tuple(alerts),
        newest_sample_s=newest_sample_s,
    )


def _newest_before(source: MetricsSource, model_name: str, name: str, end_s: float) -> float | None:
    older = source.query_range(model_name, name, end_s - _LOOKBACK_S, end_s)
    return float(older.timestamps_s[-1]) if len(older) else None


def load_dashboard(
    metrics_source: MetricsSource,
    model: str,
    start_s: float,
    end_s: float,
    state: TaskState,
) -> Dashboard:
    """Query every series of `model` in [start_s, end_s] and build its dashboard."""
    state.progress(-1, f"Listing the series of {model}")
    names = metrics_source.list_series(model)
    series = []
    for number, name in enumerate(names):
        state.progress(number / len(names), f"Reading {name}")
        series.append(metrics_source.query_range(model, name, start_s, end_s))
    state.check()
    newest: float | None = None
    if names and not any(len(s) for s in series):
        # An empty range is often an old demo or a stalled exporter: say when data stopped.
        newest = _newest_before(metrics_source, model, names[0], end_s)
    return build_dashboard(model, series, start_s, end_s, newest)


@runtime_checkable
class SpannedSource(Protocol):
    """A metrics source that knows where its data ends (the embedded demo file does)."""

    def time_span(self, model_name: str) -> tuple[float, float] | None: ...


def window_end_s(metrics_source: MetricsSource, model: str, now_s: float) -> float:
    """Where "the last N days" end: now, or where a fixed data set (the demo) ends."""
    if isinstance(metrics_source, SpannedSource):
        span = metrics_source.time_span(model)
        if span is not None:
            return min(now_s, span[1])
    return now_s


def load_recent_dashboard(
    metrics_source: MetricsSource, model: str, seconds: float, now_s: float, state: TaskState
) -> Dashboard:
    """The dashboard of the last `seconds` up to `window_end_s`: what the range picker asks."""
    state.progress(-1, f"Locating the data of {model}")
    end_s = window_end_s(metrics_source, model, now_s)
    return load_dashboard(metrics_source, model, end_s - seconds, end_s, state)


def load_monitored_models(
    tracking: TrackingBackend, metrics_source: MetricsSource, state: TaskState
) -> list[MonitoredModel]:
    """The registered models with how many series each has; monitored first, then by name."""
    state.progress(-1, "Listing monitored models")
    names = {model.name for model in tracking.search_registered_models()}
    models = []
    for name in sorted(names):
        state.check()
        models.append(MonitoredModel(name, len(metrics_source.list_series(name))))
    return sorted(models, key=lambda m: (m.series_count == 0, m.name))
