"""The embedded monitoring source: models' production series read from one local parquet file.

File format (long: one row per point), written by `save_series`:

    model        string   registered model name, e.g. "churn-classifier"
    series       string   "throughput", "error_rate", "latency_p95", "drift.monthly_charges", ...
    unit         string   "req/s", "ratio", "ms", "score", "psi"
    warning      float64  the series' warning threshold, NaN when it has none
    alert        float64  the series' alert threshold, NaN when it has none
    timestamp_s  int64    unix seconds (UTC), ascending within a series
    value        float64

The file is read once, on first use, and kept in memory as numpy columns (a 30-day, 5-minute
demo is about 100k rows). The series end when the file was written, not "now": views anchor
their time window with `time_span`.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from mlops_desktop.backends.errors import NotFound, WorkspaceError
from mlops_desktop.domain.monitoring import Series

COLUMNS = ("model", "series", "unit", "warning", "alert", "timestamp_s", "value")


def save_series(path: Path, series_by_model: Mapping[str, Sequence[Series]]) -> None:
    """Write every model's series to `path` in the format above (atomically replaced)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    models: list[str] = []
    names: list[str] = []
    units: list[str] = []
    warnings: list[float] = []
    alerts: list[float] = []
    stamps: list[np.ndarray] = []
    values: list[np.ndarray] = []
    for model, series_list in series_by_model.items():
        for series in series_list:
            n = len(series)
            models.extend([model] * n)
            names.extend([series.name] * n)
            units.extend([series.unit] * n)
            warnings.extend([math.nan if series.warning is None else series.warning] * n)
            alerts.extend([math.nan if series.alert is None else series.alert] * n)
            stamps.append(np.asarray(series.timestamps_s).astype(np.int64))
            values.append(np.asarray(series.values, dtype=np.float64))
    table = pa.table(
        {
            "model": pa.array(models, pa.string()).dictionary_encode(),
            "series": pa.array(names, pa.string()).dictionary_encode(),
            "unit": pa.array(units, pa.string()).dictionary_encode(),
            "warning": pa.array(warnings, pa.float64()),
            "alert": pa.array(alerts, pa.float64()),
            "timestamp_s": pa.array(np.concatenate(stamps) if stamps else [], pa.int64()),
            "value": pa.array(np.concatenate(values) if values else [], pa.float64()),
        }
    )
    partial = path.with_name(path.name + ".partial")
    pq.write_table(table, partial, compression="zstd")
    os.replace(partial, path)


def _threshold(value: object) -> float | None:
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number


class EmbeddedMetricsSource:
    """`MetricsSource` over a local parquet file; safe to call from several worker threads."""

    def __init__(self, path: Path, label: str = "Demo monitoring") -> None:
        self.path = Path(path)
        self.label = label
        self._lock = threading.Lock()
        self._series: dict[str, dict[str, Series]] | None = None

    def _load(self) -> dict[str, dict[str, Series]]:
        with self._lock:
            if self._series is None:
                self._series = self._read()
            return self._series

    def _read(self) -> dict[str, dict[str, Series]]:
        import pandas as pd

        if not self.path.is_file():
            raise WorkspaceError(
                f"The monitoring file {self.path} does not exist; rebuild the demo workspace "
                "to recreate it."
            )
        try:
            frame = pd.read_parquet(self.path, columns=list(COLUMNS))
        except (OSError, ValueError, KeyError) as error:
            raise WorkspaceError(
                f"The monitoring file {self.path} cannot be read ({error}); rebuild the demo "
                "workspace to recreate it."
            ) from error
        result: dict[str, dict[str, Series]] = {}
        for (model, name), group in frame.groupby(["model", "series"], sort=False, observed=True):
            ordered = group.sort_values("timestamp_s", kind="stable")
            stamps = ordered["timestamp_s"].to_numpy(dtype=np.float64)
            values = ordered["value"].to_numpy(dtype=np.float64)
            # The cache is shared between callers: a caller writing into it would corrupt it.
            stamps.setflags(write=False)
            values.setflags(write=False)
            first = ordered.iloc[0]
            result.setdefault(str(model), {})[str(name)] = Series(
                name=str(name),
                unit=str(first["unit"]),
                timestamps_s=stamps,
                values=values,
                warning=_threshold(first["warning"]),
                alert=_threshold(first["alert"]),
            )
        return result

    def list_series(self, model_name: str) -> list[str]:
        """The model's series in the order they were written (empty for an unknown model)."""
        return list(self._load().get(model_name, {}))

    def _get(self, model_name: str, name: str) -> Series:
        by_name = self._load().get(model_name)
        if by_name is None:
            raise NotFound(
                f"There are no monitoring series for model {model_name} in {self.label}."
            )
        series = by_name.get(name)
        if series is None:
            raise NotFound(
                f"Model {model_name} has no monitoring series {name!r} in {self.label}; "
                f"it has {', '.join(by_name)}."
            )
        return series

    def query_range(self, model_name: str, name: str, start_s: float, end_s: float) -> Series:
        """The points of one series with start_s <= timestamp <= end_s."""
        series = self._get(model_name, name)
        lo = int(np.searchsorted(series.timestamps_s, start_s, side="left"))
        hi = int(np.searchsorted(series.timestamps_s, end_s, side="right"))
        return Series(
            name=series.name,
            unit=series.unit,
            timestamps_s=series.timestamps_s[lo:hi],
            values=series.values[lo:hi],
            warning=series.warning,
            alert=series.alert,
        )

    def time_span(self, model_name: str) -> tuple[float, float] | None:
        """First and last timestamp over the model's series, or None when it has none."""
        by_name = self._load().get(model_name)
        if not by_name:
            return None
        starts = [s.timestamps_s[0] for s in by_name.values() if len(s)]
        ends = [s.timestamps_s[-1] for s in by_name.values() if len(s)]
        if not starts:
            return None
        return float(min(starts)), float(max(ends))
