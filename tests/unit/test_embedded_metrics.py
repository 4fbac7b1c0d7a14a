"""backends.embedded_metrics: the parquet format round-trips; ranges, thresholds and errors."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

from mlops_desktop.backends.embedded_metrics import COLUMNS, EmbeddedMetricsSource, save_series
from mlops_desktop.backends.errors import NotFound, WorkspaceError
from mlops_desktop.backends.metrics_source import MetricsSource
from mlops_desktop.domain.monitoring import Series

START = 1_700_000_000.0


def _series(name: str, n: int, unit: str = "psi", **thresholds: float) -> Series:
    stamps = START + 300.0 * np.arange(n)
    return Series(name, unit, stamps, np.linspace(0.0, 1.0, n), **thresholds)


@pytest.fixture(scope="module")
def source_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("monitoring") / "monitoring.parquet"
    # Written out of time order on purpose: the reader sorts each series.
    shuffled = _series("throughput", 10, unit="req/s")
    order = np.random.default_rng(1).permutation(10)
    shuffled = Series(
        shuffled.name, shuffled.unit, shuffled.timestamps_s[order], shuffled.values[order]
    )
    save_series(
        path,
        {
            "churn": [
                shuffled,
                _series("error_rate", 10, unit="ratio", warning=0.01, alert=0.02),
                _series("drift.age", 10, warning=0.1, alert=0.2),
            ],
            "fraud": [_series("throughput", 4, unit="req/s")],
        },
    )
    return path


def test_file_is_long_format_with_documented_columns(source_path):
    frame = pd.read_parquet(source_path)
    assert tuple(frame.columns) == COLUMNS
    assert len(frame) == 34
    assert frame["timestamp_s"].dtype == np.int64


def test_lists_series_in_written_order(source_path):
    source = EmbeddedMetricsSource(source_path)
    assert isinstance(source, MetricsSource)
    assert source.list_series("churn") == ["throughput", "error_rate", "drift.age"]
    assert source.list_series("fraud") == ["throughput"]
    assert source.list_series("unknown") == []


def test_query_range_is_inclusive_and_sorted(source_path):
    source = EmbeddedMetricsSource(source_path)
    series = source.query_range("churn", "throughput", START + 600, START + 1500)
    assert series.timestamps_s.tolist() == [START + 600 + 300 * i for i in range(4)]
    np.testing.assert_allclose(series.values, np.linspace(0, 1, 10)[2:6])
    assert series.unit == "req/s"
    assert len(source.query_range("churn", "throughput", START + 10_000, START + 20_000)) == 0


def test_thresholds_come_from_the_file(source_path):
    source = EmbeddedMetricsSource(source_path)
    drift = source.query_range("churn", "drift.age", 0, 2e9)
    assert (drift.warning, drift.alert) == (0.1, 0.2)
    errors = source.query_range("churn", "error_rate", 0, 2e9)
    assert (errors.warning, errors.alert) == (0.01, 0.02)
    throughput = source.query_range("churn", "throughput", 0, 2e9)
    assert (throughput.warning, throughput.alert) == (None, None)


def test_returned_arrays_cannot_corrupt_the_cache(source_path):
    source = EmbeddedMetricsSource(source_path)
    series = source.query_range("churn", "drift.age", 0, 2e9)
    with pytest.raises(ValueError):
        series.values[0] = 42.0


def test_time_span(source_path):
    source = EmbeddedMetricsSource(source_path)
    assert source.time_span("churn") == (START, START + 2700)
    assert source.time_span("unknown") is None


def test_unknown_model_or_series_is_not_found(source_path):
    source = EmbeddedMetricsSource(source_path)
    with pytest.raises(NotFound, match="no monitoring series for model unknown"):
        source.query_range("unknown", "throughput", 0, 1)
    with pytest.raises(NotFound, match=r"it has throughput, error_rate, drift\.age"):
        source.query_range("churn", "latency", 0, 1)


def test_concurrent_first_use_loads_once(source_path):
    source = EmbeddedMetricsSource(source_path)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: source.list_series("churn"), range(16)))
    assert all(r == results[0] for r in results)


def test_missing_file_raises_a_workspace_error(tmp_path):
    source = EmbeddedMetricsSource(tmp_path / "absent.parquet")
    with pytest.raises(WorkspaceError, match="does not exist"):
        source.list_series("churn")


def test_damaged_file_raises_a_workspace_error(tmp_path):
    path = tmp_path / "monitoring.parquet"
    path.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(WorkspaceError, match="cannot be read"):
        EmbeddedMetricsSource(path).list_series("churn")
