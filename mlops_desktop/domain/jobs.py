"""Retraining jobs on a cluster or on this machine."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class JobStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    STOPPED = "STOPPED"


@dataclass(frozen=True)
class Job:
    job_id: str  # the client-generated submission id
    cluster: str  # "local", a Ray profile name, ...
    entrypoint: str
    status: JobStatus
    submitter: str
    submitted_ms: int
    finished_ms: int | None = None
    source_run_id: str | None = None
    result_run_id: str | None = None
    result_model_version: str | None = None  # "name/version"
    message: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)
