"""Seeds the embedded demo workspace: a local MLflow store, run artifacts, monitoring, job history.

Layout of a demo workspace (see `DemoLayout`):

    workspace.json      marker: {"kind": "mlops-desktop-demo", "format_version": 1, ...}
    mlflow.db           MLflow SQLite tracking + registry store; MLflow itself makes the schema
    artifacts/<experiment_id>/<run_id>/artifacts/...   MLflow's local artifact layout
    monitoring.parquet  the churn model's production series; format in backends/embedded_metrics
    jobs.json           past local retraining jobs; format in backends/local_runner
    gates/<model>.toml  the promotion gate policies; format in services/gates

The story the data tells (all times relative to the seeding time, deterministic for a seed):
a baseline cross-validation (day -38), an 8-batch hyper-parameter sweep of `churn-classifier`
(days -34 to now, the last batch still running), versions 1 and 2 promoted to `champion`
(days -28, -20), a retraining job that produced version 3 (champion on day -7), an error-rate
incident on day -4 that made on-call roll `champion` back to version 2, a drift alert on
`monthly_charges` (drifting since day -10), a failed retraining on day -3 and a successful one
on day -1 that produced version 4, now `challenger` with a promotion request waiting.

Why bulk SQL: logging 500k metric points through MLflow's client takes minutes, so MLflow's own
`SqlAlchemyStore` creates the schema, experiments, registered models, versions and aliases, and
runs, params, tags, metrics and dataset inputs go in with `executemany` in one transaction,
against column names read from the real schema.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import secrets
import shutil
import sqlite3
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mlops_desktop import __version__
from mlops_desktop.backends.errors import WorkspaceError
from mlops_desktop.domain.jobs import Job, JobStatus
from mlops_desktop.domain.monitoring import Series
from mlops_desktop.domain.promotion import AuditEvent, PromotionRequest, PromotionState
from mlops_desktop.services import audit, promotion
from mlops_desktop.services.gates import GATES_FOLDER, install_demo_policies
from mlops_desktop.services.tasks import TaskState

DEMO_MODEL = "churn-classifier"
DEMO_FRAUD_MODEL = "fraud-scorer"
SWEEP_EXPERIMENT = "churn-sweep"
BASELINES_EXPERIMENT = "churn-baselines"
FRAUD_EXPERIMENT = "fraud-detection"
RETRAINING_EXPERIMENT = "churn-retraining"
CHAMPION = "champion"
CHALLENGER = "challenger"
TEAM = "growth-ml"

MARKER_KIND = "mlops-desktop-demo"
MARKER_FORMAT_VERSION = 1

SWEEP_BATCHES = 8
TRIALS_PER_BATCH = 40
SWEEP_STEPS = 500
SWEEP_HISTORY_KEYS = ("train_loss", "val_loss", "val_accuracy")

#: Features watched for drift in production; exactly one of them drifts in the demo.
MONITORED_FEATURES = (
    "tenure_months",
    "monthly_charges",
    "contract_type",
    "support_tickets",
    "data_usage_gb",
    "payment_method",
)
DRIFTING_FEATURE = "monthly_charges"
DRIFT_WARNING_PSI = 0.1
DRIFT_ALERT_PSI = 0.2
MONITORING_DAYS = 30
MONITORING_STEP_S = 300

_CHURN_FEATURES = (
    *MONITORED_FEATURES,
    "num_products",
    "days_since_last_login",
    "plan_changes_90d",
    "autopay",
)
_FRAUD_FEATURES = (
    "amount",
    "merchant_risk",
    "tx_count_1h",
    "distance_from_home_km",
    "card_age_days",
    "is_foreign",
)
_SECOND_MS = 1000
_MINUTE_MS = 60 * _SECOND_MS
_HOUR_MS = 60 * _MINUTE_MS
_DAY_MS = 24 * _HOUR_MS
_STALE_BUILD_S = 3600


@dataclass(frozen=True)
class DemoLayout:
    """Where each part of a demo workspace lives under its root directory."""

    root: Path

    @property
    def store_path(self) -> Path:
        return self.root / "mlflow.db"

    @property
    def store_uri(self) -> str:
        return "sqlite:///" + self.store_path.absolute().as_posix()

    @property
    def artifact_root(self) -> Path:
        return self.root / "artifacts"

    @property
    def monitoring_path(self) -> Path:
        return self.root / "monitoring.parquet"

    @property
    def jobs_path(self) -> Path:
        return self.root / "jobs.json"

    @property
    def marker_path(self) -> Path:
        return self.root / "workspace.json"


@dataclass(frozen=True)
class DemoSummary:
    path: Path
    experiments: int
    runs: int
    metric_points: int
    model_versions: int
    seconds: float


def _has_demo_marker(root: Path) -> bool:
    try:
        marker = json.loads(DemoLayout(root).marker_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(marker, dict) and marker.get("kind") == MARKER_KIND


def is_demo_workspace(root: Path) -> bool:
    """True when `root` holds a complete demo workspace (its marker and its store)."""
    return _has_demo_marker(root) and DemoLayout(root).store_path.is_file()


def init_demo_workspace(
    root: Path,
    state: TaskState | None = None,
    force: bool = False,
    seed: int = 7,
    *,
    now_ms: int | None = None,
) -> DemoSummary:
    """Seed a demo workspace at `root`, in seconds; `force` rebuilds an existing one.

    Without `force`, an existing demo workspace is left as it is and its summary returned, so
    running this twice is harmless. Everything is written into a hidden sibling directory that
    is renamed to `root` at the end, so a cancelled or failed seeding leaves `root` as it was.
    A directory that is not empty and is not a demo workspace is never touched, even with
    `force`. `now_ms` fixes the seeding time (the data ends there), for reproducible tests.
    """
    started = time.perf_counter()
    state = state if state is not None else TaskState()
    root = Path(root).absolute()
    if not force and is_demo_workspace(root):
        return _existing_summary(root, started)
    _check_target(root)
    root.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_builds(root)
    build = root.parent / f".{root.name}.seeding-{os.getpid()}-{secrets.token_hex(4)}"
    build.mkdir()
    try:
        now = int(time.time() * 1000) if now_ms is None else now_ms
        seeder = _Seeder(build=DemoLayout(build), final=DemoLayout(root), seed=seed, now_ms=now)
        counts = seeder.run(state)
        state.progress(0.98, "Putting the demo workspace in place")
        _swap_into_place(build, root)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    state.progress(1.0, "Demo workspace ready")
    return DemoSummary(
        path=root,
        experiments=counts["experiments"],
        runs=counts["runs"],
        metric_points=counts["metric_points"],
        model_versions=counts["model_versions"],
        seconds=time.perf_counter() - started,
    )


def _existing_summary(root: Path, started: float) -> DemoSummary:
    marker = json.loads(DemoLayout(root).marker_path.read_text(encoding="utf-8"))
    return DemoSummary(
        path=root,
        experiments=len(marker.get("experiments", [])),
        runs=int(marker.get("runs", 0)),
        metric_points=int(marker.get("metric_points", 0)),
        model_versions=int(marker.get("model_versions", 0)),
        seconds=time.perf_counter() - started,
    )


def _check_target(root: Path) -> None:
    if not root.exists():
        return
    if not root.is_dir():
        raise WorkspaceError(f"Cannot create the demo workspace at {root}: it is a file.")
    if _has_demo_marker(root):
        return
    if any(root.iterdir()):
        raise WorkspaceError(
            f"Refusing to create the demo workspace in {root}: the folder is not empty and "
            "is not a demo workspace, so its files could be someone's data. "
            "Choose an empty or new folder."
        )


def _remove_stale_builds(root: Path) -> None:
    # Only builds left behind by a killed process: an hour-old build cannot be running still.
    cutoff = time.time() - _STALE_BUILD_S
    for pattern in (f".{root.name}.seeding-*", f".{root.name}.replaced-*"):
        for leftover in root.parent.glob(pattern):
            with contextlib.suppress(OSError):
                if leftover.stat().st_mtime < cutoff:
                    shutil.rmtree(leftover, ignore_errors=True)


def _swap_into_place(build: Path, root: Path) -> None:
    if not root.exists():
        os.replace(build, root)
        return
    # Windows cannot rename onto an existing directory: move the old one aside first.
    old = root.parent / f".{root.name}.replaced-{secrets.token_hex(4)}"
    os.replace(root, old)
    try:
        os.replace(build, root)
    except OSError:
        os.replace(old, root)
        raise
    # The new workspace is in place; a leftover old copy is only disk space, and
    # _remove_stale_builds takes it on the next seeding.
    shutil.rmtree(old, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Rows for the bulk insert
# --------------------------------------------------------------------------------------------

#: (key, value, timestamp_ms, run_uuid, step, is_nan)
_MetricRow = tuple[str, float, int, str, int, int]


@dataclass
class _Rows:
    """Rows for MLflow's tables, in the column order of `_INSERTS`."""

    runs: list[tuple[Any, ...]] = field(default_factory=list)
    params: list[tuple[str, str, str]] = field(default_factory=list)
    tags: list[tuple[str, str, str]] = field(default_factory=list)
    metrics: list[_MetricRow] = field(default_factory=list)
    latest: dict[tuple[str, str], _MetricRow] = field(default_factory=dict)
    datasets: list[tuple[Any, ...]] = field(default_factory=list)
    inputs: list[tuple[Any, ...]] = field(default_factory=list)
    input_tags: list[tuple[str, str, str]] = field(default_factory=list)


