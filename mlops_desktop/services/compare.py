"""Compare runs: which to compare by default, their param diff, metric table and histories.

Every function works on a runs frame from `services.experiments` (one row per run, columns
`params.<k>` and `metrics.<k>`), so it is the same for a server, the demo store or a bundle.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from mlops_desktop.backends.tracking import TrackingBackend
from mlops_desktop.domain.tracking import MetricHistory
from mlops_desktop.services.experiments import (
    METRIC_PREFIX,
    PARAM_PREFIX,
    ExperimentSummary,
    largest_experiment,
    load_experiments,
    load_runs_frame,
    runs_to_frame,
)
from mlops_desktop.services.tasks import TaskState

DEFAULT_METRIC = METRIC_PREFIX + "val_auc"
DEFAULT_COUNT = 5
#: The history shown first on the chart, when the runs have it.
DEFAULT_HISTORY_KEY = "val_loss"
_LOWER_IS_BETTER = re.compile(r"loss|error|latency|(^|[^a-z])(mae|mse|rmse)($|[^a-z])")


def lower_is_better(metric: str) -> bool:
    """Whether a smaller value of this metric is better (losses, errors, latencies)."""
    name = metric.removeprefix(METRIC_PREFIX).lower()
    return _LOWER_IS_BETTER.search(name) is not None


def default_selection(
    frame: pd.DataFrame, metric: str = DEFAULT_METRIC, n: int = DEFAULT_COUNT
) -> list[str]:
    """The ids of the `n` best runs by `metric` (runs without it never qualify).

    When no run has the metric, the `n` most recent runs instead.
    """
    if metric in frame.columns and frame[metric].notna().any():
        ranked = frame[frame[metric].notna()].sort_values(
            metric, ascending=lower_is_better(metric), kind="stable"
        )
    elif "start_time" in frame.columns:
        ranked = frame.sort_values("start_time", ascending=False, na_position="last")
    else:
        ranked = frame
    return [str(run_id) for run_id in ranked["run_id"].head(n)]


@dataclass(frozen=True)
class DefaultComparison:
    """What the compare view shows before the user picks runs."""

    experiment: ExperimentSummary | None  # None when the workspace has no experiment
    metric: str
    frame: pd.DataFrame  # the selected runs only, best first
    run_ids: list[str]


def load_default_comparison(
    tracking: TrackingBackend,
    state: TaskState,
    metric: str = DEFAULT_METRIC,
    n: int = DEFAULT_COUNT,
) -> DefaultComparison:
    """The top `n` runs by `metric` of the experiment with the most runs."""
    largest = largest_experiment(load_experiments(tracking, state))
    if largest is None or largest.run_count == 0:
        return DefaultComparison(largest, metric, runs_to_frame([]), [])
    frame = load_runs_frame(
        tracking, [largest.experiment_id], state, expected_total=largest.run_count
    )
    run_ids = default_selection(frame, metric, n)
    return DefaultComparison(largest, metric, select_runs(frame, run_ids), run_ids)


def select_runs(frame: pd.DataFrame, run_ids: Sequence[str]) -> pd.DataFrame:
    """The rows of these runs, in the order given (unknown ids are left out)."""
    positions = pd.Index(frame["run_id"]).get_indexer(list(run_ids))
    rows: pd.DataFrame = frame.iloc[positions[positions >= 0]]
    return rows.reset_index(drop=True)


def run_labels(frame: pd.DataFrame, run_ids: Sequence[str]) -> dict[str, str]:
    """A short, unique label per run: its name, with the id's start where names repeat."""
    rows = select_runs(frame, run_ids)
    names = {
        str(run_id): (str(name) if isinstance(name, str) and name else str(run_id)[:8])
        for run_id, name in zip(rows["run_id"], rows["run_name"], strict=True)
    }
    counts = pd.Series(list(names.values())).value_counts()
    labels = {}
    for run_id in run_ids:
        name = names.get(run_id, run_id[:8])
        labels[run_id] = f"{name} ({run_id[:6]})" if counts.get(name, 0) > 1 else name
    return labels


