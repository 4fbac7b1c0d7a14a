"""Retraining jobs: list the jobs a workspace's job backends know of."""

from __future__ import annotations

from mlops_desktop.backends.jobs import JobHistory
from mlops_desktop.domain.jobs import Job
from mlops_desktop.services.tasks import TaskState


def load_jobs(history: JobHistory, state: TaskState) -> list[Job]:
    """Every job of the history, newest first."""
    state.check()
    return sorted(history.list_jobs(), key=lambda job: job.submitted_ms, reverse=True)
