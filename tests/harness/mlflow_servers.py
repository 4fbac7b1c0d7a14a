"""Real `mlflow server` processes on loopback ports, started lean (see ENVIRONMENT.md).

One server is a process group (mlflow's CLI plus its uvicorn or gunicorn worker); stopping
it terminates the whole group. Every server logs to `<workdir>/server.log`, which a start
failure quotes.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests

START_TIMEOUT_S = 60.0
ADMIN_USERNAME = "admin"


class ServerStartError(RuntimeError):
    """The server did not answer /health in time; the message holds its log."""


@dataclass
class MlflowServer:
    url: str  # http://127.0.0.1:PORT, no trailing slash
    store_uri: str  # sqlite:////abs/path.db
    artifact_root: Path
    workdir: Path
    process: subprocess.Popen[bytes]
    startup_s: float

    @property
    def log_path(self) -> Path:
        return self.workdir / "server.log"

    def log_tail(self, limit: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-limit:]
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            except ProcessLookupError:
                pass
        # The workers share the group; one may outlive the CLI process that started it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


@dataclass
class MlflowAuthServer(MlflowServer):
    admin_username: str = ADMIN_USERNAME
    admin_password: str = ""

    @property
    def admin_auth(self) -> tuple[str, str]:
        return (self.admin_username, self.admin_password)


#: Called with the process group id of each process as soon as it is started.
OnSpawn = Callable[[int], None] | None

#: What the `mlflow_server_factory` fixture gives: start(store, artifact_root) -> server.
ServerFactory = Callable[[Path | str, Path], MlflowServer]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def sqlite_uri(path: Path) -> str:
    return f"sqlite:///{path.resolve()}"


def start_server(
    store: Path | str,
    artifact_root: Path,
    workdir: Path,
    on_spawn: OnSpawn = None,
    workers: int = 1,
) -> MlflowServer:
    """Start a plain tracking server on `store` (a SQLite file path, or a store URI).

    `on_spawn(pgid)` is called as soon as the process group exists, before the wait.
    `workers` is uvicorn's worker processes: 1 for tests, MLflow's default 4 for a
    benchmark that wants a server as deployed.
    """
    process, url, store_uri, started = _launch(
        store, artifact_root, workdir, [], {}, on_spawn, workers
    )
    server = MlflowServer(url, store_uri, artifact_root, workdir, process, 0.0)
    server.startup_s = _wait_until_healthy(server, started)
    return server


def start_auth_server(
    store: Path | str, artifact_root: Path, workdir: Path, on_spawn: OnSpawn = None
) -> MlflowAuthServer:
    """Start a server with MLflow's basic-auth app; everyone may READ, `admin` may all."""
    workdir.mkdir(parents=True, exist_ok=True)
    password = "admin-" + secrets.token_urlsafe(12)  # the app wants 12+ characters
    config = workdir / "basic_auth.ini"
    # database_uri is resolved against the server's working directory: keep it absolute.
    config.write_text(
        "[mlflow]\n"
        "default_permission = READ\n"
        f"database_uri = {sqlite_uri(workdir / 'basic_auth.db')}\n"
        f"admin_username = {ADMIN_USERNAME}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
    )
    env = {
        "MLFLOW_AUTH_CONFIG_PATH": str(config),
        "MLFLOW_AUTH_ADMIN_PASSWORD": password,
        "MLFLOW_FLASK_SERVER_SECRET_KEY": secrets.token_hex(16),
    }
    process, url, store_uri, started = _launch(
        store, artifact_root, workdir, ["--app-name", "basic-auth"], env, on_spawn
    )
    server = MlflowAuthServer(
        url, store_uri, artifact_root, workdir, process, 0.0, admin_password=password
    )
    server.startup_s = _wait_until_healthy(server, started)
    return server


def _launch(
    store: Path | str,
    artifact_root: Path,
    workdir: Path,
    extra_args: list[str],
    extra_env: dict[str, str],
    on_spawn: OnSpawn,
    workers: int = 1,
) -> tuple[subprocess.Popen[bytes], str, str, float]:
    workdir.mkdir(parents=True, exist_ok=True)
    artifact_root.mkdir(parents=True, exist_ok=True)
    store_uri = store if isinstance(store, str) else sqlite_uri(store)
    port = free_port()
    env = dict(os.environ)
    env.update(
        {
            # Lean: no job runner (its extra processes cost ~2 GB and 10-20 s), no telemetry.
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
            "MLFLOW_DISABLE_TELEMETRY": "true",
            **extra_env,
        }
    )
    command = [
        sys.executable, "-m", "mlflow", "server",
        "--backend-store-uri", store_uri,
        "--default-artifact-root", str(artifact_root.resolve()),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--workers", str(workers),
        *extra_args,
    ]  # fmt: skip
    started = time.monotonic()
    with (workdir / "server.log").open("wb") as log:
        log.write(("$ " + " ".join(command) + "\n").encode())
        log.flush()
        process = subprocess.Popen(
            command,
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as a whole
        )
    if on_spawn is not None:
        on_spawn(process.pid)
    return process, f"http://127.0.0.1:{port}", store_uri, started


def _wait_until_healthy(server: MlflowServer, started: float) -> float:
    deadline = started + START_TIMEOUT_S
    with requests.Session() as session:
        while True:
            if server.process.poll() is not None:
                server.stop()
                raise ServerStartError(
                    f"mlflow server on {server.store_uri} exited with status "
                    f"{server.process.returncode} before answering /health. Its log:\n"
                    + server.log_tail()
                )
            try:
                if session.get(f"{server.url}/health", timeout=(1, 2)).status_code == 200:
                    return time.monotonic() - started
            except requests.RequestException:
                pass  # not listening yet
            if time.monotonic() > deadline:
                server.stop()
                raise ServerStartError(
                    f"mlflow server on {server.store_uri} did not answer {server.url}/health "
                    f"within {START_TIMEOUT_S:g} s. Its log:\n" + server.log_tail()
                )
            time.sleep(0.1)