def param_diff(
    frame: pd.DataFrame, run_ids: Sequence[str], only_differences: bool = True
) -> pd.DataFrame:
    """Params (rows, sorted, named without `params.`) by run (columns, the run ids).

    A param a run does not have is missing (NaN). With `only_differences`, only the params
    whose value is not the same for every run are kept (missing counts as a value).
    """
    rows = select_runs(frame, run_ids)
    columns = sorted(c for c in frame.columns if c.startswith(PARAM_PREFIX))
    table = pd.DataFrame(
        {
            str(run_id): rows.loc[i, columns].to_numpy(dtype=object)
            for i, run_id in enumerate(rows["run_id"])
        },
        index=pd.Index([c.removeprefix(PARAM_PREFIX) for c in columns], name="param"),
        dtype=object,
    )
    table = table.loc[table.notna().any(axis=1)]
    if only_differences:
        table = table.loc[rows_that_differ(table)]
    return table


def rows_that_differ(table: pd.DataFrame) -> npt.NDArray[np.bool_]:
    """For each row, whether its values are not all equal (missing counts as a value)."""
    if table.shape[1] == 0:
        return np.zeros(len(table), dtype=bool)
    filled = table.astype(object).where(table.notna(), "\0missing")
    return np.asarray(filled.nunique(axis=1, dropna=False) > 1, dtype=bool)


def metric_table(frame: pd.DataFrame, run_ids: Sequence[str], baseline_id: str) -> pd.DataFrame:
    """The latest metrics of these runs, one row per (metric, run), metrics sorted by name.

    Columns: `metric` (without prefix), `run_id`, `value`, `delta` (value minus the baseline
    run's), `is_baseline`, `is_best` (the best value of that metric among the runs; ties are
    all best), `better_than_baseline` (True/False, None where either value is missing or for
    the baseline itself) and `lower_is_better`.
    """
    rows = select_runs(frame, run_ids)
    metric_columns = sorted(
        c for c in frame.columns if c.startswith(METRIC_PREFIX) and rows[c].notna().any()
    )
    ids = [str(r) for r in rows["run_id"]]
    records: list[dict[str, object]] = []
    for column in metric_columns:
        values = rows[column].to_numpy(dtype=np.float64)
        lower = lower_is_better(column)
        best = np.nanmin(values) if lower else np.nanmax(values)
        baseline = values[ids.index(baseline_id)] if baseline_id in ids else np.nan
        for run_id, value in zip(ids, values, strict=True):
            delta = value - baseline
            if run_id == baseline_id or np.isnan(delta):
                better: bool | None = None
            else:
                better = bool(delta < 0) if lower else bool(delta > 0)
            records.append(
                {
                    "metric": column.removeprefix(METRIC_PREFIX),
                    "run_id": run_id,
                    "value": value,
                    "delta": delta,
                    "is_baseline": run_id == baseline_id,
                    "is_best": bool(value == best),
                    "better_than_baseline": better,
                    "lower_is_better": lower,
                }
            )
    columns = [
        "metric",
        "run_id",
        "value",
        "delta",
        "is_baseline",
        "is_best",
        "better_than_baseline",
        "lower_is_better",
    ]
    table = pd.DataFrame.from_records(records, columns=columns)
    return table.astype({"value": np.float64, "delta": np.float64})


def metric_keys(frame: pd.DataFrame, run_ids: Sequence[str] | None = None) -> list[str]:
    """The metric names (without prefix) that at least one of these runs logged."""
    rows = frame if run_ids is None else select_runs(frame, run_ids)
    return sorted(
        c.removeprefix(METRIC_PREFIX)
        for c in frame.columns
        if c.startswith(METRIC_PREFIX) and rows[c].notna().any()
    )


def default_history_key(keys: Sequence[str]) -> str | None:
    """The history to chart first: val_loss when there is one, else the first loss, else any."""
    if DEFAULT_HISTORY_KEY in keys:
        return DEFAULT_HISTORY_KEY
    losses = [k for k in keys if "loss" in k]
    candidates = losses or list(keys)
    return candidates[0] if candidates else None


def load_histories(
    tracking: TrackingBackend, run_ids: Sequence[str], key: str, state: TaskState
) -> list[MetricHistory]:
    """The full history of metric `key` for each run, in the order of `run_ids`.

    A run that never logged the metric gets an empty history.
    """
    histories = []
    for number, run_id in enumerate(run_ids):
        state.progress(number / max(1, len(run_ids)), f"Loading {key} histories")
        histories.append(tracking.get_metric_history(run_id, key))
    state.progress(1.0, f"Loaded {key} histories")
    return histories
