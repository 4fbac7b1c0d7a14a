"""Run detail, artifact previews, downloads and `mlops-desktop runs` against a real MLflow server.

One run is logged through MLflow's own client the way training code logs it: params, a
1,000-step loss curve with a spike, system metrics, git and source tags, a parent run, a
dataset input, artifacts of every previewable kind (and a binary one), and an MLflow 3
logged model. Then everything is read back through the app's REST backend and CLI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mlops_desktop.backends.mlflow_rest import MlflowRestBackend
from mlops_desktop.services.artifact_preview import TEXT_PREVIEW_BYTES, PreviewKind, load_preview
from mlops_desktop.services.artifacts import download_artifact
from mlops_desktop.services.run_detail import SPARKLINE_POINTS, load_run_detail
from mlops_desktop.services.tasks import Cancelled, TaskState
from tests.harness.mlflow_servers import MlflowServer

pytestmark = pytest.mark.integration

COMMIT = "4f1c2a9e8b7d6c5f4e3d2c1b0a9f8e7d6c5b4a39"
LOSS_STEPS = 1000
SPIKE_STEP, SPIKE_VALUE = 777, 9.0
LOG_BYTES = 1_500_000
MLMODEL = """artifact_path: model
flavors:
  python_function:
    loader_module: mlflow.sklearn
    python_version: 3.11.9
  sklearn:
    pickled_model: model.pkl
    sklearn_version: 1.5.2
mlflow_version: 3.17.2
signature:
  inputs: '[{"type": "double", "name": "age", "required": true}, {"type": "string",
    "name": "plan", "required": false}]'
  outputs: '[{"type": "long", "name": "churned", "required": true}]'
