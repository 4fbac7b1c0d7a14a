"""Monitoring time series (throughput, errors, latency, drift) as numpy columns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Series:
    name: str  # e.g. "throughput", "latency_p95", "drift.feature_age"
    unit: str  # "req/s", "ratio", "ms", "psi"
    timestamps_s: npt.NDArray[np.float64]  # unix seconds, ascending
    values: npt.NDArray[np.float64]
    warning: float | None = None  # threshold lines, when the source knows them
    alert: float | None = None

    def __len__(self) -> int:
        return int(self.values.shape[0])
