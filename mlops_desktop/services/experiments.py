"""Browse experiments and their runs: experiment summaries and runs as a columnar DataFrame.

`load_runs_frame` returns one row per run and one column per field: the fixed `RUN_COLUMNS`,
then `params.<key>` (strings, as MLflow stores them), `metrics.<key>` (float64, the latest
value) and `tags.<key>` (MLflow's own `mlflow.*` tags are left out but for `USEFUL_MLFLOW_TAGS`).
Pages are handed to `state.partial` as they arrive so a table can fill while the rest loads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from mlops_desktop.backends.tracking import TrackingBackend
from mlops_desktop.domain.tracking import Experiment, Run
from mlops_desktop.services.tasks import TaskState

#: The fixed leading columns of a runs frame, in order.
RUN_COLUMNS = (
    "run_id",
    "run_name",
    "status",
    "start_time",  # datetime64[ms, UTC]; NaT when unknown
    "duration_s",  # float64; NaN while running
    "user",
    "parent_run_id",
    "experiment_id",
)
PARAM_PREFIX = "params."
METRIC_PREFIX = "metrics."
TAG_PREFIX = "tags."
#: MLflow-internal tags worth a column; every other `mlflow.*` tag is left out (the run name,
#: user and parent already have their own columns).
USEFUL_MLFLOW_TAGS = frozenset(
    {
        "mlflow.source.git.commit",
        "mlflow.source.git.branch",
        "mlflow.source.name",
        "mlflow.note.content",
    }
)
#: Metrics a reviewer looks at first, in the order the runs table shows them by default.
PREFERRED_METRICS = (
    "val_auc",
    "val_loss",
    "val_accuracy",
    "f1",
    "train_loss",
    "accuracy",
    "auc",
    "loss",
)
#: The run columns shown by default, before a few params and metrics.
DEFAULT_RUN_COLUMNS = ("run_name", "status", "start_time", "duration_s")
PAGE_SIZE = 1000


@dataclass(frozen=True)
class ExperimentSummary:
    """An experiment with what the experiments list shows next to its name."""

    experiment: Experiment
    run_count: int
    last_activity_ms: int | None  # latest run start or end; else the experiment's own update

    @property
    def experiment_id(self) -> str:
        return self.experiment.experiment_id

    @property
    def name(self) -> str:
        return self.experiment.name

    @property
    def description(self) -> str:
        return self.experiment.description


def load_experiments(tracking: TrackingBackend, state: TaskState) -> list[ExperimentSummary]:
    """Every active experiment with its run count and last activity, most recent first.

    Experiments without runs come last. The tracking API has no count call, so each
    experiment's runs are paged through once.
    """
    state.progress(-1, "Listing experiments")
    experiments = tracking.list_experiments()
    summaries = []
    for number, experiment in enumerate(experiments):
        state.progress(number / max(1, len(experiments)), f"Counting runs of {experiment.name}")
        count, latest, token = 0, None, None
        while True:
            state.check()
            page, token = tracking.search_runs(
                [experiment.experiment_id], max_results=PAGE_SIZE, page_token=token
            )
            count += len(page)
            latest = _latest(latest, _run_times(page))
            if not token:
                break
        if latest is None:
            latest = experiment.last_update_time_ms or experiment.creation_time_ms
        summaries.append(ExperimentSummary(experiment, count, latest))
    state.progress(1.0, f"{len(summaries)} experiments")
    # Experiments with runs first: an empty one (MLflow's "Default") is rarely what is wanted.
    summaries.sort(key=lambda s: (s.run_count > 0, s.last_activity_ms or 0), reverse=True)
    return summaries


def largest_experiment(summaries: Sequence[ExperimentSummary]) -> ExperimentSummary | None:
    """The experiment with the most runs (the first of equals), or None when there is none."""
    return max(summaries, key=lambda s: s.run_count, default=None)


def _run_times(runs: Iterable[Run]) -> Iterable[int]:
    for run in runs:
        if run.start_time_ms is not None:
            yield run.start_time_ms
        if run.end_time_ms is not None:
            yield run.end_time_ms


def _latest(current: int | None, times: Iterable[int]) -> int | None:
    latest = max(times, default=None)
    if latest is None:
        return current
    return latest if current is None else max(current, latest)


def load_runs_frame(
    tracking: TrackingBackend,
    experiment_ids: Sequence[str],
    state: TaskState,
    filter_string: str = "",
    expected_total: int | None = None,
    page_size: int = PAGE_SIZE,
) -> pd.DataFrame:
    """All runs of the experiments matching `filter_string` (MLflow search syntax).

    Each page's frame goes to `state.partial` as soon as it arrives; `expected_total` (the
    experiment's run count, when known and unfiltered) turns progress into a fraction.
    Returns the whole frame, with the columns of every page in canonical order.
    """
    pages: list[pd.DataFrame] = []
    loaded, token = 0, None
    state.progress(0.0 if expected_total else -1, "Loading runs")
    while True:
        state.check()
        runs, token = tracking.search_runs(
            list(experiment_ids),
            filter_string=filter_string,
            max_results=page_size,
            page_token=token,
        )
        page = runs_to_frame(runs)
        loaded += len(page)
        pages.append(page)
        state.partial(page)
        if expected_total:
            fraction = min(1.0, loaded / expected_total)
            state.progress(fraction, f"Loaded {loaded:,} of {expected_total:,} runs")
        else:
            state.progress(-1, f"Loaded {loaded:,} runs")
        if not token:
            break
    return concat_frames(pages)


def load_runs_by_id(
    tracking: TrackingBackend, run_ids: Sequence[str], state: TaskState
) -> pd.DataFrame:
    """The given runs (from any experiments) as a runs frame, in the order given."""
    runs = []
    for number, run_id in enumerate(run_ids):
        state.progress(number / max(1, len(run_ids)), "Loading the selected runs")
        runs.append(tracking.get_run(run_id))
    return runs_to_frame(runs)


def runs_to_frame(runs: Sequence[Run]) -> pd.DataFrame:
    """One page of runs as a runs frame (columns in canonical order, typed)."""
    columns: dict[str, object] = {
        "run_id": pd.array([r.run_id for r in runs], dtype="str"),
        "run_name": pd.array([r.name for r in runs], dtype="str"),
        "status": pd.array([r.status.value for r in runs], dtype="str"),
        "start_time": pd.to_datetime(
            _floats(r.start_time_ms for r in runs), unit="ms", utc=True
        ).astype("datetime64[ms, UTC]"),
        "duration_s": _floats(r.duration_s for r in runs),
        "user": pd.array([r.user for r in runs], dtype="str"),
        "parent_run_id": pd.array([r.parent_run_id for r in runs], dtype="str"),
        "experiment_id": pd.array([r.experiment_id for r in runs], dtype="str"),
    }
    param_keys = sorted({key for r in runs for key in r.params})
    metric_keys = sorted({key for r in runs for key in r.metrics})
    tag_keys = sorted({key for r in runs for key in r.tags if _keeps_tag(key)})
    for key in param_keys:
        columns[PARAM_PREFIX + key] = pd.array([r.params.get(key) for r in runs], dtype="str")
    for key in metric_keys:
        columns[METRIC_PREFIX + key] = np.array(
            [r.metrics.get(key, np.nan) for r in runs], dtype=np.float64
        )
    for key in tag_keys:
        columns[TAG_PREFIX + key] = pd.array([r.tags.get(key) for r in runs], dtype="str")
    return pd.DataFrame(columns, index=pd.RangeIndex(len(runs)))


def _floats(values: Iterable[float | int | None]) -> npt.NDArray[np.float64]:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _keeps_tag(key: str) -> bool:
    return not key.startswith("mlflow.") or key in USEFUL_MLFLOW_TAGS


def concat_frames(pages: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Pages of runs as one frame; a column missing from a page is empty for its rows."""
    if not pages:
        return runs_to_frame([])
    frame = pages[0] if len(pages) == 1 else pd.concat(pages, ignore_index=True, sort=False)
    return frame[canonical_order(frame.columns)]


