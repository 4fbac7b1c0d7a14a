"""Session-wide test environment and the fixtures for the real components.

Fixtures:
  session_dirs            the session's temp dirs (XDG homes, runtime dir, server dirs)
  keychain                a running, unlocked Secret Service (gnome-keyring on a private bus)
  mlflow_server           a plain MLflow tracking server on a fresh SQLite store
  mlflow_server_factory   start(store_path, artifact_root) -> a server on that store
  mlflow_auth_server      a basic-auth server; `.admin_auth` is (user, password)
  demo_root               the demo workspace in the session's data dir, seeded once
Under CI=true a missing component fails the test; elsewhere it skips, naming the command.
"""

from __future__ import annotations

import os

# The environment comes first: nothing may import Qt or platformdirs-based paths before it.
from tests.harness.environment import prepare_environment
from tests.harness.reaper import Reaper

SESSION_DIRS = prepare_environment()
# Stops the session's daemons and servers, and removes its dirs, however this process ends.
REAPER = Reaper.start()
if os.environ.get("MLOPS_KEEP_TEST_DIRS") != "1":
    REAPER.remove_on_exit(SESSION_DIRS.root)

import importlib.util  # noqa: E402
import itertools  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING  # noqa: E402

import pytest  # noqa: E402

from tests.harness import components  # noqa: E402
from tests.harness.environment import SessionDirs  # noqa: E402
from tests.harness.keychain import Keychain, KeychainError, start_keychain  # noqa: E402
from tests.harness.mlflow_servers import (  # noqa: E402
    MlflowAuthServer,
    MlflowServer,
    ServerFactory,
    ServerStartError,
    start_auth_server,
    start_server,
)

if TYPE_CHECKING:
    from mlops_desktop.services.workspace import Workspace


def pytest_report_header(config: pytest.Config) -> str:
    return f"session dirs: {SESSION_DIRS.root}"


def pytest_unconfigure(config: pytest.Config) -> None:
    REAPER.close()


@pytest.fixture(scope="session")
def session_dirs() -> SessionDirs:
    return SESSION_DIRS


# -- keychain ---------------------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def _session_keychain() -> Iterator[Keychain | str]:
    """Start the keychain before the first test, so `keyring` finds it whenever it looks.

    Yields the running keychain, or the reason it could not start (which the `keychain`
    fixture turns into a skip or, under CI, a failure).
    """
    dbus_daemon = shutil.which("dbus-daemon")
    gnome_keyring = shutil.which("gnome-keyring-daemon")
    if dbus_daemon is None or gnome_keyring is None:
        missing = (
            "dbus-daemon (package dbus-daemon)"
            if dbus_daemon is None
            else ("gnome-keyring-daemon (package gnome-keyring)")
        )
        yield f"{missing} is not installed; run tests/harness/install_system_deps.sh test"
        return
    try:
        keychain = start_keychain(
            dbus_daemon, gnome_keyring, SESSION_DIRS.root / "keychain", on_spawn=REAPER.watch
        )
    except (KeychainError, OSError) as error:
        yield str(error)
        return
    print(f"\nkeychain: Secret Service on {keychain.bus_address}")
    try:
        yield keychain
    finally:
        pids = [process.pid for process in keychain.processes]
        keychain.stop()
        for pid in pids:
            REAPER.forget(pid)


@pytest.fixture(scope="session")
def keychain(_session_keychain: Keychain | str) -> Keychain:
    """The session's Secret Service; `keyring` uses it through its SecretService backend."""
    if isinstance(_session_keychain, str):
        components.unavailable("The Secret Service keychain", _session_keychain)
    import keyring
    from keyring.backends import SecretService

    backend = keyring.get_keyring()
    if not isinstance(backend, SecretService.Keyring):
        pytest.fail(
            f"keyring chose {backend!r} instead of SecretService although gnome-keyring runs "
            f"on {_session_keychain.bus_address}"
        )
    return _session_keychain


# -- MLflow servers -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def mlflow_server_factory() -> Iterator[ServerFactory]:
    """start(store, artifact_root): a server on an existing or new SQLite store (path or URI).

    Every server started through it stops at the end of the session.
    """
    started: list[MlflowServer] = []
    numbers = itertools.count(1)

    def start(store: Path | str, artifact_root: Path) -> MlflowServer:
        _require_mlflow()
        workdir = SESSION_DIRS.servers / f"server-{next(numbers)}"
        try:
            server = start_server(store, artifact_root, workdir, on_spawn=REAPER.watch)
        except ServerStartError as error:
            pytest.fail(str(error), pytrace=False)
        started.append(server)
        print(
            f"\nmlflow server: {server.url} on {server.store_uri} "
            f"(ready in {server.startup_s:.1f} s)"
        )
        return server

    yield start
    for server in started:
        server.stop()
        REAPER.forget(server.process.pid)


@pytest.fixture(scope="session")
def mlflow_server(mlflow_server_factory: ServerFactory) -> MlflowServer:
    """A tracking server on a fresh store, shared by the session: name what you create uniquely."""
    root = SESSION_DIRS.servers / "tracking"
    return mlflow_server_factory(root / "mlflow.db", root / "artifacts")


@pytest.fixture(scope="session")
def mlflow_auth_server() -> Iterator[MlflowAuthServer]:
    """A basic-auth server (default permission READ); `.admin_auth` = (user, password)."""
    _require_mlflow()
    root = SESSION_DIRS.servers / "auth"
    try:
        server = start_auth_server(
            root / "mlflow.db", root / "artifacts", root, on_spawn=REAPER.watch
        )
    except ServerStartError as error:
        pytest.fail(str(error), pytrace=False)
    print(f"\nmlflow auth server: {server.url} (ready in {server.startup_s:.1f} s)")
    try:
        yield server
    finally:
        server.stop()
        REAPER.forget(server.process.pid)


def _require_mlflow() -> None:
    if importlib.util.find_spec("mlflow") is None:
        components.unavailable(
            "mlflow server", f"the mlflow package is not installed in {sys.prefix}; run `make venv`"
        )


# -- the demo workspace ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def demo_root() -> Path:
    """The demo workspace where the app looks for it (session data dir), seeded once."""
    from mlops_desktop.services.demo import init_demo_workspace
    from mlops_desktop.services.paths import AppPaths

    root = AppPaths.from_environment().demo_dir
    init_demo_workspace(root)
    return root


@pytest.fixture(scope="session")
def demo_workspace(demo_root: Path) -> Iterator[Workspace]:
    """The demo workspace opened once, for tests that only read it (copy it to change it)."""
    from mlops_desktop.services.paths import AppPaths
    from mlops_desktop.services.tasks import TaskState
    from mlops_desktop.services.workspace import open_demo_workspace

    workspace = open_demo_workspace(AppPaths.from_environment(), TaskState())
    yield workspace
    workspace.close()
