"""The MetricsSource protocol: where monitoring series come from (Prometheus, embedded demo)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from mlops_desktop.domain.monitoring import Series


@runtime_checkable
class MetricsSource(Protocol):
    label: str

    def list_series(self, model_name: str) -> list[str]:
        """Names of the series known for a model, e.g. "throughput", "drift.income"."""
        ...

    def query_range(self, model_name: str, name: str, start_s: float, end_s: float) -> Series: ...