def canonical_order(columns: Iterable[str]) -> list[str]:
    """Run columns first, then params, metrics and tags, each group sorted by name."""
    names = list(columns)
    fixed = [c for c in RUN_COLUMNS if c in names]
    rest = [c for c in names if c not in RUN_COLUMNS]

    def group(prefix: str) -> list[str]:
        return sorted(c for c in rest if c.startswith(prefix))

    grouped = group(PARAM_PREFIX) + group(METRIC_PREFIX) + group(TAG_PREFIX)
    others = [c for c in rest if c not in grouped]
    return fixed + grouped + others


def default_columns(frame: pd.DataFrame, limit: int = 12) -> list[str]:
    """The columns a runs table shows before the user picks, in display order: name, status,
    start, duration, then the preferred metrics and the params that vary, `limit` in all."""
    chosen = [c for c in DEFAULT_RUN_COLUMNS if c in frame.columns]
    metrics = [c for c in frame.columns if c.startswith(METRIC_PREFIX)]
    params = [c for c in frame.columns if c.startswith(PARAM_PREFIX)]
    rank = {name: i for i, name in enumerate(PREFERRED_METRICS)}
    metrics.sort(key=lambda c: (rank.get(c[len(METRIC_PREFIX) :], len(rank)), c))
    varying = [c for c in params if frame[c].nunique(dropna=True) > 1]
    constant = [c for c in params if c not in varying]
    room = limit - len(chosen)
    metric_room = min(len(metrics), max(room // 2, room - len(params)))
    picked_metrics = metrics[:metric_room]
    picked_params = (varying + constant)[: room - len(picked_metrics)]
    # Metrics before params: a reviewer reads the results first.
    return chosen + picked_metrics + picked_params
