"""One run in full: what the run detail panel and `mlops-desktop runs show` say about it (no Qt).

`load_run_detail` reads a run with everything a reviewer asks about it: params, latest
metrics and a sparkline of each history, tags (the user's apart from MLflow's own
`mlflow.*`), dataset inputs, source and git commit, parent run, system metrics (MLflow logs
them as metrics named `system/...`), the models it logged and its artifact tree.
Its artifacts are previewed by `artifact_preview` and listed and downloaded by `artifacts`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import numpy as np
import numpy.typing as npt

from mlops_desktop.backends.errors import BackendError, NotFound
from mlops_desktop.backends.tracking import TrackingBackend
from mlops_desktop.domain.tracking import (
    DatasetInput,
    LoggedModel,
    MetricHistory,
    Run,
    RunStatus,
)
from mlops_desktop.services.artifact_preview import MLMODEL_FILE, parse_mlmodel
from mlops_desktop.services.artifacts import (
    ArtifactTree,
    list_artifact_tree,
    parent_folder,
    read_head,
    short_run_id,
)
from mlops_desktop.services.tasks import TaskState

#: MLflow logs CPU, memory, GPU and disk use as metrics under this prefix.
SYSTEM_METRIC_PREFIX = "system/"
#: MLflow's own run tags (source, user, parent, git...), shown apart from the user's tags.
MLFLOW_TAG_PREFIX = "mlflow."
#: A sparkline never holds more points than this, however long the history.
SPARKLINE_POINTS = 200
#: Histories loaded for sparklines: a run with more metrics shows the first ones only.
SPARKLINE_METRICS = 200
#: How many MLmodel files among a run's artifacts its detail reads.
_MLMODEL_LIMIT = 20
_PARENT_TAG = "mlflow.parentRunId"


# -- what a run's detail holds --------------------------------------------------------------


@dataclass(frozen=True)
class Sparkline:
    """A metric's history reduced to at most `SPARKLINE_POINTS` points, spikes kept."""

    key: str
    steps: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]
    points: int  # how many points the full history has

    @property
    def minimum(self) -> float:
        finite = self.values[np.isfinite(self.values)]
        return float(finite.min()) if finite.size else math.nan

    @property
    def maximum(self) -> float:
        finite = self.values[np.isfinite(self.values)]
        return float(finite.max()) if finite.size else math.nan


@dataclass(frozen=True)
class RunSource:
    """Where a run's code came from, from MLflow's `mlflow.source.*` and project tags."""

    name: str = ""  # the script or notebook
    type: str = ""  # LOCAL, PROJECT, NOTEBOOK, JOB
    entry_point: str = ""
    git_commit: str = ""
    git_branch: str = ""
    git_repo: str = ""


@dataclass(frozen=True)
class RunModel:
    """A model a run logged: an MLflow 3 logged model, or an MLmodel folder in its artifacts."""

    name: str
    origin: str  # "logged model" or "artifacts"
    model_id: str = ""
    location: str = ""  # the artifact folder in the run, or the logged model's artifact URI
    status: str = ""
    model_type: str = ""
    flavors: tuple[str, ...] = ()
    creation_time_ms: int | None = None


@dataclass(frozen=True)
class RunDetail:
    """One run with everything the detail panel shows."""

    run: Run
    params: tuple[tuple[str, str], ...]
    metrics: tuple[tuple[str, float], ...]  # the run's own metrics, latest value
    system_metrics: tuple[tuple[str, float], ...]  # `system/...` metrics, latest value
    user_tags: tuple[tuple[str, str], ...]
    system_tags: tuple[tuple[str, str], ...]  # `mlflow.*`
    source: RunSource
    parent_run_id: str = ""
    parent_run_name: str = ""
    sparklines: Mapping[str, Sparkline] = field(default_factory=dict)
    models: tuple[RunModel, ...] = ()
    artifacts: ArtifactTree = field(default_factory=ArtifactTree)
    #: Sentences about the parts that could not be read (the rest is still shown).
    problems: tuple[str, ...] = ()

    @property
    def run_id(self) -> str:
        return self.run.run_id

    @property
    def name(self) -> str:
        return self.run.name or self.run.run_id

    @property
    def status(self) -> RunStatus:
        return self.run.status

    @property
    def user(self) -> str:
        return self.run.user or self.run.tags.get("mlflow.user", "")

    @property
    def description(self) -> str:
        return self.run.tags.get("mlflow.note.content", "")

    @property
    def duration_s(self) -> float | None:
        return self.run.duration_s

    @property
    def inputs(self) -> tuple[DatasetInput, ...]:
        return self.run.inputs


# -- loading a run's detail -----------------------------------------------------------------


