"""Grouping and nesting the runs of a real MLflow server, checked against MLflow's own answers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from mlops_desktop.backends.mlflow_rest import MlflowRestBackend
from mlops_desktop.services.experiments import load_runs_frame
from mlops_desktop.services.grouping import NONE_LABEL, group_runs, nest_runs
from mlops_desktop.services.tasks import TaskState
from tests.harness.mlflow_servers import MlflowServer

pytestmark = pytest.mark.integration

TRIALS = [  # (optimizer, auc): one trial without an auc
    ("adam", 0.81),
    ("sgd", 0.72),
    ("adam", 0.86),
    ("rmsprop", None),
    ("adam", 0.79),
    ("sgd", 0.75),
]


@dataclass(frozen=True)
class Logged:
    experiment_id: str
    sweep: str  # the parent run of the trials
    trials: list[str]
    folds: list[str]  # children of the first trial, without an optimizer
    baseline: str  # a top-level run
    orphan: str  # child of a run in another experiment


@pytest.fixture(scope="module")
def logged(mlflow_server: MlflowServer) -> Iterator[Logged]:
    """A sweep logged with `mlflow.start_run(nested=True)`: a parent, six trials, two folds
    under the first trial; a baseline run; and a run whose parent is in another experiment."""
    import mlflow

    suffix = uuid.uuid4().hex[:8]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)
        client = mlflow.MlflowClient(tracking_uri=mlflow_server.url)
        experiment_id = client.create_experiment(f"grouping-{suffix}")
        elsewhere = client.create_experiment(f"grouping-elsewhere-{suffix}")
        trials, folds = [], []
        with mlflow.start_run(experiment_id=experiment_id, run_name="sweep") as sweep:
            mlflow.log_param("sampler", "tpe")
            for number, (optimizer, auc) in enumerate(TRIALS):
                with mlflow.start_run(
                    experiment_id=experiment_id, run_name=f"trial-{number}", nested=True
                ) as trial:
                    mlflow.log_params({"opt": optimizer, "lr": str(10.0 ** -(number % 3 + 1))})
                    if auc is not None:
                        mlflow.log_metric("auc", auc)
                    trials.append(trial.info.run_id)
                    if number == 0:
                        for fold in range(2):
                            with mlflow.start_run(
                                experiment_id=experiment_id, run_name=f"fold-{fold}", nested=True
                            ) as run:
                                mlflow.log_metric("auc", 0.8 + fold / 100)
                                folds.append(run.info.run_id)
        with mlflow.start_run(experiment_id=experiment_id, run_name="baseline") as baseline:
            mlflow.log_param("opt", "adam")
            mlflow.log_metric("auc", 0.7)
        far_parent = client.create_run(elsewhere, run_name="far-parent").info.run_id
        orphan = client.create_run(
            experiment_id, run_name="orphan", tags={"mlflow.parentRunId": far_parent}
        ).info.run_id
        client.log_param(orphan, "opt", "sgd")
        client.set_terminated(orphan)
        yield Logged(
            experiment_id,
            sweep.info.run_id,
            trials,
            folds,
            baseline.info.run_id,
            orphan,
        )


@pytest.fixture(scope="module")
def frame(mlflow_server: MlflowServer, logged: Logged) -> Iterator[pd.DataFrame]:
    backend = MlflowRestBackend(mlflow_server.url, label="test server")
    try:
        # Small pages: the frame is put together from several, as with a large experiment.
        yield load_runs_frame(backend, [logged.experiment_id], TaskState(), page_size=4)
    finally:
        backend.close()


def test_nested_runs_come_back_as_a_tree(frame: pd.DataFrame, logged: Logged):
    assert len(frame) == 1 + len(TRIALS) + 2 + 1 + 1
    nesting = nest_runs(frame)
    ids = frame["run_id"].tolist()
    row = {run_id: ids.index(run_id) for run_id in ids}

    def child_ids(run_id: str) -> set[str]:
        return {ids[r] for r in nesting.children(row[run_id])}

    assert {ids[r] for r in nesting.roots} == {logged.sweep, logged.baseline, logged.orphan}
    assert child_ids(logged.sweep) == set(logged.trials)
    assert child_ids(logged.trials[0]) == set(logged.folds)
    assert all(nesting.depth[row[fold]] == 2 for fold in logged.folds)
    assert [ids[r] for r in np.flatnonzero(nesting.orphan)] == [logged.orphan]
    # Depth first: every run comes after its parent, and a subtree is contiguous.
    position = {ids[r]: p for p, r in enumerate(nesting.order)}
    first_trial = position[logged.trials[0]]
    assert sorted(position[fold] for fold in logged.folds) == [first_trial + 1, first_trial + 2]
    assert all(position[trial] > position[logged.sweep] for trial in logged.trials)


@pytest.mark.ui
def test_the_tree_model_shows_the_server_runs_nested(qapp, frame: pd.DataFrame, logged: Logged):
    from PySide6.QtCore import QModelIndex

    from mlops_desktop.ui.runs_tree_model import RunsTreeModel

    model = RunsTreeModel(frame, ["run_name", "status", "metrics.auc", "params.opt"])
    model.show_nested()

    def names(parent: QModelIndex) -> list[str]:
        return [model.index(r, 0, parent).data() for r in range(model.rowCount(parent))]

    top = names(QModelIndex())
    assert sorted(top) == ["baseline", "orphan", "sweep"]
    sweep = model.index(top.index("sweep"), 0)
    trials = names(sweep)
    assert sorted(trials) == [f"trial-{n}" for n in range(len(TRIALS))]
    first = model.index(trials.index("trial-0"), 0, sweep)
    assert sorted(names(first)) == ["fold-0", "fold-1"]
    assert model.run_id(first) == logged.trials[0]


def test_grouping_by_a_param_matches_a_pandas_groupby_of_mlflow_search_runs(
    frame: pd.DataFrame, logged: Logged, mlflow_server: MlflowServer, monkeypatch
):
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)
    peer = mlflow.search_runs(experiment_ids=[logged.experiment_id])
    assert isinstance(peer, pd.DataFrame)
    by = peer["params.opt"].fillna(NONE_LABEL)
    expected = peer.groupby(by)["metrics.auc"].agg(["size", "count", "mean", "min", "max"])
    expected_members = peer.groupby(by)["run_id"].agg(set)

    grouping = group_runs(frame, "params.opt", ["metrics.auc"])
    assert sorted(grouping.labels) == sorted(expected.index)
    assert grouping.labels[-1] == NONE_LABEL  # the sweep parent and the folds
    auc = grouping.metrics["metrics.auc"]
    ids = frame["run_id"].to_numpy()
    for group, label in enumerate(grouping.labels):
        row = expected.loc[label]
        assert grouping.counts[group] == row["size"], label
        assert auc.count[group] == row["count"], label
        for name in ("mean", "min", "max"):
            ours, theirs = auc.aggregate(name)[group], row[name]
            assert ours == pytest.approx(theirs, nan_ok=True), (label, name)
        assert set(ids[grouping.members(group)]) == expected_members[label]
