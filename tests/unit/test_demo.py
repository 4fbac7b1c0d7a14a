"""services.demo: the seeded workspace holds everything every view needs, fast and atomically.

Everything is read back through MLflow's own store (via LocalTrackingBackend), the monitoring
source and the job history, so the demo is checked as real MLflow data.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from mlops_desktop.backends.embedded_metrics import EmbeddedMetricsSource
from mlops_desktop.backends.errors import WorkspaceError
from mlops_desktop.backends.local_runner import LocalJobHistory
from mlops_desktop.backends.mlflow_local import LocalTrackingBackend
from mlops_desktop.domain.jobs import JobStatus
from mlops_desktop.domain.promotion import PromotionState
from mlops_desktop.domain.tracking import Run, RunStatus
from mlops_desktop.services import audit, demo, promotion
from mlops_desktop.services.tasks import Cancelled, TaskState

NOW_MS = int(time.time() * 1000) // 1000 * 1000
DAY_S = 86_400


@dataclass(frozen=True)
class Seeded:
    root: Path
    summary: demo.DemoSummary
    progress: tuple[tuple[float, str], ...]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Seeded:
    root = tmp_path_factory.mktemp("demo") / "workspace"
    progress: list[tuple[float, str]] = []
    state = TaskState(on_progress=lambda fraction, message: progress.append((fraction, message)))
    summary = demo.init_demo_workspace(root, state=state, seed=7, now_ms=NOW_MS)
    return Seeded(root, summary, tuple(progress))


@pytest.fixture(scope="module")
def backend(seeded) -> Iterator[LocalTrackingBackend]:
    layout = demo.DemoLayout(seeded.root)
    backend = LocalTrackingBackend(layout.store_path, layout.artifact_root, label="Demo workspace")
    yield backend
    backend.close()


def _experiment_id(backend: LocalTrackingBackend, name: str) -> str:
    return next(e.experiment_id for e in backend.list_experiments() if e.name == name)


def _all_runs(backend: LocalTrackingBackend, name: str) -> list[Run]:
    runs, token = backend.search_runs([_experiment_id(backend, name)], max_results=5000)
    assert token is None
    return runs


@pytest.fixture(scope="module")
def sweep_runs(backend) -> list[Run]:
    return _all_runs(backend, demo.SWEEP_EXPERIMENT)


@pytest.fixture(scope="module")
def trials(sweep_runs) -> list[Run]:
    return [r for r in sweep_runs if r.parent_run_id is not None]


# -- the seeding itself ---------------------------------------------------------------------


def test_layout_and_summary(seeded):
    layout = demo.DemoLayout(seeded.root)
    assert demo.is_demo_workspace(seeded.root)
    for path in (layout.store_path, layout.monitoring_path, layout.jobs_path, layout.marker_path):
        assert path.is_file(), path
    assert layout.artifact_root.is_dir()
    assert layout.store_uri == f"sqlite:///{layout.store_path.absolute().as_posix()}"
    summary = seeded.summary
    assert summary.path == seeded.root.absolute()
    assert summary.experiments >= 3
    assert summary.runs >= 330
    assert summary.metric_points >= 150_000
    assert summary.model_versions >= 4
    marker = json.loads(layout.marker_path.read_text())
    assert marker["kind"] == demo.MARKER_KIND and marker["seed"] == 7
    assert marker["runs"] == summary.runs
    print(
        f"seeded in {summary.seconds:.2f} s: {summary.runs} runs, "
        f"{summary.metric_points} metric points, {summary.model_versions} versions"
    )


def test_seeding_takes_seconds_not_minutes(seeded):
    # The goal is under 10 s on 2 cores; the bound leaves room for a busy CI machine.
    assert seeded.summary.seconds < 30


def test_progress_is_reported_in_order(seeded):
    fractions = [f for f, _ in seeded.progress]
    assert len(fractions) >= 5
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0
    assert all(message for _, message in seeded.progress)
    assert not list(seeded.root.parent.glob(".workspace.*")), "no build folder left behind"


def test_running_again_without_force_keeps_the_workspace(seeded):
    marker = demo.DemoLayout(seeded.root).marker_path
    before = marker.stat().st_mtime_ns
    summary = demo.init_demo_workspace(seeded.root)
    assert marker.stat().st_mtime_ns == before
    assert (summary.runs, summary.metric_points, summary.model_versions) == (
        seeded.summary.runs,
        seeded.summary.metric_points,
        seeded.summary.model_versions,
    )
    assert summary.seconds < 1


def test_refuses_a_folder_that_is_not_a_demo(tmp_path):
    (tmp_path / "thesis.tex").write_text("years of work")
    for force in (False, True):
        with pytest.raises(WorkspaceError, match="not empty and is not a demo workspace"):
            demo.init_demo_workspace(tmp_path, force=force)
    assert [p.name for p in tmp_path.iterdir()] == ["thesis.tex"]
    afile = tmp_path / "thesis.tex"
    with pytest.raises(WorkspaceError, match="it is a file"):
        demo.init_demo_workspace(afile)
    assert not demo.is_demo_workspace(tmp_path)


def test_cancelled_seeding_leaves_no_workspace(tmp_path):
    def cancel_late(fraction: float, message: str) -> None:
        # After the store, the histories and the registry are written: the worst moment.
        if fraction >= 0.7:
            state.cancel()

    state = TaskState(on_progress=cancel_late)
    target = tmp_path / "demo"
    with pytest.raises(Cancelled):
        demo.init_demo_workspace(target, state=state)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_force_rebuild_is_deterministic(seeded):
    layout = demo.DemoLayout(seeded.root)

    def snapshot() -> tuple[object, ...]:
        backend = LocalTrackingBackend(layout.store_path, layout.artifact_root)
        try:
            runs = sorted(_all_runs(backend, demo.SWEEP_EXPERIMENT), key=lambda r: r.run_id)
            versions = backend.search_model_versions(demo.DEMO_MODEL)
            return (
                [(r.run_id, dict(r.params), dict(r.metrics), r.start_time_ms) for r in runs],
                [(v.version, v.run_id, v.aliases) for v in versions],
                backend.get_registered_model(demo.DEMO_MODEL).tags,
            )
        finally:
            backend.close()

    before = snapshot()
    monitoring = layout.monitoring_path.read_bytes()
    summary = demo.init_demo_workspace(seeded.root, force=True, seed=7, now_ms=NOW_MS)
    assert summary.runs == seeded.summary.runs
    assert snapshot() == before
    assert layout.monitoring_path.read_bytes() == monitoring
    assert not list(seeded.root.parent.glob(".workspace.*"))


# -- experiments and runs -------------------------------------------------------------------


def test_experiments_have_descriptions_and_tags(backend):
    ours = [e for e in backend.list_experiments() if e.name != "Default"]
    assert {e.name for e in ours} >= {
        demo.SWEEP_EXPERIMENT,
        demo.BASELINES_EXPERIMENT,
        demo.FRAUD_EXPERIMENT,
    }
    for experiment in ours:
        assert len(experiment.description) > 40, experiment.name
        assert "team" in experiment.tags


def test_sweep_has_300_trials_with_params_metrics_and_tags(trials):
    assert len(trials) >= 300
    finished = [r for r in trials if r.status is RunStatus.FINISHED]
    for run in finished:
        assert len(run.params) >= 8
        assert {
            "learning_rate",
            "batch_size",
            "max_depth",
            "n_estimators",
            "dropout",
            "optimizer",
            "l2_reg",
            "feature_set",
        } <= set(run.params)
        assert len(run.metrics) >= 5
        assert {"val_loss", "train_loss", "val_auc", "val_accuracy", "f1", "latency_ms"} <= set(
            run.metrics
        )
        for tag in (
            "mlflow.user",
            "mlflow.source.name",
            "mlflow.source.git.commit",
            "mlflow.runName",
            "team",
        ):
            assert run.tags[tag], tag
        assert run.end_time_ms and run.start_time_ms and run.end_time_ms > run.start_time_ms
        assert run.end_time_ms <= NOW_MS


def test_statuses_are_mostly_finished_with_failures_and_one_or_two_running(trials):
    counts = Counter(r.status for r in trials)
    assert counts[RunStatus.FINISHED] > 0.8 * len(trials)
    assert counts[RunStatus.FAILED] >= 3
    assert counts[RunStatus.KILLED] >= 3
    assert 1 <= counts[RunStatus.RUNNING] <= 2
    running = [r for r in trials if r.status is RunStatus.RUNNING]
    assert all(r.end_time_ms is None for r in running)
    failed = [r for r in trials if r.status is RunStatus.FAILED]
    assert all(r.tags.get("mlflow.note.content") for r in failed), "failures say why"


def test_final_metrics_depend_on_params(trials):
    finished = [r for r in trials if r.status is RunStatus.FINISHED]

    def mean_auc(param: str, value: str) -> float:
        return float(np.mean([r.metrics["val_auc"] for r in finished if r.params[param] == value]))

    assert mean_auc("optimizer", "adamw") > mean_auc("optimizer", "sgd") + 0.01
    assert mean_auc("feature_set", "v4-behavioral+billing") > mean_auc("feature_set", "v3-base")
    size = np.array([int(r.params["n_estimators"]) * int(r.params["max_depth"]) for r in finished])
    latency = np.array([r.metrics["latency_ms"] for r in finished])
    assert np.corrcoef(size, latency)[0, 1] > 0.8
    auc = np.array([r.metrics["val_auc"] for r in finished])
    val_loss = np.array([r.metrics["val_loss"] for r in finished])
    assert np.corrcoef(auc, val_loss)[0, 1] < -0.8
    assert all(r.metrics["train_loss"] < r.metrics["val_loss"] for r in finished)


def test_histories_have_500_steps_with_timestamps(backend, trials):
    finished = [r for r in trials if r.status is RunStatus.FINISHED][:5]
    for run in finished:
        for key in ("train_loss", "val_loss", "val_accuracy"):
            history = backend.get_metric_history(run.run_id, key)
            assert len(history) >= 500, (run.name, key)
            assert history.steps.tolist() == list(range(len(history)))
            assert np.all(np.diff(history.timestamps_ms) > 0)
            assert run.start_time_ms is not None and run.end_time_ms is not None
            assert run.start_time_ms < history.timestamps_ms[0]
            assert history.timestamps_ms[-1] < run.end_time_ms
            assert history.values[-1] == pytest.approx(run.metrics[key])
        loss = backend.get_metric_history(run.run_id, "train_loss").values
        assert loss[:20].mean() > loss[-20:].mean() + 0.1, "loss curves go down"
    running = next(r for r in trials if r.status is RunStatus.RUNNING)
    partial = backend.get_metric_history(running.run_id, "val_loss")
    assert 0 < len(partial) < 500
    assert partial.timestamps_ms[-1] <= NOW_MS


def test_parent_runs_with_child_runs(sweep_runs, trials, backend):
    parents = {r.run_id: r for r in sweep_runs if r.parent_run_id is None}
    assert len(parents) >= 3
    assert all(r.name.startswith("sweep-batch-") for r in parents.values())
    children = Counter(r.parent_run_id for r in trials)
    assert set(children) == set(parents)
    assert all(n >= 10 for n in children.values())
    assert all("best_val_auc" in p.metrics for p in parents.values())
    baselines = _all_runs(backend, demo.BASELINES_EXPERIMENT)
    folds = [r for r in baselines if r.parent_run_id is not None]
    assert len(folds) >= 10 and all("fold" in r.params for r in folds)


def test_runs_have_dataset_inputs(trials):
    for run in trials:
        contexts = {i.context: i for i in run.inputs}
        assert set(contexts) == {"training", "validation"}, run.name
        training = contexts["training"]
        assert training.name and training.digest and training.source.startswith("s3://")
    names = {i.name for r in trials for i in r.inputs}
    assert len(names) >= 4, "two feature-set versions, training and validation each"


# -- models, artifacts, promotions ----------------------------------------------------------


def test_registered_model_has_versions_with_champion_and_challenger(backend):
    model = backend.get_registered_model(demo.DEMO_MODEL)
    assert model.description
    assert set(model.aliases) == {demo.CHAMPION, demo.CHALLENGER}
    assert model.aliases[demo.CHAMPION] != model.aliases[demo.CHALLENGER]
    versions = backend.search_model_versions(demo.DEMO_MODEL)
    assert len(versions) >= 3
    assert all(v.tags.get("validation_status") == "passed" for v in versions)
    assert all(v.description and v.user for v in versions)
    created = [v.creation_time_ms for v in sorted(versions, key=lambda v: int(v.version))]
    assert created == sorted(created), "versions were created in order"
    assert len({v.run_id for v in versions}) == len(versions)
    fraud = backend.search_model_versions(demo.DEMO_FRAUD_MODEL)
    assert len(fraud) >= 2
    for version in versions:
        run = backend.get_run(version.run_id)
        assert run.metrics["val_auc"] > 0.85


def test_version_sources_have_every_artifact_type(backend):
    versions = [
        *backend.search_model_versions(demo.DEMO_MODEL),
        *backend.search_model_versions(demo.DEMO_FRAUD_MODEL),
    ]
    for version in versions:
        source = Path(version.source)
        assert (source / "MLmodel").is_file(), version
        files = {e.path for e in backend.list_artifacts(version.run_id)}
        assert {
            "training_log.txt",
            "metrics_summary.json",
            "feature_importance.csv",
            "predictions_sample.csv",
        } <= files
        model_files = {e.path for e in backend.list_artifacts(version.run_id, "model")}
        assert {"model/MLmodel", "model/requirements.txt", "model/conda.yaml"} <= model_files
        png = backend.read_artifact(version.run_id, "plots/training_report.png")
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        summary = json.loads(backend.read_artifact(version.run_id, "metrics_summary.json"))
        assert summary["run_id"] == version.run_id
        csv = backend.read_artifact(version.run_id, "feature_importance.csv").decode()
        assert csv.startswith("feature,importance\n") and csv.count("\n") >= 6
        mlmodel = backend.read_artifact(version.run_id, "model/MLmodel").decode()
        assert f"run_id: {version.run_id}" in mlmodel and "flavors:" in mlmodel


def test_pending_request_moves_the_challenger_to_champion(backend):
    versions = backend.search_model_versions(demo.DEMO_MODEL)
    pending = promotion.pending_requests(versions)
    assert len(pending) == 1
    request = pending[0]
    challenger = next(v for v in versions if demo.CHALLENGER in v.aliases)
    assert (request.version, request.alias) == (challenger.version, demo.CHAMPION)
    assert request.state is PromotionState.REQUESTED and request.requester and request.comment
    assert promotion.malformed_request_tags(versions) == []
    states = {r.version: r.state for r in promotion.read_requests(versions)}
    assert PromotionState.APPLIED in states.values()
    assert PromotionState.ROLLED_BACK in states.values()


def test_audit_chain_verifies_and_matches_the_aliases(backend):
    for name in (demo.DEMO_MODEL, demo.DEMO_FRAUD_MODEL):
        model = backend.get_registered_model(name)
        assert audit.verify_model_chain(model) == [], name
        events = audit.read_chain(model)
        assert len(events) >= 6
        assert all(e.time_ms <= NOW_MS for e in events)
        assert [e.time_ms for e in events] == sorted(e.time_ms for e in events)
        for alias, version in model.aliases.items():
            assert audit.alias_holder_at(events, alias, NOW_MS) == version, (name, alias)
        assert audit.alias_holder_at(events, demo.CHAMPION, events[0].time_ms - 1) is None
    churn = audit.read_chain(backend.get_registered_model(demo.DEMO_MODEL))
    assert {e.action for e in churn} >= {"requested", "approved", "applied", "rolled_back"}
    assert churn[-1].action == "requested"


# -- monitoring and jobs --------------------------------------------------------------------


def test_monitoring_has_30_days_at_5_minutes_ending_now(seeded):
    source = EmbeddedMetricsSource(demo.DemoLayout(seeded.root).monitoring_path)
    names = source.list_series(demo.DEMO_MODEL)
    for name in ("throughput", "error_rate", "latency_p50", "latency_p95", "latency_p99"):
        assert name in names
    drift = [n for n in names if n.startswith("drift.")]
    assert len(drift) >= 5
    span = source.time_span(demo.DEMO_MODEL)
    assert span is not None
    assert NOW_MS / 1000 - 300 <= span[1] <= NOW_MS / 1000
    throughput = source.query_range(demo.DEMO_MODEL, "throughput", 0, 2e10)
    assert len(throughput) == 30 * 288
    assert set(np.diff(throughput.timestamps_s)) == {300.0}
    by_hour = throughput.values[: 288 * 7].reshape(7, 288).mean(axis=0)
    assert by_hour.max() > 1.5 * by_hour.min(), "daily seasonality"


def test_exactly_one_feature_drifts_past_the_alert_in_the_last_days(seeded):
    source = EmbeddedMetricsSource(demo.DemoLayout(seeded.root).monitoring_path)
    end = NOW_MS / 1000
    drifting = []
    for name in (n for n in source.list_series(demo.DEMO_MODEL) if n.startswith("drift.")):
        series = source.query_range(demo.DEMO_MODEL, name, 0, end)
        assert (series.unit, series.warning, series.alert) == ("psi", 0.1, 0.2)
        recent = series.values[series.timestamps_s > end - 10 * DAY_S]
        older = series.values[series.timestamps_s <= end - 10 * DAY_S]
        assert older.max() < series.warning, name
        if recent.max() > series.alert:
            drifting.append(name)
            assert recent[-288:].mean() > recent[:288].mean() + 0.15, "it drifts upward"
    assert drifting == [f"drift.{demo.DRIFTING_FEATURE}"]


def test_one_error_rate_incident_in_the_last_week(seeded):
    source = EmbeddedMetricsSource(demo.DemoLayout(seeded.root).monitoring_path)
    series = source.query_range(demo.DEMO_MODEL, "error_rate", 0, 2e10)
    assert series.alert is not None
    above = series.values > series.alert
    hours = above.sum() * 300 / 3600
    assert 1 <= hours <= 6
    assert series.timestamps_s[above].min() > NOW_MS / 1000 - 7 * DAY_S
    starts = np.flatnonzero(np.diff(above.astype(int)) == 1)
    assert len(starts) == 1, "one incident"
    p99 = source.query_range(demo.DEMO_MODEL, "latency_p99", 0, 2e10)
    assert p99.alert is not None and p99.values[above].mean() > p99.values[~above].mean() * 2


def test_jobs_link_real_runs_and_versions(seeded, backend):
    jobs = LocalJobHistory(demo.DemoLayout(seeded.root).jobs_path).list_jobs()
    assert len(jobs) >= 3
    statuses = Counter(j.status for j in jobs)
    assert statuses[JobStatus.FAILED] == 1 and statuses[JobStatus.SUCCEEDED] >= 2
    versions = {v.version: v for v in backend.search_model_versions(demo.DEMO_MODEL)}
    for job in jobs:
        assert job.cluster == "local" and job.message
        assert job.source_run_id and job.result_run_id
        backend.get_run(job.source_run_id)
        result = backend.get_run(job.result_run_id)
        assert result.tags["mlops.job_id"] == job.job_id
        assert job.finished_ms is not None and job.submitted_ms < job.finished_ms <= NOW_MS
        if job.result_model_version:
            name, number = job.result_model_version.split("/")
            assert name == demo.DEMO_MODEL
            assert versions[number].run_id == job.result_run_id
    failed = next(j for j in jobs if j.status is JobStatus.FAILED)
    assert backend.get_run(failed.result_run_id or "").status is RunStatus.FAILED