def load_run_detail(
    tracking: TrackingBackend, run_id: str, state: TaskState, *, histories: bool = True
) -> RunDetail:
    """Read run `run_id` in full. Only the run itself must be readable: when its histories,
    logged models, artifacts or parent cannot be read, `problems` says so and the rest is
    shown. `histories=False` skips the sparklines (the command line does not draw them)."""
    state.progress(-1, f"Reading run {short_run_id(run_id)}")
    run = tracking.get_run(run_id.strip())
    state.check()
    metrics = sorted(run.metrics.items())
    user_metrics = tuple((k, v) for k, v in metrics if not k.startswith(SYSTEM_METRIC_PREFIX))
    system_metrics = tuple((k, v) for k, v in metrics if k.startswith(SYSTEM_METRIC_PREFIX))
    tags = sorted(run.tags.items())
    problems: list[str] = []

    keys = [k for k, _ in user_metrics] + [k for k, _ in system_metrics]
    if histories and len(keys) > SPARKLINE_METRICS:
        problems.append(
            f"Sparklines are drawn for the first {SPARKLINE_METRICS} of the run's "
            f"{len(keys)} metrics."
        )
        keys = keys[:SPARKLINE_METRICS]
    workers = max(1, min(4, int(getattr(tracking, "concurrent_pages", 1))))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="run-detail") as pool:
        tree = pool.submit(list_artifact_tree, tracking, run.run_id, state)
        logged = pool.submit(tracking.search_logged_models, run.experiment_id, run.run_id)
        parent = _parent_name(pool, tracking, run)
        history_jobs = (
            {key: pool.submit(tracking.get_metric_history, run.run_id, key) for key in keys}
            if histories
            else {}
        )
        try:
            sparklines = _collect_sparklines(history_jobs, state, problems)
            artifacts = _result_or_note(
                tree, state, problems, "The artifacts could not be listed", ArtifactTree()
            )
            logged_models = _result_or_note(
                logged, state, problems, "The logged models could not be listed", []
            )
            parent_name = _result_or_note(parent, state, problems, "", "") if parent else ""
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    state.progress(-1, "Reading the models in the artifacts")
    models = [_run_model_from_logged(m) for m in logged_models]
    models.extend(_models_in_artifacts(tracking, run.run_id, artifacts, state, problems))
    return RunDetail(
        run=run,
        params=tuple(sorted(run.params.items())),
        metrics=user_metrics,
        system_metrics=system_metrics,
        user_tags=tuple((k, v) for k, v in tags if not k.startswith(MLFLOW_TAG_PREFIX)),
        system_tags=tuple((k, v) for k, v in tags if k.startswith(MLFLOW_TAG_PREFIX)),
        source=run_source(run.tags),
        parent_run_id=run.parent_run_id or "",
        parent_run_name=parent_name,
        sparklines=sparklines,
        models=tuple(models),
        artifacts=artifacts,
        problems=tuple(problems),
    )


def run_source(tags: Mapping[str, str]) -> RunSource:
    """The source of a run from MLflow's tags (what `mlflow.start_run` records)."""
    return RunSource(
        name=tags.get("mlflow.source.name", ""),
        type=tags.get("mlflow.source.type", ""),
        entry_point=tags.get("mlflow.project.entryPoint", ""),
        git_commit=tags.get("mlflow.source.git.commit", ""),
        git_branch=tags.get("mlflow.source.git.branch", ""),
        git_repo=tags.get("mlflow.source.git.repoURL", ""),
    )


def _parent_name(
    pool: ThreadPoolExecutor, tracking: TrackingBackend, run: Run
) -> Future[str] | None:
    parent_id = run.tags.get(_PARENT_TAG)
    if not parent_id:
        return None

    def name() -> str:
        try:
            return tracking.get_run(parent_id).name
        except NotFound:
            return ""  # a deleted parent: its id is still shown

    return pool.submit(name)


def _wait(future: Future[Any], state: TaskState) -> Any:
    """The future's result, looking every 0.1 s whether the task was cancelled."""
    while not future.done():
        state.check()
        wait([future], timeout=0.1)
    state.check()
    return future.result()


def _result_or_note(
    future: Future[Any], state: TaskState, problems: list[str], doing: str, fallback: Any
) -> Any:
    """The future's result, or `fallback` with a sentence in `problems` when it failed."""
    try:
        return _wait(future, state)
    except BackendError as error:
        if doing:
            problems.append(f"{doing}: {error}")
        return fallback


def _collect_sparklines(
    jobs: Mapping[str, Future[MetricHistory]], state: TaskState, problems: list[str]
) -> dict[str, Sparkline]:
    sparklines: dict[str, Sparkline] = {}
    failed: list[str] = []
    for number, (key, job) in enumerate(jobs.items()):
        state.progress(number / max(1, len(jobs)), f"Loading the history of {key}")
        try:
            history = _wait(job, state)
        except BackendError:
            failed.append(key)
            continue
        sparklines[key] = sparkline(history)
    if failed:
        names = ", ".join(failed[:5]) + (f" and {len(failed) - 5} more" if len(failed) > 5 else "")
        problems.append(f"The history of {names} could not be read; their sparklines are empty.")
    return sparklines


