"""Seed an MLflow SQLite store with many runs, fast, for benchmarks and paging tests.

Seeding through REST manages 4-23 runs a second (ENVIRONMENT.md); this writes MLflow's own
schema with bulk SQL instead: MLflow's `SqlAlchemyStore` creates the schema and the
experiment, then one transaction inserts the runs, their params, latest metrics (in both
`metrics` and `latest_metrics`, as MLflow's `log_batch` does) and tags. 50,000 runs take a
few seconds. Start a server on the file afterwards (`tests.harness.mlflow_servers`).

The runs look like a hyper-parameter sweep: params with a few values each plus a unique
seed, metrics as floats, a mix of statuses with some still running.
"""

from __future__ import annotations

import os
import random
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path

T0_MS = 1_760_000_000_000
PARAMS_PER_RUN = 10
METRICS_PER_RUN = 5
TAGS_PER_RUN = 3
_PARAM_VALUES = {
    "learning_rate": ["0.3", "0.1", "0.03", "0.01", "0.003"],
    "max_depth": ["3", "4", "6", "8", "10", "12"],
    "n_estimators": ["100", "200", "400", "800"],
    "subsample": ["0.6", "0.8", "1.0"],
    "colsample": ["0.5", "0.7", "0.9"],
    "optimizer": ["adam", "sgd", "adamw"],
    "batch_size": ["32", "64", "128", "256"],
    "dropout": ["0.0", "0.1", "0.2", "0.3"],
    "model": ["gbdt", "dart", "goss"],
}
_METRICS = ("val_auc", "val_loss", "train_loss", "accuracy", "f1")
_STATUSES = ["FINISHED"] * 90 + ["FAILED"] * 5 + ["KILLED"] * 2 + ["RUNNING"] * 3


@dataclass(frozen=True)
class SeededExperiment:
    experiment_id: str
    name: str
    run_count: int


def create_store(db_path: Path, artifact_root: Path) -> None:
    """An empty MLflow store at `db_path` with MLflow's current schema."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    store = SqlAlchemyStore(f"sqlite:///{db_path.resolve()}", artifact_root.resolve().as_uri())  # type: ignore[no-untyped-call]
    store.engine.dispose()


def seed_experiment(
    db_path: Path, artifact_root: Path, name: str, run_count: int, seed: int = 7
) -> SeededExperiment:
    """An experiment `name` with `run_count` sweep runs (10 params, 5 metrics, 3 tags each).

    Creates the store when `db_path` does not exist yet. Runs start one second apart, so
    MLflow's default order (newest first) is the reverse of creation.
    """
    if not db_path.exists():
        create_store(db_path, artifact_root)
    rng = random.Random(seed)
    connection = sqlite3.connect(db_path)
    try:
        with connection:
            experiment_id = _insert_experiment(connection, name, artifact_root)
            _insert_runs(connection, experiment_id, artifact_root, run_count, rng)
    finally:
        connection.close()
    return SeededExperiment(str(experiment_id), name, run_count)


def _insert_experiment(connection: sqlite3.Connection, name: str, artifact_root: Path) -> int:
    row = connection.execute("SELECT COALESCE(MAX(experiment_id), 0) + 1 FROM experiments")
    experiment_id = int(row.fetchone()[0])
    location = (artifact_root.resolve() / str(experiment_id)).as_uri()
    connection.execute(
        "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage,"
        " creation_time, last_update_time) VALUES (?, ?, ?, 'active', ?, ?)",
        (experiment_id, name, location, T0_MS, T0_MS),
    )
    return experiment_id


def _insert_runs(
    connection: sqlite3.Connection,
    experiment_id: int,
    artifact_root: Path,
    run_count: int,
    rng: random.Random,
) -> None:
    runs, params, metrics, latest, tags = [], [], [], [], []
    base = artifact_root.resolve().as_uri()
    for number in range(run_count):
        run_id = uuid.UUID(int=rng.getrandbits(128)).hex
        start = T0_MS + number * 1000
        status = rng.choice(_STATUSES)
        end = None if status == "RUNNING" else start + rng.randint(30_000, 3_600_000)
        runs.append(
            (
                run_id,
                f"trial-{number:06d}",
                "LOCAL",
                "train.py",
                "",
                "ana",
                status,
                start,
                end,
                "",
                "active",
                f"{base}/{experiment_id}/{run_id}/artifacts",
                experiment_id,
            )
        )
        for key, values in _PARAM_VALUES.items():
            params.append((key, rng.choice(values), run_id))
        params.append(("seed", str(rng.randrange(1_000_000)), run_id))
        stamp = end or start + 60_000
        for key in _METRICS:
            value = rng.random()
            metrics.append((key, value, stamp, run_id, 99, 0))
            latest.append((key, value, stamp, 99, 0, run_id))
        tags.append(("team", rng.choice(["growth", "risk", "search"]), run_id))
        tags.append(("sweep", f"sweep-{number // 1000}", run_id))
        tags.append(("mlflow.runName", f"trial-{number:06d}", run_id))
    connection.executemany(
        "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id,"
        " status, start_time, end_time, source_version, lifecycle_stage, artifact_uri,"
        " experiment_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        runs,
    )
    connection.executemany('INSERT INTO params ("key", value, run_uuid) VALUES (?, ?, ?)', params)
    connection.executemany(
        'INSERT INTO metrics ("key", value, timestamp, run_uuid, step, is_nan)'
        " VALUES (?, ?, ?, ?, ?, ?)",
        metrics,
    )
    connection.executemany(
        'INSERT INTO latest_metrics ("key", value, timestamp, step, is_nan, run_uuid)'
        " VALUES (?, ?, ?, ?, ?, ?)",
        latest,
    )
    connection.executemany('INSERT INTO tags ("key", value, run_uuid) VALUES (?, ?, ?)', tags)