_INSERTS: dict[str, tuple[str, ...]] = {
    "runs": (
        "run_uuid",
        "name",
        "source_type",
        "source_name",
        "entry_point_name",
        "user_id",
        "status",
        "start_time",
        "end_time",
        "source_version",
        "lifecycle_stage",
        "artifact_uri",
        "experiment_id",
    ),
    "params": ("key", "value", "run_uuid"),
    "tags": ("key", "value", "run_uuid"),
    "metrics": ("key", "value", "timestamp", "run_uuid", "step", "is_nan"),
    "latest_metrics": ("key", "value", "timestamp", "run_uuid", "step", "is_nan"),
    "datasets": (
        "dataset_uuid",
        "experiment_id",
        "name",
        "digest",
        "dataset_source_type",
        "dataset_source",
        "dataset_schema",
        "dataset_profile",
    ),
    "inputs": ("input_uuid", "source_type", "source_id", "destination_type", "destination_id"),
    "input_tags": ("input_uuid", "name", "value"),
}


@dataclass(frozen=True)
class _Dataset:
    name: str
    digest: str
    source_type: str
    uri: str
    rows: int
    columns: tuple[str, ...]


@dataclass(frozen=True)
class _ArtifactRun:
    """What the artifact writer needs to know about a run it writes files for."""

    experiment_id: str
    run_id: str
    run_name: str
    start_ms: int
    params: Mapping[str, str]
    metrics: Mapping[str, float]
    histories: Mapping[str, npt.NDArray[np.float64]]
    features: tuple[str, ...]
    dataset: _Dataset
    model_name: str
    failure: str = ""


@dataclass(frozen=True)
class _VersionPlan:
    model_name: str
    run: _ArtifactRun
    created_ms: int
    user: str
    description: str
    tags: Mapping[str, str]


