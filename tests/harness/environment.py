"""An isolated environment for the whole test session, set up before anything imports Qt.

Every XDG base directory points into one session temp dir, so platformdirs (and so
`AppPaths.from_environment()`) gives the app a fresh config, data, cache and state home that
all tests of the session share; the demo workspace is seeded there once.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SessionDirs:
    root: Path
    runtime: Path  # XDG_RUNTIME_DIR, 0700 (Qt warns otherwise; D-Bus puts its socket here)
    config: Path
    data: Path
    cache: Path
    state: Path
    servers: Path  # one subdirectory per MLflow server the session starts


def prepare_environment() -> SessionDirs:
    """Create the session dirs and export the variables; call before Qt is imported."""
    root = Path(tempfile.mkdtemp(prefix="mlops-desktop-tests-"))
    dirs = SessionDirs(
        root=root,
        runtime=root / "runtime",
        config=root / "config",
        data=root / "data",
        cache=root / "cache",
        state=root / "state",
        servers=root / "servers",
    )
    for path in (dirs.config, dirs.data, dirs.cache, dirs.state, dirs.servers):
        path.mkdir()
    dirs.runtime.mkdir(mode=0o700)
    os.environ.update(
        {
            "QT_QPA_PLATFORM": "offscreen",
            "XDG_RUNTIME_DIR": str(dirs.runtime),
            "XDG_CONFIG_HOME": str(dirs.config),
            "XDG_DATA_HOME": str(dirs.data),
            "XDG_CACHE_HOME": str(dirs.cache),
            "XDG_STATE_HOME": str(dirs.state),
            "MLFLOW_DISABLE_TELEMETRY": "true",
        }
    )
    # A developer's own settings must not leak in: the keychain is the session's own, and
    # mlflow must never talk to a server the tests did not start.
    for name in (
        "PYTHON_KEYRING_BACKEND",
        "DBUS_SESSION_BUS_ADDRESS",
        "MLFLOW_TRACKING_URI",
        "MLFLOW_REGISTRY_URI",
        "MLFLOW_TRACKING_USERNAME",
        "MLFLOW_TRACKING_PASSWORD",
        "MLFLOW_TRACKING_TOKEN",
    ):
        os.environ.pop(name, None)
    return dirs
