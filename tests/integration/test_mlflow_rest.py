"""MlflowRestBackend against a real `mlflow server`: data read back, errors in plain words."""

from __future__ import annotations

import http.server
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest
import requests

from mlops_desktop.backends import mlflow_rest
from mlops_desktop.backends.errors import (
    AuthenticationFailed,
    BadResponse,
    ConnectionFailed,
    NotFound,
    PermissionDenied,
)
from mlops_desktop.backends.mlflow_rest import MlflowRestBackend
from mlops_desktop.backends.tracking import TrackingBackend
from mlops_desktop.domain.tracking import RunStatus
from tests.harness.mlflow_servers import MlflowAuthServer, MlflowServer, free_port

pytestmark = pytest.mark.integration

HISTORY_STEPS = 30


@dataclass(frozen=True)
class Seeded:
    experiment_id: str
    experiment_name: str
    deleted_experiment_id: str
    run_ids: list[str]  # the five sweep runs, lr = 0.1 * (i + 1)
    child_run_id: str
    model_name: str


@pytest.fixture(scope="module")
def seeded(mlflow_server: MlflowServer) -> Seeded:
    """An experiment with 5 runs (one with a 30-step loss curve), a child run, artifacts, a
    dataset input and a registered model with two versions and two aliases."""
    from mlflow import MlflowClient
    from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param

    client = MlflowClient(tracking_uri=mlflow_server.url, registry_uri=mlflow_server.url)
    suffix = uuid.uuid4().hex[:8]
    name = f"rest-test-{suffix}"
    experiment_id = client.create_experiment(name, tags={"mlflow.note.content": "seeded"})
    deleted_id = client.create_experiment(f"{name}-deleted")
    client.delete_experiment(deleted_id)
    run_ids = []
    for i in range(5):
        run = client.create_run(experiment_id, run_name=f"trial-{i}", tags={"team": "core"})
        run_id = run.info.run_id
        client.log_batch(
            run_id,
            metrics=[
                Metric("loss", 1.0 / (i + 1), 1_700_000_000_000, 0),
                Metric("accuracy", 0.5 + i / 10, 1_700_000_000_000, 0),
            ],
            params=[Param("lr", str(round(0.1 * (i + 1), 1))), Param("depth", str(3 + i))],
        )
        client.set_terminated(run_id, "FINISHED" if i < 4 else "FAILED")
        run_ids.append(run_id)
    curve = run_ids[0]
    # Logged in reverse: the backend must return the history sorted by step.
    client.log_batch(
        curve,
        metrics=[
            Metric("val_loss", 1.0 / (step + 1), 1_700_000_000_000 + step, step)
            for step in reversed(range(HISTORY_STEPS))
        ],
    )
    client.log_inputs(
        curve,
        [
            DatasetInput(
                Dataset(
                    name="churn-train", digest="abc123", source_type="local", source="/data/train"
                ),
                tags=[InputTag("mlflow.data.context", "training")],
            )
        ],
    )
    client.log_text(curve, "hello artifacts", "notes/readme.txt")
    client.log_dict(curve, {"a": 1}, "config.json")
    child = client.create_run(experiment_id, run_name="fold-0", tags={"mlflow.parentRunId": curve})
    client.set_terminated(child.info.run_id)

    model = f"rest-model-{suffix}"
    client.create_registered_model(model, description="seeded model")
    for run_id in run_ids[:2]:
        client.create_model_version(model, source=f"runs:/{run_id}/model", run_id=run_id)
    client.set_registered_model_alias(model, "champion", "1")
    client.set_registered_model_alias(model, "challenger", "2")
    return Seeded(experiment_id, name, deleted_id, run_ids, child.info.run_id, model)


@pytest.fixture
def backend(mlflow_server: MlflowServer) -> Iterator[MlflowRestBackend]:
    backend = MlflowRestBackend(mlflow_server.url, label="test server")
    yield backend
    backend.close()


