"""What a workspace holds, in a few numbers: experiments with run counts, models, store size."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mlops_desktop.backends.tracking import TrackingBackend
from mlops_desktop.domain.registry import RegisteredModel
from mlops_desktop.domain.tracking import Experiment
from mlops_desktop.services.tasks import TaskState


@dataclass(frozen=True)
class ExperimentCount:
    experiment: Experiment
    runs: int


@dataclass(frozen=True)
class WorkspaceSummary:
    location: str
    size_bytes: int | None  # on-disk size for a local store, None for a server
    experiments: tuple[ExperimentCount, ...]
    models: tuple[RegisteredModel, ...]

    @property
    def run_count(self) -> int:
        return sum(item.runs for item in self.experiments)


def count_runs(tracking: TrackingBackend, experiment_id: str, state: TaskState) -> int:
    """Count an experiment's runs by paging through them (the REST API has no count call)."""
    total, token = 0, None
    while True:
        state.check()
        page, token = tracking.search_runs([experiment_id], max_results=1000, page_token=token)
        total += len(page)
        if not token:
            return total


def folder_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file())


def summarize_workspace(tracking: TrackingBackend, state: TaskState) -> WorkspaceSummary:
    experiments = tracking.list_experiments()
    counts = []
    for number, experiment in enumerate(experiments):
        state.progress(number / max(1, len(experiments)), f"Counting runs of {experiment.name}")
        counts.append(
            ExperimentCount(experiment, count_runs(tracking, experiment.experiment_id, state))
        )
    models = tuple(tracking.search_registered_models())
    location = Path(tracking.location)
    size = folder_size(location.parent) if location.exists() else None
    return WorkspaceSummary(tracking.location, size, tuple(counts), models)
