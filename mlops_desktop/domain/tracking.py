"""Experiments, runs, metric histories and artifacts as the tracking backends return them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt


class RunStatus(StrEnum):
    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"


@dataclass(frozen=True)
class Experiment:
    experiment_id: str
    name: str
    lifecycle_stage: str = "active"
    artifact_location: str = ""
    creation_time_ms: int | None = None
    last_update_time_ms: int | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def description(self) -> str:
        return self.tags.get("mlflow.note.content", "")


@dataclass(frozen=True)
class DatasetInput:
    name: str
    digest: str
    source_type: str = ""
    source: str = ""
    context: str = ""  # "training", "validation", ... from the input's mlflow.data.context tag


@dataclass(frozen=True)
class Run:
    run_id: str
    experiment_id: str
    name: str
    status: RunStatus
    start_time_ms: int | None
    end_time_ms: int | None
    user: str = ""
    lifecycle_stage: str = "active"
    artifact_uri: str = ""
    params: Mapping[str, str] = field(default_factory=dict)
    metrics: Mapping[str, float] = field(default_factory=dict)  # latest value per key
    tags: Mapping[str, str] = field(default_factory=dict)
    inputs: tuple[DatasetInput, ...] = ()

    @property
    def parent_run_id(self) -> str | None:
        return self.tags.get("mlflow.parentRunId")

    @property
    def duration_s(self) -> float | None:
        if self.start_time_ms is None or self.end_time_ms is None:
            return None
        return (self.end_time_ms - self.start_time_ms) / 1000.0


@dataclass(frozen=True)
class MetricHistory:
    """A metric's full history for one run, as sorted numpy columns (step ascending)."""

    run_id: str
    key: str
    steps: npt.NDArray[np.int64]
    timestamps_ms: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.values.shape[0])


@dataclass(frozen=True)
class ArtifactEntry:
    path: str  # relative to the run's artifact root, "/"-separated
    is_dir: bool
    size_bytes: int | None = None


@dataclass(frozen=True)
class LoggedModel:
    """A model a run logged (MLflow 3's logged models, with their own id and artifact folder)."""

    model_id: str
    name: str
    experiment_id: str
    source_run_id: str = ""
    artifact_location: str = ""
    model_type: str = ""
    status: str = ""  # "READY", "PENDING", "FAILED" (MLflow's LOGGED_MODEL_ prefix removed)
    creation_time_ms: int | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