def sparkline(history: MetricHistory, max_points: int = SPARKLINE_POINTS) -> Sparkline:
    steps, values = decimate_min_max(history.steps, history.values, max_points)
    return Sparkline(history.key, steps, values, len(history))


def decimate_min_max(
    steps: npt.NDArray[np.int64], values: npt.NDArray[np.float64], max_points: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """At most `max_points` points of a series that keep its shape: the first and last
    points, and the minimum and maximum of each of `(max_points - 2) // 2` equal buckets, in
    their original order. A one-step spike is the maximum of its bucket, so it stays
    visible where taking every n-th point would drop it (pyqtgraph's "peak" mode, ahead)."""
    count = int(values.shape[0])
    if count <= max_points:
        return steps, values
    if max_points < 4:
        raise ValueError("a min/max decimation keeps at least 4 points")
    buckets = (max_points - 2) // 2
    size = math.ceil(count / buckets)
    padding = size * buckets - count
    nan = np.isnan(values)
    low = np.concatenate([np.where(nan, np.inf, values), np.full(padding, np.inf)])
    high = np.concatenate([np.where(nan, -np.inf, values), np.full(padding, -np.inf)])
    offsets = np.arange(buckets) * size
    lows = offsets + low.reshape(buckets, size).argmin(axis=1)
    highs = offsets + high.reshape(buckets, size).argmax(axis=1)
    keep = np.concatenate([[0, count - 1], lows, highs])
    keep = np.unique(keep[keep < count])  # sorted: the x order is kept
    return steps[keep], values[keep]


# -- artifacts ------------------------------------------------------------------------------


def _run_model_from_logged(model: LoggedModel) -> RunModel:
    return RunModel(
        name=model.name,
        origin="logged model",
        model_id=model.model_id,
        location=model.artifact_location,
        status=model.status,
        model_type=model.model_type,
        creation_time_ms=model.creation_time_ms,
    )


def _models_in_artifacts(
    tracking: TrackingBackend,
    run_id: str,
    tree: ArtifactTree,
    state: TaskState,
    problems: list[str],
) -> list[RunModel]:
    """A model for each MLmodel file among the run's artifacts (how MLflow 2 logged models)."""
    found = [e for e in tree.files if PurePosixPath(e.path).name == MLMODEL_FILE]
    models = []
    for entry in found[:_MLMODEL_LIMIT]:
        state.check()
        folder = parent_folder(entry.path)
        try:
            summary = parse_mlmodel(read_head(tracking, run_id, entry.path, 1_000_000, state)[0])
        except (BackendError, ValueError) as error:
            problems.append(
                f"The model in {folder or 'the artifact root'} could not be read: {error}"
            )
            continue
        models.append(
            RunModel(
                name=PurePosixPath(folder).name or "model",
                origin="artifacts",
                model_id=summary.model_id,
                location=folder,
                flavors=tuple(flavor.name for flavor in summary.flavors),
            )
        )
    return models


# -- previews -------------------------------------------------------------------------------


# -- as data, for `runs show --json` ----------------------------------------------------------


def run_detail_to_json(detail: RunDetail) -> dict[str, Any]:
    """The detail as plain JSON values (no arrays): what `mlops-desktop runs show --json` prints."""
    run = detail.run
    return {
        "run_id": run.run_id,
        "name": run.name,
        "experiment_id": run.experiment_id,
        "status": run.status.value,
        "user": detail.user,
        "start_time_ms": run.start_time_ms,
        "end_time_ms": run.end_time_ms,
        "duration_s": detail.duration_s,
        "lifecycle_stage": run.lifecycle_stage,
        "artifact_uri": run.artifact_uri,
        "description": detail.description,
        "parent_run_id": detail.parent_run_id or None,
        "parent_run_name": detail.parent_run_name or None,
        "source": _as_dict(detail.source),
        "params": dict(detail.params),
        "metrics": {k: _finite(v) for k, v in detail.metrics},
        "system_metrics": {k: _finite(v) for k, v in detail.system_metrics},
        "tags": dict(detail.user_tags),
        "mlflow_tags": dict(detail.system_tags),
        "dataset_inputs": [_as_dict(d) for d in detail.inputs],
        "models": [_as_dict(m) for m in detail.models],
        "artifacts": [_as_dict(e) for e in detail.artifacts.entries],
        "artifacts_truncated": detail.artifacts.truncated,
        "problems": list(detail.problems),
    }


def _as_dict(item: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(item).items()}


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
