"""services.compare: default selection, param diff, metric table and histories."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlops_desktop.domain.tracking import MetricHistory
from mlops_desktop.services.compare import (
    default_history_key,
    default_selection,
    load_default_comparison,
    load_histories,
    lower_is_better,
    metric_keys,
    metric_table,
    param_diff,
    rows_that_differ,
    run_labels,
    select_runs,
)
from mlops_desktop.services.tasks import TaskState


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "run_id": ["a", "b", "c", "d"],
            "run_name": ["alpha", "beta", "beta", None],
            "start_time": pd.to_datetime([1, 4, 2, 3], unit="D", utc=True),
            "params.lr": ["0.1", "0.01", "0.1", "0.1"],
            "params.model": ["gbdt", "gbdt", "gbdt", "gbdt"],
            "params.depth": ["4", None, "4", "4"],
            "metrics.val_auc": [0.80, 0.90, np.nan, 0.85],
            "metrics.val_loss": [0.40, 0.30, 0.35, 0.30],
            "metrics.f1": [np.nan, np.nan, np.nan, np.nan],
        }
    )


@pytest.mark.parametrize(
    ("name", "lower"),
    [
        ("metrics.val_loss", True),
        ("train_loss", True),
        ("error_rate", True),
        ("latency_p95_ms", True),
        ("val_rmse", True),
        ("mae", True),
        ("val_auc", False),
        ("val_accuracy", False),
        ("f1", False),
        ("maestro_score", False),
    ],
)
def test_which_metrics_are_better_lower(name, lower):
    assert lower_is_better(name) is lower


def test_default_selection_takes_the_best_runs_that_have_the_metric(frame):
    assert default_selection(frame, "metrics.val_auc", n=5) == ["b", "d", "a"]
    assert default_selection(frame, "metrics.val_auc", n=2) == ["b", "d"]


def test_default_selection_of_a_loss_takes_the_lowest(frame):
    assert default_selection(frame, "metrics.val_loss", n=3) == ["b", "d", "c"]


def test_default_selection_without_the_metric_takes_the_most_recent(frame):
    assert default_selection(frame, "metrics.f1", n=2) == ["b", "d"]
    assert default_selection(frame, "metrics.nope", n=1) == ["b"]


def test_select_runs_keeps_the_order_and_skips_unknown_ids(frame):
    assert select_runs(frame, ["c", "zz", "a"])["run_id"].tolist() == ["c", "a"]


def test_param_diff_keeps_only_params_that_differ(frame):
    diff = param_diff(frame, ["a", "b", "c"])
    assert list(diff.columns) == ["a", "b", "c"]
    assert diff.index.name == "param"
    # a missing value differs from a set one
    assert diff.index.tolist() == ["depth", "lr"]
    assert diff.loc["lr"].tolist() == ["0.1", "0.01", "0.1"]
    assert pd.isna(diff.loc["depth", "b"])


def test_param_diff_can_show_every_param(frame):
    full = param_diff(frame, ["a", "c"], only_differences=False)
    assert full.index.tolist() == ["depth", "lr", "model"]
    assert rows_that_differ(full).tolist() == [False, False, False]
    assert param_diff(frame, ["a", "c"]).empty


def test_metric_table_has_deltas_to_the_baseline_and_the_best(frame):
    table = metric_table(frame, ["a", "b", "c"], baseline_id="a")
    assert table["metric"].unique().tolist() == ["val_auc", "val_loss"]  # f1: no values
    auc = table[table["metric"] == "val_auc"].set_index("run_id")
    assert auc.loc["b", "delta"] == pytest.approx(0.10)
    assert auc.loc["a", "delta"] == 0.0
    assert np.isnan(auc.loc["c", "value"])
    assert auc["is_best"].tolist() == [False, True, False]
    assert auc.loc["b", "better_than_baseline"] is True
    assert auc.loc["a", "better_than_baseline"] is None
    assert auc.loc["c", "better_than_baseline"] is None
    assert auc["is_baseline"].tolist() == [True, False, False]

    loss = table[table["metric"] == "val_loss"].set_index("run_id")
    assert loss["lower_is_better"].all()
    assert loss["is_best"].tolist() == [False, True, False]
    assert loss.loc["c", "better_than_baseline"] is True  # 0.35 < 0.40
    assert loss.loc["c", "delta"] == pytest.approx(-0.05)


def test_tied_best_values_are_all_best(frame):
    table = metric_table(frame, ["b", "d"], baseline_id="b")
    loss = table[table["metric"] == "val_loss"]
    assert loss["is_best"].tolist() == [True, True]


def test_run_labels_are_unique(frame):
    labels = run_labels(frame, ["a", "b", "c", "d"])
    assert labels["a"] == "alpha"
    assert labels["b"] != labels["c"]
    assert labels["b"].startswith("beta")
    assert labels["d"] == "d"  # no name: the id


def test_metric_keys_and_the_default_history(frame):
    assert metric_keys(frame) == ["val_auc", "val_loss"]
    assert default_history_key(["train_loss", "val_auc", "val_loss"]) == "val_loss"
    assert default_history_key(["accuracy", "train_loss"]) == "train_loss"
    assert default_history_key(["accuracy"]) == "accuracy"
    assert default_history_key([]) is None


class HistoryTracking:
    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def get_metric_history(self, run_id: str, key: str) -> MetricHistory:
        self.asked.append((run_id, key))
        steps = np.arange(3, dtype=np.int64)
        return MetricHistory(run_id, key, steps, steps, np.ones(3))


def test_histories_come_back_in_the_order_asked():
    tracking = HistoryTracking()
    histories = load_histories(tracking, ["b", "a"], "val_loss", TaskState())  # type: ignore[arg-type]
    assert [h.run_id for h in histories] == ["b", "a"]
    assert tracking.asked == [("b", "val_loss"), ("a", "val_loss")]


# -- on the real demo store ----------------------------------------------------------------------


def test_demo_default_comparison_is_the_top_five_of_the_sweep(demo_workspace):
    result = load_default_comparison(demo_workspace.tracking, TaskState())
    assert result.experiment is not None
    assert result.experiment.name == "churn-sweep"
    assert len(result.run_ids) == 5
    aucs = result.frame["metrics.val_auc"].tolist()
    assert aucs == sorted(aucs, reverse=True)
    assert result.frame["run_id"].tolist() == result.run_ids


def test_demo_histories_have_every_step(demo_workspace):
    result = load_default_comparison(demo_workspace.tracking, TaskState())
    histories = load_histories(demo_workspace.tracking, result.run_ids, "val_loss", TaskState())
    assert [h.run_id for h in histories] == result.run_ids
    for history in histories:
        assert len(history) >= 500
        assert np.all(np.diff(history.steps) >= 0)


def test_demo_param_diff_shows_what_the_sweep_varied(demo_workspace):
    result = load_default_comparison(demo_workspace.tracking, TaskState())
    diff = param_diff(result.frame, result.run_ids)
    assert len(diff) >= 1
    assert len(param_diff(result.frame, result.run_ids, only_differences=False)) >= 8
    table = metric_table(result.frame, result.run_ids, result.run_ids[0])
    assert table[table["metric"] == "val_auc"]["is_best"].iloc[0]
