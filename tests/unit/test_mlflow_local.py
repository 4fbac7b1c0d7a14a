"""backends.mlflow_local on a seeded demo store: domain objects out, typed errors, safe paths."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from mlops_desktop.backends.errors import BackendError, NotFound, PermissionDenied, WorkspaceError
from mlops_desktop.backends.mlflow_local import LocalTrackingBackend
from mlops_desktop.backends.tracking import TrackingBackend
from mlops_desktop.domain.registry import ModelVersion, RegisteredModel
from mlops_desktop.domain.tracking import Experiment, MetricHistory, Run, RunStatus
from mlops_desktop.services import demo

MISSING_RUN = "0123456789abcdef" * 2


@pytest.fixture(scope="module")
def layout(tmp_path_factory) -> demo.DemoLayout:
    root = tmp_path_factory.mktemp("mlflow_local") / "demo"
    demo.init_demo_workspace(root)
    return demo.DemoLayout(root)


@pytest.fixture(scope="module")
def backend(layout) -> Iterator[LocalTrackingBackend]:
    backend = LocalTrackingBackend(layout.store_path, layout.artifact_root, label="Demo workspace")
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def sweep_id(backend) -> str:
    return next(e.experiment_id for e in backend.list_experiments() if e.name == "churn-sweep")


@pytest.fixture(scope="module")
def champion(backend) -> ModelVersion:
    versions = backend.search_model_versions(demo.DEMO_MODEL)
    return next(v for v in versions if "champion" in v.aliases)


def test_is_a_tracking_backend(backend, layout):
    assert isinstance(backend, TrackingBackend)
    assert backend.location == str(layout.store_path.absolute())
    assert backend.label == "Demo workspace"


def test_experiments_are_domain_objects(backend):
    experiments = backend.list_experiments()
    assert all(isinstance(e, Experiment) for e in experiments)
    names = {e.name for e in experiments}
    assert {"churn-sweep", "churn-baselines", "fraud-detection", "churn-retraining"} <= names
    sweep = next(e for e in experiments if e.name == "churn-sweep")
    assert "sweep" in sweep.description
    assert sweep.creation_time_ms is not None
    assert backend.list_experiments(include_deleted=True) == experiments


def test_search_runs_pages_with_a_token(backend, sweep_id):
    seen: list[Run] = []
    token: str | None = None
    pages = 0
    while True:
        runs, token = backend.search_runs([sweep_id], max_results=100, page_token=token)
        seen.extend(runs)
        pages += 1
        if token is None:
            break
    assert pages >= 4
    assert len({r.run_id for r in seen}) == len(seen) >= 300
    assert all(isinstance(r, Run) and isinstance(r.status, RunStatus) for r in seen)


def test_search_runs_filters_and_orders(backend, sweep_id):
    runs, _ = backend.search_runs(
        [sweep_id],
        filter_string="params.optimizer = 'adamw' and metrics.val_auc > 0.9",
        order_by=["metrics.val_auc DESC"],
        max_results=20,
    )
    assert runs
    aucs = [r.metrics["val_auc"] for r in runs]
    assert aucs == sorted(aucs, reverse=True)
    assert all(r.params["optimizer"] == "adamw" and r.metrics["val_auc"] > 0.9 for r in runs)


def test_bad_filter_is_a_backend_error_with_the_filter(backend, sweep_id):
    with pytest.raises(BackendError, match=r"metrics\.val_auc >> 1"):
        backend.search_runs([sweep_id], filter_string="metrics.val_auc >> 1")


def test_get_run_converts_params_metrics_tags_and_inputs(backend, champion):
    run = backend.get_run(champion.run_id)
    assert run.run_id == champion.run_id
    assert run.status is RunStatus.FINISHED
    assert run.user and run.name and run.duration_s and run.duration_s > 0
    assert float(run.params["learning_rate"]) > 0
    assert 0.5 < run.metrics["val_auc"] < 1.0
    assert run.tags["mlflow.runName"] == run.name
    contexts = {i.context for i in run.inputs}
    assert contexts == {"training", "validation"}
    training = next(i for i in run.inputs if i.context == "training")
    assert training.source.startswith("s3://"), "the source URI, not MLflow's JSON"
    assert training.digest and training.source_type == "s3"


def test_metric_history_is_sorted_numpy(backend, champion):
    history = backend.get_metric_history(champion.run_id, "val_loss")
    assert isinstance(history, MetricHistory)
    assert len(history) >= 500
    assert history.steps.dtype == np.int64 and history.values.dtype == np.float64
    assert np.all(np.diff(history.steps) > 0)
    assert np.all(np.diff(history.timestamps_ms) > 0)
    assert backend.get_metric_history(champion.run_id, "no_such_metric").steps.size == 0


def test_missing_things_are_not_found_with_a_sentence(backend):
    with pytest.raises(NotFound, match=r"Run 01234567… does not exist in Demo workspace"):
        backend.get_run(MISSING_RUN)
    with pytest.raises(NotFound, match="Run 01234567"):
        backend.get_metric_history(MISSING_RUN, "val_loss")
    with pytest.raises(NotFound, match="Registered model 'nope' does not exist"):
        backend.get_registered_model("nope")
    with pytest.raises(NotFound):
        backend.search_model_versions("nope")
    with pytest.raises(NotFound):
        backend.list_artifacts(MISSING_RUN)


def test_lists_artifacts_with_sizes(backend, champion):
    top = backend.list_artifacts(champion.run_id)
    paths = {e.path: e for e in top}
    assert paths["model"].is_dir and paths["plots"].is_dir
    assert paths["metrics_summary.json"].size_bytes
    model = {e.path for e in backend.list_artifacts(champion.run_id, "model")}
    assert {"model/MLmodel", "model/requirements.txt", "model/conda.yaml"} <= model
    assert backend.list_artifacts(champion.run_id, "model/MLmodel") == []
    with pytest.raises(NotFound):
        backend.list_artifacts(champion.run_id, "no-such-folder")


def test_reads_artifacts_within_the_cap(backend, champion):
    png = backend.read_artifact(champion.run_id, "plots/training_report.png")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    mlmodel = backend.read_artifact(champion.run_id, "model/MLmodel").decode()
    assert f"run_id: {champion.run_id}" in mlmodel
    with pytest.raises(BackendError, match="more than"):
        backend.read_artifact(champion.run_id, "plots/training_report.png", max_bytes=100)
    with pytest.raises(NotFound):
        backend.read_artifact(champion.run_id, "nope.txt")
    with pytest.raises(BackendError, match="is a folder"):
        backend.read_artifact(champion.run_id, "model")


@pytest.mark.parametrize("path", ["../../../mlflow.db", "/etc/passwd", "model/../../x", "C:/x"])
def test_refuses_paths_outside_the_run(backend, champion, path):
    with pytest.raises(PermissionDenied, match="outside"):
        backend.read_artifact(champion.run_id, path)
    with pytest.raises(PermissionDenied):
        backend.list_artifacts(champion.run_id, path)


def test_refuses_a_link_leading_outside(backend, champion, layout, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    link = Path(champion.source).parent / "escape.txt"
    link.symlink_to(secret)
    try:
        with pytest.raises(PermissionDenied, match="links outside"):
            backend.read_artifact(champion.run_id, "escape.txt")
    finally:
        link.unlink()


def test_registered_models_carry_aliases(backend):
    models = backend.search_registered_models()
    assert all(isinstance(m, RegisteredModel) for m in models)
    churn = backend.get_registered_model(demo.DEMO_MODEL)
    assert churn in models
    assert set(churn.aliases) == {"champion", "challenger"}
    assert churn.description


def test_model_versions_newest_first_with_aliases_filled_in(backend):
    versions = backend.search_model_versions(demo.DEMO_MODEL)
    numbers = [int(v.version) for v in versions]
    assert numbers == sorted(numbers, reverse=True) and len(numbers) >= 3
    churn = backend.get_registered_model(demo.DEMO_MODEL)
    for alias, number in churn.aliases.items():
        holder = next(v for v in versions if v.version == number)
        assert alias in holder.aliases
    assert sum(len(v.aliases) for v in versions) == len(churn.aliases)
    assert all(v.run_id and v.source and v.creation_time_ms for v in versions)


def test_concurrent_calls_from_worker_threads(backend, sweep_id, champion):
    def work(i: int) -> object:
        match i % 4:
            case 0:
                return len(backend.search_runs([sweep_id], max_results=200)[0])
            case 1:
                return len(backend.get_metric_history(champion.run_id, "train_loss"))
            case 2:
                return backend.get_run(champion.run_id).run_id
            case _:
                return len(backend.search_model_versions(demo.DEMO_MODEL))

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(32)))
    assert all(results[i] == results[i % 4] for i in range(32))


def test_close_then_use_reopens(layout):
    backend = LocalTrackingBackend(layout.store_path, layout.artifact_root)
    backend.close()
    assert backend.list_experiments()
    backend.close()


def test_a_moved_workspace_still_finds_its_artifacts(layout, champion, tmp_path):
    moved = tmp_path / "moved"
    shutil.copytree(layout.root, moved)
    copy = demo.DemoLayout(moved)
    # The store still names the original folders: hide the champion's to play "moved away".
    original = Path(champion.source).parent
    hidden = original.with_name("artifacts.hidden")
    original.rename(hidden)
    try:
        backend = LocalTrackingBackend(copy.store_path, copy.artifact_root)
        try:
            summary = backend.read_artifact(champion.run_id, "metrics_summary.json")
            assert summary == (hidden / "metrics_summary.json").read_bytes()
        finally:
            backend.close()
    finally:
        hidden.rename(original)


def test_missing_store_is_a_workspace_error(tmp_path):
    with pytest.raises(WorkspaceError, match="does not exist"):
        LocalTrackingBackend(tmp_path / "mlflow.db", tmp_path / "artifacts")


def test_refuses_a_database_that_is_not_an_mlflow_store(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE people (name TEXT)")
    connection.close()
    with pytest.raises(WorkspaceError, match="not an MLflow tracking store"):
        LocalTrackingBackend(path, tmp_path / "artifacts")
    with sqlite3.connect(path) as connection:
        tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
    connection.close()
    assert tables == {"people"}, "the user's database was not touched"
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(WorkspaceError, match="not a readable SQLite database"):
        LocalTrackingBackend(junk, tmp_path / "artifacts")