"""
SERVER_FILES = {
    "plots/curve.png": PreviewKind.IMAGE,
    "config.json": PreviewKind.JSON,
    "params.yaml": PreviewKind.YAML,
    "data/table.csv": PreviewKind.TABLE,
    "data/table.tsv": PreviewKind.TABLE,
    "logs/train.log": PreviewKind.TEXT,
    "model/MLmodel": PreviewKind.MLMODEL,
    "model/model.pkl": PreviewKind.BINARY,
    "notes": PreviewKind.TEXT,
}


@dataclass(frozen=True)
class Logged:
    experiment_id: str
    experiment_name: str
    run_id: str
    parent_id: str
    model_id: str
    files: dict[str, bytes]


@pytest.fixture(scope="module")
def logged(mlflow_server: MlflowServer, tmp_path_factory: pytest.TempPathFactory) -> Logged:
    from mlflow import MlflowClient
    from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param

    client = MlflowClient(tracking_uri=mlflow_server.url)
    name = f"run-detail-{uuid.uuid4().hex[:8]}"
    experiment_id = client.create_experiment(name)
    parent = client.create_run(experiment_id, run_name="sweep-parent").info.run_id
    run_id = client.create_run(
        experiment_id,
        run_name="trial-7",
        tags={
            "mlflow.parentRunId": parent,
            "mlflow.source.name": "train.py",
            "mlflow.source.type": "LOCAL",
            "mlflow.source.git.commit": COMMIT,
            "mlflow.source.git.branch": "main",
            "team": "core",
        },
    ).info.run_id
    base = 1_700_000_000_000
    loss = [
        Metric("loss", SPIKE_VALUE if s == SPIKE_STEP else 1.0 / (1 + s), base + s, s)
        for s in range(LOSS_STEPS)
    ]
    system = [
        Metric("system/cpu_utilization_percentage", 40.0 + s, base + s * 10_000, s)
        for s in range(30)
    ]
    for start in range(0, len(loss), 500):
        client.log_batch(run_id, metrics=loss[start : start + 500])
    client.log_batch(
        run_id, metrics=system, params=[Param("lr", "0.01"), Param("optimizer", "adamw")]
    )
    client.log_inputs(
        run_id,
        [
            DatasetInput(
                Dataset(name="churn-train", digest="d1g3st", source_type="s3", source="s3://b/t"),
                tags=[InputTag("mlflow.data.context", "training")],
            )
        ],
    )
    files = _artifact_files()
    folder = tmp_path_factory.mktemp("artifacts")
    for path, data in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(data)
    client.log_artifacts(run_id, str(folder))
    client.set_terminated(run_id)
    client.set_terminated(parent)
    model = client.create_logged_model(
        experiment_id, name="churn-clf", source_run_id=run_id, model_type="sklearn"
    )
    client.finalize_logged_model(model.model_id, "READY")
    return Logged(experiment_id, name, run_id, parent, model.model_id, files)


def _artifact_files() -> dict[str, bytes]:
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4, 3), dpi=50)
    FigureCanvasAgg(figure)
    figure.subplots().plot([0, 1, 2], [3, 1, 2])
    png = io.BytesIO()
    figure.savefig(png, format="png")
    log_line = b"2026-01-01 00:00:00 step 1 loss=0.5\n"
    return {
        "plots/curve.png": png.getvalue(),
        "config.json": json.dumps({"lr": 0.01, "layers": [64, 32]}).encode(),
        "params.yaml": b"lr: 0.01\nlayers: [64, 32]\n",
        "data/table.csv": b"id,score\n1,0.5\n2,0.7\n",
        "data/table.tsv": b"id\tscore\n1\t0.5\n",
        "logs/train.log": log_line * (LOG_BYTES // len(log_line) + 1),
        "model/MLmodel": MLMODEL.encode(),
        "model/model.pkl": b"\x80\x04\x95" + bytes(range(256)) * 8,
        "notes": b"Trained on the v4 features.\n",
    }


@pytest.fixture
def backend(mlflow_server: MlflowServer) -> Iterator[MlflowRestBackend]:
    backend = MlflowRestBackend(mlflow_server.url, label="test server")
    yield backend
    backend.close()


def test_run_detail_from_the_server(backend: MlflowRestBackend, logged: Logged) -> None:
    detail = load_run_detail(backend, logged.run_id, TaskState())

    assert detail.name == "trial-7" and detail.status.value == "FINISHED"
    assert dict(detail.params) == {"lr": "0.01", "optimizer": "adamw"}
    assert [k for k, _ in detail.metrics] == ["loss"]
    assert [k for k, _ in detail.system_metrics] == ["system/cpu_utilization_percentage"]
    assert dict(detail.user_tags) == {"team": "core"}
    assert dict(detail.system_tags)["mlflow.source.git.commit"] == COMMIT
    assert (detail.source.git_commit, detail.source.git_branch) == (COMMIT, "main")
    assert (detail.source.name, detail.source.type) == ("train.py", "LOCAL")
    assert (detail.parent_run_id, detail.parent_run_name) == (logged.parent_id, "sweep-parent")
    [dataset] = detail.inputs
    assert (dataset.name, dataset.digest, dataset.source_type, dataset.context) == (
        "churn-train",
        "d1g3st",
        "s3",
        "training",
    )
    # The 1,000-step curve: at most 200 points, and the one-step spike survived.
    loss = detail.sparklines["loss"]
    assert loss.points == LOSS_STEPS and len(loss.values) <= SPARKLINE_POINTS
    assert loss.maximum == SPIKE_VALUE and SPIKE_STEP in loss.steps
    assert detail.sparklines["system/cpu_utilization_percentage"].points == 30
    # Both kinds of model: MLflow 3's logged model, and an MLmodel among the artifacts.
    by_origin = {m.origin: m for m in detail.models}
    logged_model = by_origin["logged model"]
    assert (logged_model.model_id, logged_model.name) == (logged.model_id, "churn-clf")
    assert (logged_model.status, logged_model.model_type) == ("READY", "sklearn")
    assert by_origin["artifacts"].flavors == ("python_function", "sklearn")
    assert sorted(e.path for e in detail.artifacts.files) == sorted(SERVER_FILES)
    assert detail.problems == ()


@pytest.mark.parametrize(("path", "kind"), SERVER_FILES.items())
def test_every_preview_kind_from_the_server(
    backend: MlflowRestBackend, logged: Logged, path: str, kind: PreviewKind
) -> None:
    size = len(logged.files[path])
    preview = load_preview(backend, logged.run_id, path, TaskState(), size_bytes=size)
    assert preview.kind is kind
    if kind is PreviewKind.IMAGE:
        assert preview.image == logged.files[path] and preview.image_format == "png"
    elif kind is PreviewKind.JSON:
        assert json.loads(preview.text) == {"lr": 0.01, "layers": [64, 32]}
        assert "\n  " in preview.text
    elif kind is PreviewKind.YAML:
        assert preview.text == "lr: 0.01\nlayers:\n- 64\n- 32\n"
    elif kind is PreviewKind.TABLE:
        assert preview.table is not None and preview.table.columns == ("id", "score")
        assert preview.table.rows[0] == ("1", "0.5")
    elif kind is PreviewKind.MLMODEL:
        assert preview.model is not None
        assert [f.name for f in preview.model.flavors] == ["python_function", "sklearn"]
        assert [(c.name, c.type, c.required) for c in preview.model.inputs] == [
            ("age", "double", True),
            ("plan", "string", False),
        ]
        assert preview.model.python_version == "3.11.9"
    elif kind is PreviewKind.BINARY:
        assert preview.note == (
            "No preview for this kind of file (2.1 kB): download it to open it."
        )
    elif path == "logs/train.log":
        # Streamed: the first megabyte only, and it says so.
        assert preview.truncated and len(preview.text.encode()) == TEXT_PREVIEW_BYTES
        assert preview.note == (
            "Showing the first 1.0 MB of 1.5 MB: download the file to see all of it."
        )
    else:
        assert preview.text == "Trained on the v4 features.\n"


def test_download_a_file_and_a_folder_from_the_server(
    backend: MlflowRestBackend, logged: Logged, tmp_path: Path
) -> None:
    single = download_artifact(backend, logged.run_id, "logs/train.log", tmp_path, TaskState())
    assert single.path.read_bytes() == logged.files["logs/train.log"]
    folder = download_artifact(backend, logged.run_id, "data", tmp_path, TaskState())
    assert folder.path == tmp_path / "data" and folder.files == 2
    assert (folder.path / "table.tsv").read_bytes() == logged.files["data/table.tsv"]


def test_a_cancelled_download_from_the_server_leaves_nothing(
    backend: MlflowRestBackend, logged: Logged, tmp_path: Path
) -> None:
    def cancel_once_writing(fraction: float, message: str) -> None:
        if fraction > 0:
            state.cancel()

    state = TaskState(on_progress=cancel_once_writing)
    with pytest.raises(Cancelled):
        download_artifact(backend, logged.run_id, "logs", tmp_path, state)
    assert list(tmp_path.iterdir()) == []


# -- the CLI on the server, through a profile ---------------------------------------------------


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlops_desktop", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env=os.environ.copy(),  # the session's XDG dirs: the profile added below
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def profile(mlflow_server: MlflowServer) -> Iterator[str]:
    name = f"detail-{uuid.uuid4().hex[:6]}"
    added = cli("connections", "add", name, "--kind", "mlflow", "--url", mlflow_server.url)
    assert added.returncode == 0, added.stderr
    yield name
    cli("connections", "remove", name)


def test_runs_commands_on_the_server_through_a_profile(
    logged: Logged, profile: str, tmp_path: Path
) -> None:
    listed = cli(
        "--profile", profile, "runs", "list", logged.experiment_name,
        "--format", "json", "--columns", "run_id,name,status,lr,loss",
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    rows = {row["run_name"]: row for row in json.loads(listed.stdout)}
    assert set(rows) == {"trial-7", "sweep-parent"}
    assert rows["trial-7"] == {
        "run_id": logged.run_id,
        "run_name": "trial-7",
        "status": "FINISHED",
        "params.lr": "0.01",
        "metrics.loss": pytest.approx(1.0 / LOSS_STEPS),
    }
    # --profile also after the action; a server-side filter.
    filtered = cli(
        "runs", "list", logged.experiment_id, "--filter", "params.lr = '0.01'",
        "--format", "csv", "--columns", "name", "--profile", profile,
    )  # fmt: skip
    assert filtered.returncode == 0, filtered.stderr
    assert filtered.stdout.splitlines() == ["run_name", "trial-7"]

    shown = cli("--profile", profile, "runs", "show", logged.run_id, "--json")
    assert shown.returncode == 0, shown.stderr
    detail = json.loads(shown.stdout)
    assert detail["source"]["git_commit"] == COMMIT
    assert detail["parent_run_name"] == "sweep-parent"
    assert {m["origin"] for m in detail["models"]} == {"logged model", "artifacts"}
    text = cli("--profile", profile, "runs", "show", logged.run_id)
    assert text.stdout.startswith(f"Run trial-7 ({logged.run_id}): FINISHED\n")
    assert f"logged model {logged.model_id} (ready, sklearn)" in text.stdout

    artifacts = cli("--profile", profile, "runs", "artifacts", logged.run_id, "data")
    assert artifacts.returncode == 0, artifacts.stderr
    assert [line.split()[-1] for line in artifacts.stdout.splitlines()] == [
        "data/table.csv",
        "data/table.tsv",
    ]
    download = cli(
        "--profile", profile, "runs", "download", logged.run_id, "model/MLmodel",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert download.returncode == 0, download.stderr
    assert (tmp_path / "MLmodel").read_bytes() == logged.files["model/MLmodel"]
    size = f"{len(MLMODEL.encode())} B"
    assert download.stdout.strip() == f"Saved 1 file ({size}) to {tmp_path / 'MLmodel'}"


def test_runs_command_errors_are_one_sentence(logged: Logged, profile: str) -> None:
    missing = cli("--profile", profile, "runs", "show", "f" * 32)
    assert missing.returncode == 1
    assert missing.stdout == ""
    [line] = missing.stderr.splitlines()
    assert line.startswith("mlops-desktop: Could not read run ffffffff")
    unknown = cli("--profile", "no-such-profile", "runs", "list", "x")
    assert unknown.returncode == 1
    assert len(unknown.stderr.splitlines()) == 1 and "no-such-profile" in unknown.stderr
