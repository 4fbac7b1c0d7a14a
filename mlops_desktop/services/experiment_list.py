"""What the experiments list shows: search and lifecycle filtering, the details of one
experiment, and the link to a run in a tracking server's own web UI."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from mlops_desktop.backends.tracking import TrackingBackend
from mlops_desktop.services.experiments import ExperimentSummary, load_experiments
from mlops_desktop.services.tasks import TaskState

#: The lifecycle choices of the experiments list.
ACTIVE, DELETED, ALL = "active", "deleted", "all"
LIFECYCLES = (ACTIVE, DELETED, ALL)
#: Workspace kinds backed by a tracking server, which serves MLflow's web UI.
SERVER_KINDS = frozenset({"mlflow"})


def is_deleted(summary: ExperimentSummary) -> bool:
    return summary.experiment.lifecycle_stage == "deleted"


def load_experiment_list(tracking: TrackingBackend, state: TaskState) -> list[ExperimentSummary]:
    """The active experiments (with run counts, see `load_experiments`), then the deleted
    ones. MLflow deletes an experiment's runs with it, so a deleted experiment is listed
    without counting runs (0), active again once restored in MLflow."""
    active = load_experiments(tracking, state)
    state.progress(-1, "Listing deleted experiments")
    known = {summary.experiment_id for summary in active}
    deleted = [
        experiment
        for experiment in tracking.list_experiments(include_deleted=True)
        if experiment.lifecycle_stage == "deleted" and experiment.experiment_id not in known
    ]
    deleted.sort(key=lambda e: e.last_update_time_ms or e.creation_time_ms or 0, reverse=True)
    return active + [
        ExperimentSummary(e, 0, e.last_update_time_ms or e.creation_time_ms) for e in deleted
    ]


def filter_experiments(
    summaries: Sequence[ExperimentSummary], search: str = "", lifecycle: str = ACTIVE
) -> list[ExperimentSummary]:
    """The experiments in that lifecycle whose name, ID, description or tags contain every
    word of `search` (any case), in the given order."""
    if lifecycle not in LIFECYCLES:
        raise ValueError(f"Unknown lifecycle {lifecycle!r}: use one of {', '.join(LIFECYCLES)}.")
    words = search.lower().split()
    kept = []
    for summary in summaries:
        if lifecycle == ACTIVE and is_deleted(summary):
            continue
        if lifecycle == DELETED and not is_deleted(summary):
            continue
        haystack = _searchable_text(summary)
        if all(word in haystack for word in words):
            kept.append(summary)
    return kept


def _searchable_text(summary: ExperimentSummary) -> str:
    experiment = summary.experiment
    tags = " ".join(f"{key} {value}" for key, value in user_tags(summary).items())
    return f"{experiment.name} {experiment.experiment_id} {summary.description} {tags}".lower()


def user_tags(summary: ExperimentSummary) -> dict[str, str]:
    """The experiment's own tags, without MLflow's internal `mlflow.*` ones (the description
    is one of those, and has its own place)."""
    return {
        key: value
        for key, value in sorted(summary.experiment.tags.items())
        if not key.startswith("mlflow.")
    }


def has_web_ui(workspace_kind: str, location: str) -> bool:
    """Whether the workspace's runs have a page in a web UI (a tracking server's)."""
    return workspace_kind in SERVER_KINDS and location.startswith(("http://", "https://"))


def web_ui_run_url(location: str, experiment_id: str, run_id: str) -> str:
    """The run's page in MLflow's web UI served by the tracking server at `location`."""
    base = location.rstrip("/")
    return f"{base}/#/experiments/{quote(experiment_id, safe='')}/runs/{quote(run_id, safe='')}"
