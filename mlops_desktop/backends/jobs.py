"""The JobBackend side the views need first: a history of jobs to list."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from mlops_desktop.domain.jobs import Job


@runtime_checkable
class JobHistory(Protocol):
    label: str

    def list_jobs(self) -> list[Job]: ...