def test_it_is_a_tracking_backend(backend: MlflowRestBackend) -> None:
    assert isinstance(backend, TrackingBackend)
    assert backend.location.startswith("http://127.0.0.1:")


def test_list_experiments(backend: MlflowRestBackend, seeded: Seeded) -> None:
    experiments = {e.experiment_id: e for e in backend.list_experiments()}
    ours = experiments[seeded.experiment_id]
    assert ours.name == seeded.experiment_name
    assert ours.description == "seeded"
    assert ours.lifecycle_stage == "active"
    assert ours.creation_time_ms is not None

    assert seeded.deleted_experiment_id not in experiments
    everything = {e.experiment_id: e for e in backend.list_experiments(include_deleted=True)}
    assert everything[seeded.deleted_experiment_id].lifecycle_stage == "deleted"


def test_search_runs_pages_through_every_run(backend: MlflowRestBackend, seeded: Seeded) -> None:
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        runs, token = backend.search_runs([seeded.experiment_id], max_results=2, page_token=token)
        pages += 1
        seen.extend(run.run_id for run in runs)
        if token is None:
            break
    assert pages == 3
    assert sorted(seen) == sorted([*seeded.run_ids, seeded.child_run_id])


def test_search_runs_filters_and_orders(backend: MlflowRestBackend, seeded: Seeded) -> None:
    runs, token = backend.search_runs(
        [seeded.experiment_id],
        filter_string="metrics.loss < 0.4",
        order_by=["metrics.loss ASC"],
    )
    assert token is None
    assert [r.name for r in runs] == ["trial-4", "trial-3", "trial-2"]
    assert [r.params["lr"] for r in runs] == ["0.5", "0.4", "0.3"]


def test_get_run(backend: MlflowRestBackend, seeded: Seeded) -> None:
    run = backend.get_run(seeded.run_ids[0])
    assert run.name == "trial-0"
    assert run.status is RunStatus.FINISHED
    assert run.params == {"lr": "0.1", "depth": "3"}
    assert run.metrics["loss"] == pytest.approx(1.0)
    assert run.metrics["val_loss"] == pytest.approx(1.0 / HISTORY_STEPS)  # the latest step
    assert run.tags["team"] == "core"
    assert run.duration_s is not None and run.duration_s >= 0
    [dataset] = run.inputs
    assert (dataset.name, dataset.digest, dataset.context) == ("churn-train", "abc123", "training")

    assert backend.get_run(seeded.run_ids[4]).status is RunStatus.FAILED
    assert backend.get_run(seeded.child_run_id).parent_run_id == seeded.run_ids[0]


def test_metric_history_is_complete_and_sorted(
    backend: MlflowRestBackend, seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mlflow_rest, "_METRIC_HISTORY_PAGE", 7)  # 30 points: five pages
    history = backend.get_metric_history(seeded.run_ids[0], "val_loss")
    assert len(history) == HISTORY_STEPS
    assert history.steps.dtype == np.int64 and history.values.dtype == np.float64
    np.testing.assert_array_equal(history.steps, np.arange(HISTORY_STEPS))
    np.testing.assert_allclose(history.values, 1.0 / (np.arange(HISTORY_STEPS) + 1))


def test_artifacts(backend: MlflowRestBackend, seeded: Seeded) -> None:
    run_id = seeded.run_ids[0]
    top = {a.path: a for a in backend.list_artifacts(run_id)}
    assert top["notes"].is_dir and not top["config.json"].is_dir
    [readme] = backend.list_artifacts(run_id, "notes")
    assert readme.path == "notes/readme.txt" and readme.size_bytes == len("hello artifacts")
    assert backend.read_artifact(run_id, "notes/readme.txt") == b"hello artifacts"
    with pytest.raises(BadResponse, match="larger than"):
        backend.read_artifact(run_id, "notes/readme.txt", max_bytes=4)
    with pytest.raises(NotFound):
        backend.read_artifact(run_id, "no/such/file.txt")