class _Seeder:
    """One seeding pass: generates the content and writes it under `build` (for `final`)."""

    def __init__(self, build: DemoLayout, final: DemoLayout, seed: int, now_ms: int) -> None:
        self.build = build
        self.final = final
        self.rng = np.random.default_rng(seed)
        # Their own streams, so the artifacts thread cannot change what the rest draws.
        self.artifact_rng = np.random.default_rng([seed, 1])
        self.monitoring_rng = np.random.default_rng([seed, 2])
        self.seed = seed
        self.now = now_ms
        self.rows = _Rows()
        self.experiment_ids: dict[str, str] = {}
        self.experiment_created_days: dict[str, float] = {}
        self.artifact_locations: dict[str, str] = {}
        self.dataset_uuids: dict[tuple[str, str, str], str] = {}
        self.artifact_runs: list[_ArtifactRun] = []
        self.versions: list[_VersionPlan] = []
        self.audit_tags: dict[str, dict[str, str]] = {}
        self.aliases: dict[str, dict[str, str]] = {}
        self.jobs: list[Job] = []

    # -- identifiers ---------------------------------------------------------------------------

    def _hex(self, n_bytes: int = 16) -> str:
        return self.rng.bytes(n_bytes).hex()

    def _days_ago(self, days: float) -> int:
        return int(self.now - days * _DAY_MS)

    # -- the pass ------------------------------------------------------------------------------

    def run(self, state: TaskState) -> dict[str, int]:
        os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
        state.progress(0.02, "Creating the MLflow store")
        from mlflow.store.model_registry.sqlalchemy_store import (
            SqlAlchemyStore as RegistryStore,
        )
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

        # MLflow is untyped; the stores are used through Any.
        tracking: Any = SqlAlchemyStore(  # type: ignore[no-untyped-call]
            self.build.store_uri, self.final.artifact_root.as_posix()
        )
        registry: Any = RegistryStore(self.build.store_uri)  # type: ignore[no-untyped-call]
        try:
            state.progress(0.12, "Creating experiments")
            self._create_experiments(tracking)
            state.progress(0.16, "Generating the hyper-parameter sweep")
            self._baselines()
            sweep_best = self._sweep()
            self._fraud()
            retrain = self._retraining(sweep_best)
            self._churn_story(sweep_best, retrain)
            # Artifacts need no database: rendering them while SQLite inserts (it releases
            # the GIL in every step) saves about a second. The `with` waits for the thread,
            # so nothing writes into the build folder once this method has left.
            stop = threading.Event()
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="demo-artifacts") as pool:
                artifacts = pool.submit(self._write_artifacts, state, stop)
                try:
                    state.progress(0.3, f"Writing {len(self.rows.metrics):,} metric points")
                    self._bulk_insert()
                    state.progress(0.62, "Registering model versions")
                    n_versions = self._register(registry)
                    state.progress(0.75, "Writing run artifacts")
                    artifacts.result()
                except BaseException:
                    stop.set()
                    raise
        finally:
            # SQLite file handles must be closed before the directory is renamed (Windows).
            tracking.engine.dispose()
            registry.engine.dispose()
        state.progress(0.85, "Writing 30 days of monitoring series")
        self._write_monitoring()
        state.progress(0.95, "Writing the job history")
        # The promotion gates the team keeps in version control, next to the store.
        install_demo_policies(self.build.root / GATES_FOLDER)
        self._write_jobs_and_marker(n_versions)
        return {
            "experiments": len(self.experiment_ids),
            "runs": len(self.rows.runs),
            "metric_points": len(self.rows.metrics),
            "model_versions": n_versions,
        }

    # -- experiments ---------------------------------------------------------------------------

    def _create_experiments(self, tracking: Any) -> None:
        from mlflow.entities import ExperimentTag

        specs = {
            BASELINES_EXPERIMENT: (
                "Cross-validated baselines for churn prediction (logistic regression, random "
                "forest, XGBoost defaults) that every sweep result is compared against.",
                {"team": TEAM, "project": "churn", "stage": "baseline"},
                40,
            ),
            SWEEP_EXPERIMENT: (
                "Hyper-parameter sweep of the churn classifier (GBDT feature crosses feeding an "
                "MLP head). 8 batches of 40 TPE trials; objective: val_auc on the October "
                "validation split.",
                {"team": TEAM, "project": "churn", "sweep.sampler": "tpe"},
                35,
            ),
            FRAUD_EXPERIMENT: (
                "Card-fraud scorer experiments: XGBoost on transaction features, tuned for "
                "precision at 1% false-positive rate.",
                {"team": "risk-ml", "project": "fraud"},
                27,
            ),
            RETRAINING_EXPERIMENT: (
                "Runs produced by retraining jobs (local runner) from the champion's "
                "configuration on fresh data; successful runs are registered as challengers.",
                {"team": TEAM, "project": "churn", "mlops.kind": "retraining"},
                17,
            ),
        }
        for name, (description, tags, created_days_ago) in specs.items():
            experiment_tags = [ExperimentTag("mlflow.note.content", description)] + [
                ExperimentTag(k, v) for k, v in tags.items()
            ]
            experiment_id = str(tracking.create_experiment(name, tags=experiment_tags))
            self.experiment_ids[name] = experiment_id
            self.artifact_locations[experiment_id] = str(
                tracking.get_experiment(experiment_id).artifact_location
            )
            self.experiment_created_days[experiment_id] = created_days_ago

    # -- runs ----------------------------------------------------------------------------------

    def _add_run(
        self,
        *,
        experiment: str,
        name: str,
        user: str,
        status: str,
        start_ms: int,
        end_ms: int | None,
        source_name: str,
        commit: str,
        params: Mapping[str, str],
        tags: Mapping[str, str] | None = None,
        parent: str | None = None,
        source_type: str = "LOCAL",
    ) -> str:
        run_id = self._hex()
        experiment_id = self.experiment_ids[experiment]
        artifact_uri = f"{self.artifact_locations[experiment_id]}/{run_id}/artifacts"
        self.rows.runs.append(
            (
                run_id,
                name,
                source_type,
                source_name,
                "",
                user,
                status,
                start_ms,
                end_ms,
                commit,
                "active",
                artifact_uri,
                int(experiment_id),
            )
        )
        self.rows.params.extend((k, v, run_id) for k, v in params.items())
        all_tags = {
            "mlflow.runName": name,
            "mlflow.user": user,
            "mlflow.source.name": source_name,
            "mlflow.source.type": source_type,
            "mlflow.source.git.commit": commit,
            "team": TEAM if experiment != FRAUD_EXPERIMENT else "risk-ml",
            **(tags or {}),
        }
        if parent is not None:
            all_tags["mlflow.parentRunId"] = parent
        self.rows.tags.extend((k, v, run_id) for k, v in all_tags.items())
        return run_id

    def _add_history(
        self,
        run_id: str,
        key: str,
        timestamps_ms: npt.NDArray[np.int64],
        values: npt.NDArray[np.float64],
    ) -> None:
        steps = np.arange(values.shape[0], dtype=np.int64).tolist()
        rows = list(
            zip(
                repeat(key),
                np.round(values, 6).tolist(),
                timestamps_ms.tolist(),
                repeat(run_id),
                steps,
                repeat(0),
                strict=False,
            )
        )
        self.rows.metrics.extend(rows)
        if rows:
            self.rows.latest[(run_id, key)] = rows[-1]

    def _add_scalars(
        self, run_id: str, values: Mapping[str, float], time_ms: int, step: int = 0
    ) -> None:
        for key, value in values.items():
            row: _MetricRow = (key, round(float(value), 6), time_ms, run_id, step, 0)
            self.rows.metrics.append(row)
            self.rows.latest[(run_id, key)] = row

    def _add_inputs(
        self, run_id: str, experiment: str, pairs: Sequence[tuple[_Dataset, str]]
    ) -> None:
        experiment_id = self.experiment_ids[experiment]
        for dataset, context in pairs:
            key = (experiment_id, dataset.name, dataset.digest)
            dataset_uuid = self.dataset_uuids.get(key)
            if dataset_uuid is None:
                dataset_uuid = self._hex()
                self.dataset_uuids[key] = dataset_uuid
                schema = {
                    "mlflow_colspec": [
                        {
                            "type": "string"
                            if c in {"contract_type", "payment_method"}
                            else "double",
                            "name": c,
                            "required": True,
                        }
                        for c in dataset.columns
                    ]
                }
                profile = {
                    "num_rows": dataset.rows,
                    "num_elements": dataset.rows * len(dataset.columns),
                }
                self.rows.datasets.append(
                    (
                        dataset_uuid,
                        int(experiment_id),
                        dataset.name,
                        dataset.digest,
                        dataset.source_type,
                        json.dumps({"uri": dataset.uri}),
                        json.dumps(schema),
                        json.dumps(profile),
                    )
                )
            input_uuid = self._hex()
            self.rows.inputs.append((input_uuid, "DATASET", dataset_uuid, "RUN", run_id))
            self.rows.input_tags.append((input_uuid, "mlflow.data.context", context))

    def _dataset(
        self, name: str, uri: str, rows: int, features: tuple[str, ...], label: str
    ) -> _Dataset:
        return _Dataset(
            name=name,
            digest=self._hex(4),
            source_type="s3",
            uri=uri,
            rows=rows,
            columns=(*features, label),
        )

    # -- churn baselines -----------------------------------------------------------------------

    def _baselines(self) -> None:
        train = self._dataset(
            "churn-train-v3",
            "s3://ml-data/churn/v3/train.parquet",
            148_200,
            _CHURN_FEATURES[:6],
            "churned",
        )
        commit = self._hex(20)
        models = {
            "logistic_regression": ({"C": "1.0", "penalty": "l2", "max_iter": "200"}, 0.842),
            "random_forest": (
                {"n_estimators": "300", "max_depth": "12", "min_samples_leaf": "5"},
                0.871,
            ),
            "xgboost": (
                {
                    "n_estimators": "400",
                    "max_depth": "6",
                    "learning_rate": "0.1",
                    "subsample": "0.8",
                },
                0.884,
            ),
        }
        start = self._days_ago(38.2)
        for i, (model_type, (params, auc)) in enumerate(models.items()):
            parent_start = start + i * 50 * _MINUTE_MS
            fold_aucs = auc + self.rng.normal(0, 0.004, 5)
            parent_end = parent_start + 42 * _MINUTE_MS
            common = {"model_type": model_type, "feature_set": "v3-base", "cv_folds": "5", **params}
            parent = self._add_run(
                experiment=BASELINES_EXPERIMENT,
                name=f"{model_type}-cv",
                user="bob",
                status="FINISHED",
                start_ms=parent_start,
                end_ms=parent_end,
                source_name="baselines/cross_validate.py",
                commit=commit,
                params=common,
                tags={"mlflow.note.content": f"5-fold cross-validation of a default {model_type}."},
            )
            self._add_scalars(
                parent,
                {
                    "val_auc_mean": float(fold_aucs.mean()),
                    "val_auc_std": float(fold_aucs.std()),
                    "val_accuracy_mean": float(0.74 + (fold_aucs.mean() - 0.5) * 0.32),
                },
                parent_end,
            )
            self._add_inputs(parent, BASELINES_EXPERIMENT, [(train, "training")])
            for fold, fold_auc in enumerate(fold_aucs):
                fold_start = parent_start + fold * 8 * _MINUTE_MS
                fold_end = fold_start + 7 * _MINUTE_MS
                run_id = self._add_run(
                    experiment=BASELINES_EXPERIMENT,
                    name=f"{model_type}-fold-{fold}",
                    user="bob",
                    status="FINISHED",
                    start_ms=fold_start,
                    end_ms=fold_end,
                    source_name="baselines/cross_validate.py",
                    commit=commit,
                    params={**common, "fold": str(fold)},
                    parent=parent,
                )
                self._add_scalars(
                    run_id,
                    {
                        "val_auc": float(fold_auc),
                        "val_accuracy": float(0.74 + (fold_auc - 0.5) * 0.32),
                        "f1": float(0.35 + (fold_auc - 0.75) * 2.0),
                        "val_loss": float(0.24 + (0.95 - fold_auc) * 1.5),
                        "fit_time_s": float(self.rng.uniform(20, 400)),
                    },
                    fold_end,
                )
                if model_type == "xgboost":
                    rounds = np.arange(400, dtype=np.float64)
                    curve = 0.24 + (0.95 - fold_auc) * 1.5 + 0.45 * np.exp(-rounds / 60)
                    curve += self.rng.normal(0, 0.002, rounds.shape[0])
                    stamps = fold_start + (rounds * 900).astype(np.int64)
                    self._add_history(run_id, "val_logloss", stamps, curve)
                self._add_inputs(run_id, BASELINES_EXPERIMENT, [(train, "training")])
        for name, auc, note in (
            ("majority-class", 0.5, "Sanity check: always predicts 'stays'."),
            ("logreg-no-billing", 0.803, "Logistic regression without the billing features."),
        ):
            run_start = start + 3 * _HOUR_MS
            run_id = self._add_run(
                experiment=BASELINES_EXPERIMENT,
                name=name,
                user="bob",
                status="FINISHED",
                start_ms=run_start,
                end_ms=run_start + 2 * _MINUTE_MS,
                source_name="baselines/cross_validate.py",
                commit=commit,
                params={"model_type": name, "feature_set": "v3-base", "cv_folds": "1"},
                tags={"mlflow.note.content": note},
            )
            self._add_scalars(
                run_id,
                {"val_auc": auc, "val_accuracy": 0.74 + (auc - 0.5) * 0.32},
                run_start + 2 * _MINUTE_MS,
            )
            self._add_inputs(run_id, BASELINES_EXPERIMENT, [(train, "training")])

    # -- the sweep -----------------------------------------------------------------------------

    def _sweep(self) -> dict[str, _ArtifactRun]:
        """Generate the sweep; return the trials that become versions 1 and 2 of the model.

        Version 2 ("v2") is the best finished trial of batches 2-4, version 1 ("v1") the best
        trial of batch 1 that version 2 beats.
        """
        rng = self.rng
        n = SWEEP_BATCHES * TRIALS_PER_BATCH
        lr = 10 ** rng.uniform(-4, -1.3, n)
        batch_size = rng.choice([128, 256, 512, 1024], n)
        max_depth = rng.integers(3, 13, n)
        n_estimators = rng.choice(np.arange(100, 1001, 100), n)
        dropout = rng.uniform(0.0, 0.5, n)
        optimizers = np.array(["adamw", "adam", "rmsprop", "sgd"])
        optimizer = optimizers[rng.integers(0, 4, n)]
        l2_reg = 10 ** rng.uniform(-6, -2, n)
        feature_sets = np.array(["v3-base", "v4-behavioral", "v4-behavioral+billing"])
        feature_set = feature_sets[rng.integers(0, 3, n)]
        hidden_units = rng.choice([64, 128, 256, 512], n)
        patience = rng.choice([10, 20, 50], n)
        # TPE samples closer to the good region batch after batch, so later batches do better.
        batch = np.arange(n) // TRIALS_PER_BATCH
        focused = rng.uniform(0, 1, n) < np.minimum(0.15 * batch, 0.7)
        m = int(focused.sum())
        lr[focused] = 10 ** rng.normal(-2.55, 0.25, m)
        dropout[focused] = np.clip(rng.normal(0.2, 0.07, m), 0.0, 0.5)
        max_depth[focused] = np.clip(np.round(rng.normal(7, 1.5, m)), 3, 12).astype(max_depth.dtype)
        l2_reg[focused] = 10 ** rng.normal(-3.7, 0.5, m)
        optimizer[focused] = optimizers[rng.integers(0, 2, m)]
        feature_set[focused] = np.where(
            rng.uniform(0, 1, m) < 0.8, feature_sets[2], feature_sets[1]
        )

        # A plausible response surface: the sweep's best runs sit near lr 3e-3, depth 7,
        # dropout 0.2, adamw and the billing features; more trees help with diminishing returns.
        opt_penalty = {"adamw": 0.0, "adam": 0.004, "rmsprop": 0.011, "sgd": 0.026}
        feat_gain = {"v3-base": 0.0, "v4-behavioral": 0.012, "v4-behavioral+billing": 0.021}
        quality = (
            0.886
            - 0.034 * (np.log10(lr) + 2.55) ** 2
            - 0.0022 * (max_depth - 7.0) ** 2
            + 0.018 * (1 - np.exp(-n_estimators / 300.0))
            - 0.09 * (dropout - 0.2) ** 2
            - 0.004 * (np.log10(l2_reg) + 3.7) ** 2
            - np.array([opt_penalty[o] for o in optimizer])
            + np.array([feat_gain[f] for f in feature_set])
            - 0.003 * np.log2(batch_size / 128.0)
            + 0.002 * np.log2(hidden_units / 64.0)
            + rng.normal(0, 0.003, n)
        )
        val_auc = np.clip(quality, 0.62, 0.958)
        val_loss_final = 0.24 + (0.95 - val_auc) * 1.5
        overfit = np.clip(
            0.012 * (max_depth - 3) + 0.25 * (0.5 - dropout) - 0.02 * (np.log10(l2_reg) + 6),
            0.0,
            0.4,
        )
        train_loss_final = np.clip(val_loss_final - 0.03 - 0.5 * overfit, 0.08, None)
        accuracy_final = 0.74 + (val_auc - 0.5) * 0.32
        speed = 3.0 + 7.0 * np.clip((np.log10(lr) + 4) / 2.7, 0, 1)
        speed = np.where(optimizer == "sgd", speed * 0.6, speed)
        step_s = 0.55 + 1.7 * (hidden_units / 512.0) + 1.1 * (128.0 / batch_size)
        latency = (
            0.8
            + n_estimators * max_depth * 0.0009
            + hidden_units / 256.0 * 0.6
            + rng.normal(0, 0.15, n)
        )

        x = np.linspace(0.0, 1.0, SWEEP_STEPS)[None, :]
        decay = np.exp(-x * speed[:, None])
        noise = rng.normal(0.0, 1.0, (3, n, SWEEP_STEPS))
        train_curve = train_loss_final[:, None] + (0.693 - train_loss_final[:, None]) * decay
        train_curve += 0.012 * noise[0] * (1.0 + decay)
        bump = overfit[:, None] * np.clip(x - 0.55, 0, None) ** 2
        val_min = val_loss_final - overfit * 0.2025
        val_curve = val_min[:, None] + (0.693 - val_min[:, None]) * decay + bump + 0.006 * noise[1]
        acc_curve = accuracy_final[:, None] * (1.0 - 0.28 * decay) + 0.003 * noise[2]

        # Statuses: very high learning rates diverge, the largest configurations run out of
        # GPU memory, the sampler prunes a few hopeless trials, and the last batch is running.
        u = rng.uniform(0, 1, n)
        status = np.full(n, "FINISHED", dtype=object)
        stop_step = np.full(n, SWEEP_STEPS, dtype=np.int64)
        failure = np.full(n, "", dtype=object)
        diverged = (lr > 0.02) & (u < 0.45)
        oom = (batch_size == 1024) & (hidden_units == 512) & (u > 0.5)
        pruned = ~diverged & ~oom & (val_auc < 0.84) & (u < 0.5)
        status[diverged | oom] = "FAILED"
        status[pruned] = "KILLED"
        stop_step[diverged] = rng.integers(40, 260, n)[diverged]
        stop_step[oom] = rng.integers(2, 6, n)[oom]
        stop_step[pruned] = rng.integers(100, 200, n)[pruned]
        failure[diverged] = "FloatingPointError: loss became NaN; stopping the trial."
        failure[oom] = (
            "torch.cuda.OutOfMemoryError: CUDA out of memory (tried to allocate 2.1 GiB)."
        )
        failure[pruned] = "Pruned by the median stopping rule."
        running = np.arange(n) >= n - 2
        status[running] = "RUNNING"
        stop_step[running] = rng.integers(180, 430, n)[running]
        failure[running] = ""

        batch_start_days = (34.0, 31.0, 27.6, 24.4, 16.8, 12.3, 5.9, 0.25)
        batch_users = ("alice", "alice", "alice", "bob", "bob", "carol", "carol", "alice")
        commits = [self._hex(20) for _ in range(4)]
        batch_commit = (0, 0, 1, 1, 2, 2, 3, 3)
        sweep_id = self._hex(4)
        train_v3 = self._dataset(
            "churn-train-v3",
            "s3://ml-data/churn/v3/train.parquet",
            148_200,
            _CHURN_FEATURES[:6],
            "churned",
        )
        val_v3 = self._dataset(
            "churn-val-v3",
            "s3://ml-data/churn/v3/val.parquet",
            31_750,
            _CHURN_FEATURES[:6],
            "churned",
        )
        train_v4 = self._dataset(
            "churn-train-v4",
            "s3://ml-data/churn/v4/train.parquet",
            162_480,
            _CHURN_FEATURES,
            "churned",
        )
        val_v4 = self._dataset(
            "churn-val-v4", "s3://ml-data/churn/v4/val.parquet", 34_810, _CHURN_FEATURES, "churned"
        )

        finished_trials: list[list[tuple[float, _ArtifactRun]]] = [[] for _ in range(SWEEP_BATCHES)]
        for b in range(SWEEP_BATCHES):
            batch_start = self._days_ago(batch_start_days[b])
            user = batch_users[b]
            commit = commits[batch_commit[b]]
            lo, hi = b * TRIALS_PER_BATCH, (b + 1) * TRIALS_PER_BATCH
            batch_running = bool(running[lo:hi].any())
            children_end: list[int] = []
            parent_params = {
                "sampler": "tpe",
                "n_trials": str(TRIALS_PER_BATCH),
                "parallelism": "8",
                "objective": "val_auc",
                "search_space": "churn-mlp-v2",
                "max_steps": str(SWEEP_STEPS),
            }
            parent = self._add_run(
                experiment=SWEEP_EXPERIMENT,
                name=f"sweep-batch-{b + 1}",
                user=user,
                status="RUNNING" if batch_running else "FINISHED",
                start_ms=batch_start,
                end_ms=None,
                source_name="churn/sweep.py",
                commit=commit,
                params=parent_params,
                tags={"sweep_id": sweep_id, "sweep.batch": str(b + 1)},
            )
            parent_row = len(self.rows.runs) - 1
            for i in range(lo, hi):
                k = i - lo
                slot_start = batch_start + (k // 8) * 55 * _MINUTE_MS + (k % 8) * 20 * _SECOND_MS
                start = slot_start + int(rng.integers(0, 60_000))
                steps = int(stop_step[i])
                per_step_ms = step_s[i] * 1000.0
                if status[i] == "RUNNING":
                    start = self.now - int(steps * per_step_ms) - 25 * _SECOND_MS
                jitter = rng.uniform(0.0, 40.0, steps)
                stamps = (start + 15_000 + (np.arange(1, steps + 1) * per_step_ms) + jitter).astype(
                    np.int64
                )
                end = None if status[i] == "RUNNING" else int(stamps[-1]) + 4_000
                if end is not None:
                    children_end.append(end)
                params = {
                    "learning_rate": f"{lr[i]:.3g}",
                    "batch_size": str(batch_size[i]),
                    "max_depth": str(max_depth[i]),
                    "n_estimators": str(n_estimators[i]),
                    "dropout": f"{dropout[i]:.2f}",
                    "optimizer": str(optimizer[i]),
                    "l2_reg": f"{l2_reg[i]:.2e}",
                    "feature_set": str(feature_set[i]),
                    "hidden_units": str(hidden_units[i]),
                    "early_stopping_patience": str(patience[i]),
                    "max_steps": str(SWEEP_STEPS),
                    "seed": str(1000 + i),
                }
                tags = {"sweep_id": sweep_id, "trial": str(k), "gpu": "a10g"}
                if failure[i]:
                    tags["mlflow.note.content"] = str(failure[i])
                name = f"sweep-{b + 1}-trial-{k:02d}"
                run_id = self._add_run(
                    experiment=SWEEP_EXPERIMENT,
                    name=name,
                    user=user,
                    status=str(status[i]),
                    start_ms=start,
                    end_ms=end,
                    source_name="churn/train.py",
                    commit=commit,
                    params=params,
                    tags=tags,
                    parent=parent,
                    source_type="JOB",
                )
                histories = {
                    "train_loss": train_curve[i, :steps],
                    "val_loss": val_curve[i, :steps],
                    "val_accuracy": acc_curve[i, :steps],
                }
                for key, values in histories.items():
                    self._add_history(run_id, key, stamps, values)
                metrics: dict[str, float] = {}
                if status[i] == "FINISHED":
                    auc = float(val_auc[i])
                    recall = float(
                        np.clip(0.52 + (auc - 0.8) * 1.6 + rng.normal(0, 0.01), 0.2, 0.95)
                    )
                    precision = float(
                        np.clip(0.55 + (auc - 0.8) * 1.3 + rng.normal(0, 0.01), 0.2, 0.95)
                    )
                    metrics = {
                        "val_auc": auc,
                        "f1": 2 * precision * recall / (precision + recall),
                        "precision": precision,
                        "recall": recall,
                        "latency_ms": float(max(latency[i], 0.5)),
                    }
                    self._add_scalars(run_id, metrics, int(stamps[-1]) + 2_000, steps - 1)
                v4 = str(feature_set[i]).startswith("v4")
                self._add_inputs(
                    run_id,
                    SWEEP_EXPERIMENT,
                    [
                        (train_v4 if v4 else train_v3, "training"),
                        (val_v4 if v4 else val_v3, "validation"),
                    ],
                )
                if status[i] == "FINISHED":
                    candidate = _ArtifactRun(
                        experiment_id=self.experiment_ids[SWEEP_EXPERIMENT],
                        run_id=run_id,
                        run_name=name,
                        start_ms=start,
                        params=params,
                        metrics={**metrics, **{k: float(v[-1]) for k, v in histories.items()}},
                        histories=histories,
                        features=_CHURN_FEATURES if v4 else _CHURN_FEATURES[:6],
                        dataset=train_v4 if v4 else train_v3,
                        model_name=DEMO_MODEL,
                    )
                    finished_trials[b].append((metrics["val_auc"], candidate))
            finished = [float(val_auc[i]) for i in range(lo, hi) if status[i] == "FINISHED"]
            parent_end = None if batch_running else max(children_end) + 30_000
            row = self.rows.runs[parent_row]
            self.rows.runs[parent_row] = (*row[:8], parent_end, *row[9:])
            self._add_scalars(
                parent,
                {
                    "best_val_auc": max(finished),
                    "trials_finished": float(len(finished)),
                    "trials_failed": float(sum(status[i] == "FAILED" for i in range(lo, hi))),
                },
                parent_end if parent_end is not None else self.now,
            )
        v2_auc, v2 = max((t for batch in finished_trials[1:4] for t in batch), key=lambda t: t[0])
        below = [t for t in finished_trials[0] if t[0] < v2_auc] or finished_trials[0]
        return {"v1": max(below, key=lambda t: t[0])[1], "v2": v2}

    # -- fraud ---------------------------------------------------------------------------------

    def _fraud(self) -> None:
        rng = self.rng
        train = self._dataset(
            "fraud-transactions-2026-10",
            "s3://ml-data/fraud/2026-10/train.parquet",
            2_406_113,
            _FRAUD_FEATURES,
            "is_fraud",
        )
        val = self._dataset(
            "fraud-transactions-2026-10-holdout",
            "s3://ml-data/fraud/2026-10/holdout.parquet",
            601_528,
            _FRAUD_FEATURES,
            "is_fraud",
        )
        commit = self._hex(20)
        candidates: list[tuple[float, _ArtifactRun]] = []
        for i in range(16):
            start = self._days_ago(26 - i * 0.9)
            lr = float(10 ** rng.uniform(-2.3, -0.8))
            depth = int(rng.integers(4, 11))
            trees = int(rng.choice([200, 400, 800]))
            spw = float(rng.choice([10, 50, 100, 200]))
            auprc = float(
                np.clip(
                    0.62
                    - 0.05 * (np.log10(lr) + 1.5) ** 2
                    - 0.004 * (depth - 7) ** 2
                    + 0.01 * (trees / 800)
                    + rng.normal(0, 0.01),
                    0.3,
                    0.8,
                )
            )
            status = "FAILED" if i == 5 else "KILLED" if i == 11 else "FINISHED"
            rounds = trees if status == "FINISHED" else trees // 3
            stamps = (start + 10_000 + np.arange(1, rounds + 1) * 1400).astype(np.int64)
            end = int(stamps[-1]) + 3_000
            params = {
                "model_type": "xgboost",
                "learning_rate": f"{lr:.3g}",
                "max_depth": str(depth),
                "n_estimators": str(trees),
                "scale_pos_weight": f"{spw:g}",
                "subsample": f"{rng.uniform(0.6, 1.0):.2f}",
                "colsample_bytree": f"{rng.uniform(0.5, 1.0):.2f}",
                "feature_set": "tx-v2" if i >= 6 else "tx-v1",
            }
            name = f"xgb-{i:02d}"
            run_id = self._add_run(
                experiment=FRAUD_EXPERIMENT,
                name=name,
                user="erin" if i % 3 else "frank",
                status=status,
                start_ms=start,
                end_ms=end,
                source_name="fraud/train_xgb.py",
                commit=commit,
                params=params,
                tags={"mlflow.note.content": "Worker lost (spot instance reclaimed)."}
                if status == "FAILED"
                else {},
            )
            logloss = (
                0.012 + (0.8 - auprc) * 0.05 + 0.15 * np.exp(-np.arange(rounds) / (40 + 200 * lr))
            )
            logloss = logloss + rng.normal(0, 0.0004, rounds)
            self._add_history(run_id, "val_logloss", stamps, logloss)
            self._add_inputs(run_id, FRAUD_EXPERIMENT, [(train, "training"), (val, "validation")])
            if status != "FINISHED":
                continue
            metrics = {
                "auprc": auprc,
                "roc_auc": float(np.clip(0.9 + auprc * 0.1 + rng.normal(0, 0.003), 0.85, 0.995)),
                "precision_at_1pct_fpr": float(np.clip(auprc * 1.18, 0, 0.97)),
                "recall_at_1pct_fpr": float(np.clip(auprc * 1.05, 0, 0.95)),
                "latency_ms": float(0.3 + trees * depth * 0.0006),
            }
            self._add_scalars(run_id, metrics, end, rounds - 1)
            candidates.append(
                (
                    auprc,
                    _ArtifactRun(
                        experiment_id=self.experiment_ids[FRAUD_EXPERIMENT],
                        run_id=run_id,
                        run_name=name,
                        start_ms=start,
                        params=params,
                        metrics={**metrics, "val_logloss": float(logloss[-1])},
                        histories={"val_logloss": logloss},
                        features=_FRAUD_FEATURES,
                        dataset=train,
                        model_name=DEMO_FRAUD_MODEL,
                    ),
                )
            )
        # Version 1 is the best of the early runs, version 2 the best overall.
        early = max(
            (c for c in candidates if c[1].start_ms < self._days_ago(20)), key=lambda c: c[0]
        )
        overall = max(candidates, key=lambda c: c[0])
        if overall[1].run_id == early[1].run_id:
            overall = max((c for c in candidates if c is not early), key=lambda c: c[0])
        events: list[AuditEvent] = []
        for number, (run, created, reviewer) in enumerate(
            (
                (early[1], self._days_ago(19.5), "frank"),
                (overall[1], self._days_ago(11.5), "frank"),
            ),
            start=1,
        ):
            request_id = self._hex(6)
            request = PromotionRequest(
                request_id=request_id,
                model_name=DEMO_FRAUD_MODEL,
                version=str(number),
                alias=CHAMPION,
                requester="erin",
                comment=f"auprc {run.metrics['auprc']:.3f} on the October holdout.",
                state=PromotionState.APPLIED,
                created_ms=created + _HOUR_MS,
            )
            self.artifact_runs.append(run)
            self.versions.append(
                _VersionPlan(
                    model_name=DEMO_FRAUD_MODEL,
                    run=run,
                    created_ms=created,
                    user="erin",
                    description=f"XGBoost fraud scorer from run {run.run_name}.",
                    tags={
                        "validation_status": "passed",
                        "validated_by": "ci",
                        promotion.request_tag_key(request_id): promotion.request_tag_value(
                            request,
                            updated_ms=created + 5 * _HOUR_MS,
                            decided_by=reviewer,
                            decision_comment="Holdout metrics reviewed.",
                        ),
                    },
                )
            )
            for offset, actor, action, comment in (
                (1, "erin", "requested", request.comment),
                (4, reviewer, "approved", "Holdout metrics reviewed."),
                (5, reviewer, "applied", ""),
            ):
                events.append(
                    audit.append_event(
                        events[-1] if events else None,
                        time_ms=created + offset * _HOUR_MS,
                        actor=actor,
                        action=action,
                        model_name=DEMO_FRAUD_MODEL,
                        version=str(number),
                        alias=CHAMPION,
                        comment=comment,
                    )
                )
        self.audit_tags[DEMO_FRAUD_MODEL] = {
            audit.audit_tag_key(e.seq): audit.event_to_json(e) for e in events
        }
        self.aliases[DEMO_FRAUD_MODEL] = {CHAMPION: "2"}

    # -- retraining runs -----------------------------------------------------------------------

    def _retraining(self, sweep_best: Mapping[str, _ArtifactRun]) -> list[tuple[_ArtifactRun, Job]]:
        """Four retraining jobs from the version-2 configuration: one not registered, one failed."""
        rng = self.rng
        source = sweep_best["v2"]
        base_auc = source.metrics["val_auc"]
        plans = (
            # days ago, user, status, auc gain, trigger, data month, failure
            (15.6, "alice", "FINISHED", -0.0045, "manual", "2026-10b", ""),
            (9.2, "alice", "FINISHED", 0.0032, "scheduled", "2026-11a", ""),
            (
                3.1,
                "alice",
                "FAILED",
                0.0,
                "drift-alert",
                "2026-11b",
                "Data validation failed: 3.1% of monthly_charges values are null (limit 1.0%).",
            ),
            (1.2, "alice", "FINISHED", 0.0061, "drift-alert", "2026-11c", ""),
        )
        results: list[tuple[_ArtifactRun, Job]] = []
        commit = self._hex(20)
        for days, user, status, gain, trigger, month, failure in plans:
            submitted = self._days_ago(days)
            submitted_at = datetime.fromtimestamp(submitted / 1000, UTC)
            job_id = f"local-{submitted_at:%Y%m%d-%H%M%S}-{self._hex(2)}"
            start = submitted + 40 * _SECOND_MS
            dataset = _Dataset(
                name=f"churn-train-{month}",
                digest=self._hex(4),
                source_type="s3",
                uri=f"s3://ml-data/churn/{month}/train.parquet",
                rows=int(rng.integers(160_000, 175_000)),
                columns=(*_CHURN_FEATURES, "churned"),
            )
            steps = SWEEP_STEPS if status == "FINISHED" else 0
            per_step_ms = 1450.0
            stamps = (start + 12_000 + np.arange(1, steps + 1) * per_step_ms).astype(np.int64)
            end = int(stamps[-1]) + 5_000 if steps else start + 95 * _SECOND_MS
            params = {**source.params, "source_run_id": source.run_id, "trigger": trigger}
            name = f"retrain-{month}"
            run_id = self._add_run(
                experiment=RETRAINING_EXPERIMENT,
                name=name,
                user=user,
                status=status,
                start_ms=start,
                end_ms=end,
                source_name="mlops_desktop/demo/retrain.py",
                commit=commit,
                params=params,
                tags={"mlops.job_id": job_id, "mlops.source_run_id": source.run_id}
                | ({"mlflow.note.content": failure} if failure else {}),
            )
            self._add_inputs(run_id, RETRAINING_EXPERIMENT, [(dataset, "training")])
            metrics: dict[str, float] = {}
            histories: dict[str, npt.NDArray[np.float64]] = {}
            if steps:
                auc = base_auc + gain
                x = np.linspace(0.0, 1.0, steps)
                decay = np.exp(-x * 6.5)
                final_val = 0.24 + (0.95 - auc) * 1.5
                histories = {
                    "train_loss": (final_val - 0.04)
                    + (0.653 - final_val) * decay
                    + rng.normal(0, 0.012, steps),
                    "val_loss": final_val
                    + (0.693 - final_val) * decay
                    + rng.normal(0, 0.006, steps),
                    "val_accuracy": (0.74 + (auc - 0.5) * 0.32) * (1 - 0.28 * decay)
                    + rng.normal(0, 0.003, steps),
                }
                for key, values in histories.items():
                    self._add_history(run_id, key, stamps, values)
                metrics = {
                    "val_auc": auc,
                    "f1": float(source.metrics["f1"] + gain * 1.8),
                    "precision": float(source.metrics["precision"] + gain * 1.3),
                    "recall": float(source.metrics["recall"] + gain * 1.6),
                    "latency_ms": float(source.metrics["latency_ms"] + rng.normal(0, 0.05)),
                }
                self._add_scalars(run_id, metrics, end - 2_000, steps - 1)
            run = _ArtifactRun(
                experiment_id=self.experiment_ids[RETRAINING_EXPERIMENT],
                run_id=run_id,
                run_name=name,
                start_ms=start,
                params=params,
                metrics={**metrics, **{k: float(v[-1]) for k, v in histories.items()}},
                histories=histories,
                features=_CHURN_FEATURES,
                dataset=dataset,
                model_name=DEMO_MODEL,
                failure=failure,
            )
            job = Job(
                job_id=job_id,
                cluster="local",
                entrypoint=(
                    "python -m mlops_desktop.demo.retrain "
                    f"--source-run {source.run_id} --register {DEMO_MODEL}"
                ),
                status=JobStatus.SUCCEEDED if status == "FINISHED" else JobStatus.FAILED,
                submitter=user,
                submitted_ms=submitted,
                finished_ms=end + 3_000,
                source_run_id=source.run_id,
                result_run_id=run_id,
                message=failure,
                metadata={"trigger": trigger, "dataset": dataset.name},
            )
            results.append((run, job))
        return results

    # -- the churn model's versions, promotions and audit chain --------------------------------

    def _churn_story(
        self, sweep_best: Mapping[str, _ArtifactRun], retrain: Sequence[tuple[_ArtifactRun, Job]]
    ) -> None:
        v1_run, v2_run = sweep_best["v1"], sweep_best["v2"]
        (r0, job0), (r3, job3), (r_failed, job_failed), (r4, job4) = retrain
        champion_auc = v2_run.metrics["val_auc"]
        self.jobs = [
            replace(
                job0,
                message=(
                    f"Finished; val_auc {r0.metrics['val_auc']:.4f} is below the champion's "
                    f"{champion_auc:.4f}, so no version was registered."
                ),
            ),
            replace(
                job3,
                result_model_version=f"{DEMO_MODEL}/3",
                message=f"Registered {DEMO_MODEL} version 3 as {CHALLENGER}.",
            ),
            job_failed,
            replace(
                job4,
                result_model_version=f"{DEMO_MODEL}/4",
                message=f"Registered {DEMO_MODEL} version 4 as {CHALLENGER}.",
            ),
        ]
        self.artifact_runs.extend([v1_run, v2_run, r0, r3, r_failed, r4])
        incident_end = self._incident_window()[1]
        rollback_ms = incident_end - 15 * _MINUTE_MS
        created = {
            "1": self._days_ago(29.0),
            "2": self._days_ago(21.0),
            "3": job3.finished_ms or self._days_ago(9.0),
            "4": job4.finished_ms or self._days_ago(1.0),
        }
        runs = {"1": v1_run, "2": v2_run, "3": r3, "4": r4}
        # (version, time, actor, action, alias, comment)
        script: list[tuple[str, int, str, str, str, str]] = [
            (
                "1",
                created["1"] + _HOUR_MS,
                "alice",
                "requested",
                CHAMPION,
                "First production candidate, from sweep batch 1.",
            ),
            (
                "1",
                created["1"] + 20 * _HOUR_MS,
                "bob",
                "approved",
                CHAMPION,
                "Beats the XGBoost baseline by 2 AUC points; validation passed.",
            ),
            ("1", created["1"] + 20 * _HOUR_MS + 2 * _MINUTE_MS, "bob", "applied", CHAMPION, ""),
            (
                "2",
                created["2"] + 2 * _HOUR_MS,
                "alice",
                "requested",
                CHAMPION,
                "Best of sweep batches 1-4 (billing features).",
            ),
            (
                "2",
                created["2"] + 26 * _HOUR_MS,
                "carol",
                "approved",
                CHAMPION,
                "Gates pass; latency unchanged.",
            ),
            ("2", created["2"] + 26 * _HOUR_MS + 3 * _MINUTE_MS, "carol", "applied", CHAMPION, ""),
            (
                "3",
                created["3"] + _MINUTE_MS,
                "local-runner",
                "applied",
                CHALLENGER,
                f"Set by retraining job {job3.job_id}.",
            ),
            (
                "3",
                self._days_ago(8.0),
                "alice",
                "requested",
                CHAMPION,
                "Retrained on November data; +0.3 AUC points.",
            ),
            ("3", self._days_ago(7.0), "bob", "approved", CHAMPION, "Gates pass."),
            ("3", self._days_ago(7.0) + 4 * _MINUTE_MS, "bob", "applied", CHAMPION, ""),
            (
                "2",
                rollback_ms,
                "dave",
                "rolled_back",
                CHAMPION,
                "Error-rate incident INC-2041 after the version 3 rollout: back to version 2.",
            ),
            (
                "4",
                created["4"] + _MINUTE_MS,
                "local-runner",
                "applied",
                CHALLENGER,
                f"Set by retraining job {job4.job_id}.",
            ),
            (
                "4",
                created["4"] + 2 * _HOUR_MS,
                "alice",
                "requested",
                CHAMPION,
                f"Retrained after the drift alert on {DRIFTING_FEATURE}; +0.6 AUC points.",
            ),
        ]
        events: list[AuditEvent] = []
        for version, at, actor, action, alias, comment in script:
            events.append(
                audit.append_event(
                    events[-1] if events else None,
                    time_ms=at,
                    actor=actor,
                    action=action,
                    model_name=DEMO_MODEL,
                    version=version,
                    alias=alias,
                    comment=comment,
                )
            )
        self.audit_tags[DEMO_MODEL] = {
            audit.audit_tag_key(e.seq): audit.event_to_json(e) for e in events
        }
        self.aliases[DEMO_MODEL] = {CHAMPION: "2", CHALLENGER: "4"}

        # One request per champion promotion, carrying its latest state.
        final_state = {
            "1": PromotionState.APPLIED,
            "2": PromotionState.APPLIED,
            "3": PromotionState.ROLLED_BACK,
            "4": PromotionState.REQUESTED,
        }
        for version in ("1", "2", "3", "4"):
            # The rollback event names the version the alias went back to, not this one.
            mine = [
                e
                for e in events
                if e.version == version and e.alias == CHAMPION and e.action != "rolled_back"
            ]
            requested = next(e for e in mine if e.action == "requested")
            decided = next((e for e in mine if e.action == "approved"), None)
            updated = (
                rollback_ms
                if final_state[version] is PromotionState.ROLLED_BACK
                else max(e.time_ms for e in mine)
            )
            request_id = self._hex(6)
            request = PromotionRequest(
                request_id=request_id,
                model_name=DEMO_MODEL,
                version=version,
                alias=CHAMPION,
                requester=requested.actor,
                comment=requested.comment,
                state=final_state[version],
                created_ms=requested.time_ms,
            )
            run = runs[version]
            tags = {
                "validation_status": "passed",
                "validated_by": "ci",
                "training_dataset": run.dataset.name,
                promotion.request_tag_key(request_id): promotion.request_tag_value(
                    request,
                    updated_ms=updated,
                    decided_by=decided.actor if decided else "",
                    decision_comment=decided.comment if decided else "",
                ),
            }
            if version == "3":
                tags["incident"] = "INC-2041"
            source_note = (
                f"sweep run {run.run_name}"
                if run.experiment_id == self.experiment_ids[SWEEP_EXPERIMENT]
                else f"retraining run {run.run_name}"
            )
            self.versions.append(
                _VersionPlan(
                    model_name=DEMO_MODEL,
                    run=run,
                    created_ms=created[version],
                    user="local-runner" if version in {"3", "4"} else "alice",
                    description=(
                        f"Churn classifier from {source_note} "
                        f"(val_auc {run.metrics['val_auc']:.4f})."
                    ),
                    tags=tags,
                )
            )

    # -- writing the store ---------------------------------------------------------------------

    def _bulk_insert(self) -> None:
        connection = sqlite3.connect(self.build.store_path, isolation_level=None)
        try:
            connection.execute("PRAGMA synchronous = OFF")
            connection.execute("PRAGMA journal_mode = MEMORY")
            statements = {
                table: self._insert_sql(connection, table, columns)
                for table, columns in _INSERTS.items()
            }
            # Secondary indexes are rebuilt once after the load instead of row by row.
            indexes = connection.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'metrics' "
                "AND sql IS NOT NULL"
            ).fetchall()
            connection.execute("BEGIN")
            for name, _sql in indexes:
                connection.execute(f'DROP INDEX "{name}"')
            connection.executemany(statements["runs"], self.rows.runs)
            connection.executemany(statements["params"], self.rows.params)
            connection.executemany(statements["tags"], self.rows.tags)
            connection.executemany(statements["metrics"], self.rows.metrics)
            connection.executemany(statements["latest_metrics"], list(self.rows.latest.values()))
            connection.executemany(statements["datasets"], self.rows.datasets)
            connection.executemany(statements["inputs"], self.rows.inputs)
            connection.executemany(statements["input_tags"], self.rows.input_tags)
            for _name, sql in indexes:
                connection.execute(sql)
            for experiment_id, days in self.experiment_created_days.items():
                created = self._days_ago(days)
                connection.execute(
                    "UPDATE experiments SET creation_time = ?, last_update_time = ? "
                    "WHERE experiment_id = ?",
                    (created, self.now, int(experiment_id)),
                )
            connection.execute("COMMIT")
        finally:
            connection.close()

    @staticmethod
    def _insert_sql(connection: sqlite3.Connection, table: str, columns: Sequence[str]) -> str:
        present = {row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')}
        missing = [c for c in columns if c not in present]
        if missing:
            raise WorkspaceError(
                f"This MLflow version's store has no column(s) {', '.join(missing)} in table "
                f"{table}; the demo seeder needs updating for it."
            )
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        return f'INSERT INTO "{table}" ({names}) VALUES ({marks})'

    def _register(self, registry: Any) -> int:
        from mlflow.entities.model_registry import ModelVersionTag, RegisteredModelTag

        descriptions = {
            DEMO_MODEL: (
                "Predicts the probability that a subscriber cancels within 30 days. Serves the "
                "retention campaign scoring job and the support console. Owner: growth-ml (alice)."
            ),
            DEMO_FRAUD_MODEL: (
                "Scores card transactions for fraud in real time. Owner: risk-ml (erin)."
            ),
        }
        model_tags = {
            DEMO_MODEL: {"team": TEAM, "task": "binary-classification", "owner": "alice"},
            DEMO_FRAUD_MODEL: {"team": "risk-ml", "task": "binary-classification", "owner": "erin"},
        }
        for model_name, description in descriptions.items():
            tags = {**model_tags[model_name], **self.audit_tags.get(model_name, {})}
            registry.create_registered_model(
                model_name,
                tags=[
                    RegisteredModelTag(k, v)  # type: ignore[no-untyped-call]
                    for k, v in tags.items()
                ],
                description=description,
            )
        numbers: dict[str, int] = {}
        patches: list[tuple[int, int, str, str, int]] = []
        for plan in sorted(self.versions, key=lambda p: (p.model_name, p.created_ms)):
            version = registry.create_model_version(
                plan.model_name,
                source=self._model_source(plan.run),
                run_id=plan.run.run_id,
                tags=[
                    ModelVersionTag(k, v)  # type: ignore[no-untyped-call]
                    for k, v in plan.tags.items()
                ],
                description=plan.description,
            )
            numbers[plan.model_name] = int(version.version)
            updated = max([plan.created_ms, *self._version_tag_times(plan)])
            patches.append(
                (plan.created_ms, updated, plan.user, plan.model_name, int(version.version))
            )
        for model_name, aliases in self.aliases.items():
            for alias, version_number in aliases.items():
                registry.set_registered_model_alias(model_name, alias, version_number)
        connection = sqlite3.connect(self.build.store_path, isolation_level=None)
        try:
            connection.execute("BEGIN")
            connection.executemany(
                "UPDATE model_versions SET creation_time = ?, last_updated_time = ?, user_id = ? "
                "WHERE name = ? AND version = ?",
                patches,
            )
            for model_name in descriptions:
                times = [p[0] for p in patches if p[3] == model_name]
                events = [
                    json.loads(v)["time_ms"] for v in self.audit_tags.get(model_name, {}).values()
                ]
                connection.execute(
                    "UPDATE registered_models SET creation_time = ?, last_updated_time = ? "
                    "WHERE name = ?",
                    (min(times) - _HOUR_MS, max([*times, *events]), model_name),
                )
            connection.execute("COMMIT")
        finally:
            connection.close()
        return len(patches)

    @staticmethod
    def _version_tag_times(plan: _VersionPlan) -> list[int]:
        times: list[int] = []
        for key, value in plan.tags.items():
            if key.startswith(promotion.REQUEST_TAG_PREFIX):
                times.append(int(json.loads(value)["updated_ms"]))
        return times

    def _run_artifact_dir(self, run: _ArtifactRun, layout: DemoLayout) -> Path:
        return layout.artifact_root / run.experiment_id / run.run_id / "artifacts"

    def _model_source(self, run: _ArtifactRun) -> str:
        return (self._run_artifact_dir(run, self.final) / "model").as_posix()

    # -- artifacts -----------------------------------------------------------------------------

    def _write_artifacts(self, state: TaskState, stop: threading.Event) -> None:
        """Write the files of every run in `artifact_runs` (runs on a helper thread)."""
        mlflow_version = importlib.metadata.version("mlflow")
        registered = {plan.run.run_id: plan for plan in self.versions}
        seen: set[str] = set()
        for run in self.artifact_runs:
            if run.run_id in seen:
                continue
            seen.add(run.run_id)
            if stop.is_set():
                return
            state.check()
            folder = self._run_artifact_dir(run, self.build)
            folder.mkdir(parents=True)
            if run.failure:
                _write_failure_log(folder, run)
                continue
            _write_training_log(folder, run)
            (folder / "metrics_summary.json").write_text(
                json.dumps(
                    {
                        "run_id": run.run_id,
                        "run_name": run.run_name,
                        "model": run.model_name,
                        "metrics": {k: round(v, 6) for k, v in sorted(run.metrics.items())},
                        "params": dict(sorted(run.params.items())),
                        "training_dataset": {
                            "name": run.dataset.name,
                            "digest": run.dataset.digest,
                            "rows": run.dataset.rows,
                        },
                    },
                    indent=2,
                )
                + "\n",
                encoding="utf-8",
            )
            importances = self.artifact_rng.dirichlet(np.linspace(3.0, 0.5, len(run.features)))
            order = np.argsort(-importances)
            (folder / "feature_importance.csv").write_text(
                "feature,importance\n"
                + "".join(f"{run.features[i]},{importances[i]:.5f}\n" for i in order),
                encoding="utf-8",
            )
            self._write_predictions(folder, run)
            self._write_model_dir(folder / "model", run, mlflow_version)
            (folder / "plots").mkdir()
            _render_training_plot(
                folder / "plots" / "training_report.png", run, registered.get(run.run_id)
            )

    def _write_predictions(self, folder: Path, run: _ArtifactRun) -> None:
        rng = self.artifact_rng
        n = 50
        score = rng.beta(1.4, 3.6, n)
        actual = (rng.uniform(0, 1, n) < score).astype(int)
        label = "is_fraud" if run.model_name == DEMO_FRAUD_MODEL else "churned"
        lines = [f"id,score,predicted,{label}"]
        for i in range(n):
            lines.append(f"{100_000 + i * 37},{score[i]:.4f},{int(score[i] >= 0.42)},{actual[i]}")
        (folder / "predictions_sample.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    def _write_model_dir(self, folder: Path, run: _ArtifactRun, mlflow_version: str) -> None:
        folder.mkdir()
        weights = {
            "format": "logistic-scorecard-v1",
            "features": list(run.features),
            "intercept": round(float(self.artifact_rng.normal(-1.1, 0.1)), 5),
            "coefficients": {
                f: round(float(self.artifact_rng.normal(0, 0.6)), 5) for f in run.features
            },
            "threshold": 0.42,
        }
        model_json = json.dumps(weights, indent=2) + "\n"
        (folder / "model.json").write_text(model_json, encoding="utf-8")
        columns = [
            {
                "type": "string" if f in {"contract_type", "payment_method"} else "double",
                "name": f,
                "required": True,
            }
            for f in run.features
        ]
        created = datetime.fromtimestamp(run.start_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        (folder / "MLmodel").write_text(
            "artifact_path: model\n"
            "flavors:\n"
            "  python_function:\n"
            "    data: model.json\n"
            "    env:\n"
            "      conda: conda.yaml\n"
            "      virtualenv: python_env.yaml\n"
            f"    loader_module: {run.model_name.replace('-', '_')}.pyfunc\n"
            "    python_version: 3.11.9\n"
            f"mlflow_version: {mlflow_version}\n"
            f"model_size_bytes: {len(model_json.encode())}\n"
            f"model_uuid: {self.artifact_rng.bytes(16).hex()}\n"
            f"run_id: {run.run_id}\n"
            "signature:\n"
            f"  inputs: '{json.dumps(columns)}'\n"
            '  outputs: \'[{"type": "double", "name": "score", "required": true}]\'\n'
            "  params: null\n"
            f"utc_time_created: '{created}'\n",
            encoding="utf-8",
        )
        requirements = [
            f"mlflow=={mlflow_version}",
            "numpy==1.26.4",
            "pandas==2.2.3",
            "scikit-learn==1.5.2",
        ]
        (folder / "requirements.txt").write_text("\n".join(requirements) + "\n", encoding="utf-8")
        (folder / "conda.yaml").write_text(
            "channels:\n- conda-forge\ndependencies:\n- python=3.11.9\n- pip<=24.2\n- pip:\n"
            + "".join(f"  - {r}\n" for r in requirements)
            + "name: mlflow-env\n",
            encoding="utf-8",
        )
        (folder / "python_env.yaml").write_text(
            "python: 3.11.9\nbuild_dependencies:\n- pip==24.2\n- setuptools\n- wheel\n"
            "dependencies:\n- -r requirements.txt\n",
            encoding="utf-8",
        )

    # -- monitoring ----------------------------------------------------------------------------

    def _incident_window(self) -> tuple[int, int]:
        """Start and end (ms) of the error-rate incident of day -4, on the 5-minute grid."""
        end = (self._days_ago(4.0) // (MONITORING_STEP_S * 1000)) * MONITORING_STEP_S * 1000
        return end - 3 * _HOUR_MS - 10 * _MINUTE_MS, end

    def _write_monitoring(self) -> None:
        from mlops_desktop.backends.embedded_metrics import save_series

        rng = self.monitoring_rng
        step = MONITORING_STEP_S
        end_s = (self.now // 1000) // step * step
        n = MONITORING_DAYS * 86_400 // step
        t = (end_s - step * np.arange(n - 1, -1, -1)).astype(np.float64)
        hour = (t % 86_400) / 3600.0
        weekday = ((t // 86_400).astype(np.int64) + 3) % 7  # 0 = Monday (1970-01-01 was a Thursday)
        daily = 0.35 + 0.65 * (0.5 - 0.5 * np.cos(2 * np.pi * (hour - 3.5) / 24.0))
        weekly = np.where(weekday >= 5, 0.72, 1.0)
        growth = 1.0 + 0.08 * (t - t[0]) / (t[-1] - t[0])
        load = daily * weekly * growth
        throughput = 52.0 * load * (1 + rng.normal(0, 0.04, n))

        start_ms, end_ms = self._incident_window()
        t_ms = t * 1000
        in_incident = (t_ms >= start_ms) & (t_ms < end_ms)
        ramp = np.clip((t_ms - start_ms) / (25 * _MINUTE_MS), 0, 1)
        recovery = np.exp(-np.clip(t_ms - end_ms, 0, None) / (12 * _MINUTE_MS)) * (t_ms >= end_ms)
        incident = np.where(in_incident, ramp, recovery)
        error_rate = np.abs(0.0016 + 0.0006 * rng.standard_normal(n)) + incident * (
            0.055 + 0.008 * rng.standard_normal(n)
        )
        error_rate = np.clip(error_rate, 0.0, 1.0)
        p50 = 13.0 + 5.0 * load + rng.normal(0, 0.6, n) + incident * 9.0
        p95 = p50 * 2.3 + rng.normal(0, 1.5, n) + incident * 70.0
        p99 = p95 * 1.9 + np.abs(rng.normal(0, 6.0, n)) + incident * 260.0

        drift_start = self.now / 1000 - 10 * 86_400
        progress = np.clip((t - drift_start) / (self.now / 1000 - drift_start), 0, 1)
        prediction_mean = 0.262 + 0.004 * np.sin(2 * np.pi * hour / 24) + rng.normal(0, 0.003, n)
        prediction_mean += 0.034 * progress**1.3

        model = DEMO_MODEL
        series = [
            Series("throughput", "req/s", t, throughput),
            Series("error_rate", "ratio", t, error_rate, warning=0.01, alert=0.02),
            Series("latency_p50", "ms", t, p50),
            Series("latency_p95", "ms", t, p95, warning=80.0, alert=120.0),
            Series("latency_p99", "ms", t, p99, warning=150.0, alert=250.0),
            Series("prediction_mean", "score", t, prediction_mean),
        ]
        for feature in MONITORED_FEATURES:
            base = rng.uniform(0.015, 0.045)
            psi = base * (1 + 0.25 * rng.standard_normal(n))
            psi = np.clip(psi, 0.002, 0.085)
            if feature == DRIFTING_FEATURE:
                psi = psi + 0.33 * progress**1.3 * (1 + 0.05 * rng.standard_normal(n))
            series.append(
                Series(
                    f"drift.{feature}",
                    "psi",
                    t,
                    psi,
                    warning=DRIFT_WARNING_PSI,
                    alert=DRIFT_ALERT_PSI,
                )
            )
        save_series(self.build.monitoring_path, {model: series})

    # -- jobs and marker -----------------------------------------------------------------------

    def _write_jobs_and_marker(self, n_versions: int) -> None:
        from mlops_desktop.backends.local_runner import save_jobs

        save_jobs(self.build.jobs_path, self.jobs)
        marker = {
            "kind": MARKER_KIND,
            "format_version": MARKER_FORMAT_VERSION,
            "app_version": __version__,
            "created_ms": self.now,
            "seed": self.seed,
            "model": DEMO_MODEL,
            "experiments": sorted(self.experiment_ids),
            "runs": len(self.rows.runs),
            "metric_points": len(self.rows.metrics),
            "model_versions": n_versions,
        }
        self.build.marker_path.write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")


def _write_training_log(folder: Path, run: _ArtifactRun) -> None:
    lines = [
        f"run {run.run_id} ({run.run_name}) for {run.model_name}",
        f"training data: {run.dataset.name} "
        f"({run.dataset.rows:,} rows, digest {run.dataset.digest})",
        "params: " + ", ".join(f"{k}={v}" for k, v in sorted(run.params.items())),
        "",
    ]
    stamp = datetime.fromtimestamp(run.start_ms / 1000, UTC)
    for key, values in sorted(run.histories.items()):
        for step in range(0, values.shape[0], 50):
            lines.append(f"{stamp:%Y-%m-%d %H:%M:%S} step {step:4d} {key}={values[step]:.5f}")
    lines.append("")
    lines.extend(f"final {k} = {v:.5f}" for k, v in sorted(run.metrics.items()))
    (folder / "training_log.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write_failure_log(folder: Path, run: _ArtifactRun) -> None:
    stamp = datetime.fromtimestamp(run.start_ms / 1000, UTC)
    text = (
        f"{stamp:%Y-%m-%d %H:%M:%S} loading {run.dataset.uri}\n"
        f"{stamp:%Y-%m-%d %H:%M:%S} validating {run.dataset.rows:,} rows against the v4 schema\n"
        "Traceback (most recent call last):\n"
        '  File "mlops_desktop/demo/retrain.py", line 88, in main\n'
        "    validate(frame, schema)\n"
        '  File "mlops_desktop/demo/retrain.py", line 41, in validate\n'
        "    raise DataValidationError(message)\n"
        f"DataValidationError: {run.failure}\n"
    )
    (folder / "training_log.txt").write_text(text, encoding="utf-8")


def _render_training_plot(path: Path, run: _ArtifactRun, version: _VersionPlan | None) -> None:
    # matplotlib's object API with the Agg canvas: no pyplot, so no global backend switch
    # inside a Qt application and nothing shared between threads.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8.0, 3.4), dpi=80)
    FigureCanvasAgg(figure)
    left, right = figure.subplots(1, 2)
    for key, values in sorted(run.histories.items()):
        if key != "val_accuracy":
            left.plot(np.arange(values.shape[0]), values, label=key, linewidth=1.0)
    left.set_xlabel("step")
    left.set_ylabel("loss")
    left.set_title("Loss curves")
    left.grid(alpha=0.3)
    left.legend()
    auc = run.metrics.get("val_auc", run.metrics.get("roc_auc", 0.9))
    fpr = np.linspace(0.0, 1.0, 101)
    tpr = fpr ** ((1.0 - auc) / auc)
    right.plot(fpr, tpr, label=f"AUC {auc:.3f}", linewidth=1.4)
    right.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=0.8)
    right.set_xlabel("false positive rate")
    right.set_ylabel("true positive rate")
    right.set_title("ROC (validation)")
    right.legend(loc="lower right")
    title = run.run_name if version is None else f"{version.model_name} from {run.run_name}"
    figure.suptitle(title)
    # Fixed margins: tight_layout would draw every figure twice, the slowest part of seeding.
    figure.subplots_adjust(left=0.08, right=0.98, bottom=0.15, top=0.84, wspace=0.25)
    figure.savefig(path)
