"""services.experiments: experiment summaries and the runs frame, on small runs and the demo."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

from mlops_desktop.backends.tracking import RunsPage
from mlops_desktop.domain.tracking import Experiment, MetricHistory, Run, RunStatus
from mlops_desktop.services.experiments import (
    FIRST_RUNS_PAGE,
    RUN_COLUMNS,
    ExperimentSummary,
    canonical_order,
    default_columns,
    largest_experiment,
    load_experiments,
    load_runs_by_id,
    load_runs_frame,
    runs_to_frame,
)
from mlops_desktop.services.tasks import Cancelled, TaskState

DAY_MS = 86_400_000
T0 = 1_750_000_000_000


def make_run(number: int, experiment_id: str = "1", **overrides: object) -> Run:
    fields: dict[str, object] = {
        "run_id": f"run{number:05d}",
        "experiment_id": experiment_id,
        "name": f"trial-{number}",
        "status": RunStatus.FINISHED,
        "start_time_ms": T0 + number * 1000,
        "end_time_ms": T0 + number * 1000 + 90_000,
        "user": "ana",
        "params": {"learning_rate": str(0.1 / (1 + number % 3)), "model": "gbdt"},
        "metrics": {"val_auc": 0.8 + number / 100_000, "val_loss": 0.5 - number / 100_000},
        "tags": {
            "mlflow.runName": f"trial-{number}",
            "mlflow.user": "ana",
            "mlflow.source.git.commit": "c0ffee",
            "team": "growth",
        },
    }
    fields.update(overrides)
    return Run(**fields)  # type: ignore[arg-type]


class FakeTracking:
    """An in-memory TrackingBackend: experiments and runs in lists, pages by offset."""

    label = "Fake"
    location = "memory"

    def __init__(self, experiments: Sequence[Experiment], runs: Sequence[Run]) -> None:
        self.experiments = list(experiments)
        self.runs = list(runs)
        self.searches: list[tuple[tuple[str, ...], str, int]] = []

    def list_experiments(self, include_deleted: bool = False) -> list[Experiment]:
        return list(self.experiments)

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        max_results: int = 1000,
        page_token: str | None = None,
        order_by: Sequence[str] = (),
    ) -> RunsPage:
        self.searches.append((tuple(experiment_ids), filter_string, max_results))
        runs = [r for r in self.runs if r.experiment_id in experiment_ids]
        start = int(page_token or 0)
        end = start + max_results
        return runs[start:end], (str(end) if end < len(runs) else None)

    def get_run(self, run_id: str) -> Run:
        return next(r for r in self.runs if r.run_id == run_id)

    def get_metric_history(self, run_id: str, key: str) -> MetricHistory:
        steps = np.arange(10, dtype=np.int64)
        return MetricHistory(run_id, key, steps, steps * 1000, np.linspace(1, 0, 10))

    def close(self) -> None:
        pass


class RecordingState(TaskState):
    def __init__(self) -> None:
        self.pages: list[pd.DataFrame] = []
        self.fractions: list[float] = []
        super().__init__(
            on_progress=lambda fraction, _: self.fractions.append(fraction),
            on_partial=self.pages.append,
        )


# -- the runs frame ----------------------------------------------------------------------------


def test_runs_frame_has_fixed_columns_then_params_metrics_and_useful_tags():
    running = make_run(2, status=RunStatus.RUNNING, end_time_ms=None)
    child = make_run(3, tags={"mlflow.parentRunId": "run00001", "mlflow.runName": "x"})
    frame = runs_to_frame([make_run(1), running, child])

    assert list(frame.columns[: len(RUN_COLUMNS)]) == list(RUN_COLUMNS)
    assert list(frame.columns[len(RUN_COLUMNS) :]) == [
        "params.learning_rate",
        "params.model",
        "metrics.val_auc",
        "metrics.val_loss",
        "tags.mlflow.source.git.commit",
        "tags.team",
    ]
    assert frame["run_name"].tolist() == ["trial-1", "trial-2", "trial-3"]
    assert frame["status"].tolist() == ["FINISHED", "RUNNING", "FINISHED"]
    assert str(frame["start_time"].dtype) == "datetime64[ms, UTC]"
    assert frame["start_time"][0] == pd.Timestamp(T0 + 1000, unit="ms", tz="UTC")
    assert frame["duration_s"][0] == 90.0
    assert np.isnan(frame["duration_s"][1])
    assert frame["parent_run_id"].isna().tolist() == [True, True, False]
    assert frame["parent_run_id"][2] == "run00001"
    assert frame["params.learning_rate"][0] == "0.05"  # params stay the strings MLflow stores
    assert frame["metrics.val_auc"].dtype == np.float64


def test_a_key_missing_from_a_run_is_missing_not_zero():
    frame = runs_to_frame([make_run(1), make_run(2, params={}, metrics={"f1": 0.5})])
    assert frame["params.model"].isna().tolist() == [False, True]
    assert np.isnan(frame["metrics.val_auc"][1])
    assert np.isnan(frame["metrics.f1"][0])


def test_an_empty_page_still_has_the_run_columns():
    frame = runs_to_frame([])
    assert list(frame.columns) == list(RUN_COLUMNS)
    assert len(frame) == 0


def test_canonical_order_groups_params_metrics_then_tags():
    columns = ["tags.b", "metrics.z", "run_id", "params.y", "metrics.a", "status", "params.b"]
    assert canonical_order(columns) == [
        "run_id",
        "status",
        "params.b",
        "params.y",
        "metrics.a",
        "metrics.z",
        "tags.b",
    ]


def test_runs_stream_page_by_page_and_come_back_whole():
    runs = [make_run(n) for n in range(2_500)]
    runs[-1] = make_run(2_499, params={"late_param": "1"})  # only on the last page
    tracking = FakeTracking([Experiment("1", "sweep")], runs)
    state = RecordingState()

    frame = load_runs_frame(
        tracking, ["1"], state, expected_total=2_500, page_size=1000, first_page_size=1000
    )

    assert [len(page) for page in state.pages] == [1000, 1000, 500]
    assert len(frame) == 2_500
    assert frame["run_id"].is_unique
    assert frame["params.late_param"].notna().sum() == 1
    assert list(frame.columns) == canonical_order(frame.columns)
    assert state.fractions[-1] == 1.0
    assert state.fractions == sorted(state.fractions)


def test_the_filter_goes_to_the_backend_unchanged():
    tracking = FakeTracking([Experiment("1", "sweep")], [make_run(1)])
    load_runs_frame(tracking, ["1"], TaskState(), filter_string="metrics.val_auc > 0.9")
    assert tracking.searches == [(("1",), "metrics.val_auc > 0.9", FIRST_RUNS_PAGE)]


def test_cancelling_stops_between_pages():
    tracking = FakeTracking([Experiment("1", "sweep")], [make_run(n) for n in range(3_000)])
    state = RecordingState()
    original = state.partial

    def cancel_after_first(page: pd.DataFrame) -> None:
        original(page)
        state.cancel()

    state.partial = cancel_after_first  # type: ignore[method-assign]
    with pytest.raises(Cancelled):
        load_runs_frame(tracking, ["1"], state)
    assert len(tracking.searches) == 1


def test_runs_by_id_keep_the_order_asked():
    tracking = FakeTracking([Experiment("1", "a")], [make_run(n) for n in range(5)])
    frame = load_runs_by_id(tracking, ["run00003", "run00001"], TaskState())
    assert frame["run_id"].tolist() == ["run00003", "run00001"]


# -- experiments ---------------------------------------------------------------------------------


def test_experiments_have_run_counts_and_last_activity_most_recent_first():
    experiments = [
        Experiment("1", "old", last_update_time_ms=T0 - 5 * DAY_MS),
        Experiment("2", "busy"),
        Experiment("3", "empty", creation_time_ms=T0 - DAY_MS),
    ]
    runs = [make_run(n, "1") for n in range(3)] + [make_run(n, "2") for n in range(10, 1_510)]
    summaries = load_experiments(FakeTracking(experiments, runs), TaskState())

    assert [s.name for s in summaries] == ["busy", "old", "empty"]
    by_name = {s.name: s for s in summaries}
    assert by_name["busy"].run_count == 1_500
    assert by_name["busy"].last_activity_ms == T0 + 1_509 * 1000 + 90_000
    assert by_name["empty"].run_count == 0
    assert by_name["empty"].last_activity_ms == T0 - DAY_MS
    assert largest_experiment(summaries) is by_name["busy"]
    assert largest_experiment([]) is None


def test_default_columns_put_metrics_before_varying_params_within_the_limit():
    runs = [
        make_run(
            n,
            params={"a_constant": "x", "depth": str(n % 4), "lr": str(n)},
            metrics={"zeta": 1.0, "f1": 0.5, "val_loss": 0.2, "val_auc": 0.9},
        )
        for n in range(8)
    ]
    columns = default_columns(runs_to_frame(runs), limit=8)
    assert columns[:4] == ["run_name", "status", "start_time", "duration_s"]
    assert columns[4:6] == ["metrics.val_auc", "metrics.val_loss"]
    assert columns[6:] == ["params.depth", "params.lr"]


# -- on the real demo store ----------------------------------------------------------------------


def sweep(summaries: list[ExperimentSummary]) -> ExperimentSummary:
    return next(s for s in summaries if s.name == "churn-sweep")


def test_demo_experiments_are_counted(demo_workspace):
    summaries = load_experiments(demo_workspace.tracking, TaskState())
    assert len(summaries) >= 3
    assert sweep(summaries).run_count >= 300
    assert largest_experiment(summaries) is sweep(summaries)
    assert all(s.last_activity_ms for s in summaries if s.run_count)


def test_demo_sweep_loads_as_one_frame(demo_workspace):
    tracking = demo_workspace.tracking
    summary = sweep(load_experiments(tracking, TaskState()))
    state = RecordingState()
    frame = load_runs_frame(tracking, [summary.experiment_id], state, expected_total=None)

    assert len(frame) == summary.run_count
    assert sum(len(page) for page in state.pages) == len(frame)
    assert frame["run_id"].is_unique
    params = [c for c in frame.columns if c.startswith("params.")]
    metrics = [c for c in frame.columns if c.startswith("metrics.")]
    assert len(params) >= 8
    assert {"metrics.val_loss", "metrics.train_loss", "metrics.val_auc"} <= set(metrics)
    assert frame["parent_run_id"].notna().any(), "the sweep has nested runs"
    assert frame["start_time"].notna().all()
    assert not any(
        c.startswith("tags.mlflow.")
        and c != "tags.mlflow.source.git.commit"
        and c
        not in {
            "tags.mlflow.source.name",
            "tags.mlflow.source.git.branch",
            "tags.mlflow.note.content",
        }
        for c in frame.columns
    )


def test_demo_filter_runs_on_the_backend(demo_workspace):
    tracking = demo_workspace.tracking
    summary = sweep(load_experiments(tracking, TaskState()))
    frame = load_runs_frame(
        tracking, [summary.experiment_id], TaskState(), filter_string="metrics.val_auc > 0.8"
    )
    assert 0 < len(frame) < summary.run_count
    assert (frame["metrics.val_auc"] > 0.8).all()