def test_registered_models_and_aliases(backend: MlflowRestBackend, seeded: Seeded) -> None:
    names = [m.name for m in backend.search_registered_models()]
    assert seeded.model_name in names
    model = backend.get_registered_model(seeded.model_name)
    assert model.description == "seeded model"
    assert model.aliases == {"champion": "1", "challenger": "2"}

    versions = backend.search_model_versions(seeded.model_name)
    assert [(v.version, v.aliases) for v in versions] == [
        ("2", ("challenger",)),
        ("1", ("champion",)),
    ]
    assert versions[1].run_id == seeded.run_ids[0]


def test_missing_things_raise_not_found(backend: MlflowRestBackend) -> None:
    with pytest.raises(NotFound, match="not found"):
        backend.get_run("0" * 32)
    with pytest.raises(NotFound, match="no-such-model"):
        backend.get_registered_model("no-such-model")


def test_closed_port_says_connection_refused() -> None:
    port = free_port()
    backend = MlflowRestBackend(f"http://127.0.0.1:{port}", label="nothing there")
    with pytest.raises(ConnectionFailed) as caught:
        backend.list_experiments()
    backend.close()
    assert caught.value.failure == "refused"
    assert str(caught.value) == (
        f"127.0.0.1 refused the connection on port {port}: is the server running?"
    )


class _NotMlflowHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<html><body>Welcome to the intranet</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_web_server_that_is_not_mlflow_is_named_as_such() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotMlflowHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        backend = MlflowRestBackend(f"http://127.0.0.1:{server.server_port}", label="intranet")
        with pytest.raises(BadResponse, match="is not an MLflow server"):
            backend.list_experiments()
        backend.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# -- basic-auth server ---------------------------------------------------------------------


def test_auth_server_wants_credentials(mlflow_auth_server: MlflowAuthServer) -> None:
    url = f"{mlflow_auth_server.url}/api/2.0/mlflow/experiments/search"
    anonymous = requests.get(url, params={"max_results": 1}, timeout=10)
    assert anonymous.status_code == 401
    admin = requests.get(
        url, params={"max_results": 1}, timeout=10, auth=mlflow_auth_server.admin_auth
    )
    assert admin.status_code == 200


def test_auth_errors_are_typed(mlflow_auth_server: MlflowAuthServer) -> None:
    url = mlflow_auth_server.url
    anonymous = MlflowRestBackend(url, label="anonymous")
    with pytest.raises(AuthenticationFailed, match="asks for a sign-in to list the experiments"):
        anonymous.list_experiments()
    wrong = MlflowRestBackend(url, label="wrong", auth=("admin", "wrong-password"))
    with pytest.raises(AuthenticationFailed, match="refused the credentials of user 'admin'"):
        wrong.list_experiments()

    admin = MlflowRestBackend(url, label="admin", auth=mlflow_auth_server.admin_auth)
    assert any(e.name == "Default" for e in admin.list_experiments())

    # A READ-only user may read but not write: the 403 body is plain text.
    reader = f"reader-{uuid.uuid4().hex[:6]}"
    created = requests.post(
        f"{url}/api/2.0/mlflow/users/create",
        timeout=10,
        json={"username": reader, "password": "reader-password-123"},
        auth=mlflow_auth_server.admin_auth,
    )
    assert created.status_code == 200, created.text
    as_reader = MlflowRestBackend(url, label="reader", auth=(reader, "reader-password-123"))
    assert as_reader.list_experiments()
    with pytest.raises(PermissionDenied, match="Permission denied: you may not tag"):
        as_reader._call(
            "POST",
            "experiments/set-experiment-tag",
            json={"experiment_id": "0", "key": "k", "value": "v"},
            doing="tag experiment 0",
        )
    for client in (anonymous, wrong, admin, as_reader):
        client.close()
