"""Start-up: what the app pays before its first window, against importing mlflow."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.benchmarks.measure import import_seconds, median
from tests.benchmarks.records import Record

REPEATS = 5


def services_import_time() -> Record:
    """The Qt-free core the window starts from must not drag mlflow (or pandas) in."""
    ours = import_seconds("mlops_desktop.services.workspace", REPEATS)
    peer = import_seconds("mlflow", REPEATS)
    return Record(
        name="import mlops_desktop.services.workspace",
        unit="s",
        ours=median(ours),
        peer_name="import mlflow",
        peer=median(peer),
        goal=0.1,
        params={"repeats": REPEATS, "ours_runs_s": ours, "peer_runs_s": peer},
    )


def _process_seconds(argv: list[str], env: dict[str, str], until: str | None) -> float:
    """Wall time from spawning `argv` to the line starting with `until` (or to its exit)."""
    started = time.perf_counter()
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            if until is not None and line.startswith(until):
                elapsed = time.perf_counter() - started
                process.wait(timeout=120)
                return elapsed
        process.wait(timeout=120)
        if process.returncode != 0 or until is not None:
            raise RuntimeError(f"{argv} exited with {process.returncode} before {until!r}")
    return time.perf_counter() - started


def first_paint_time() -> Record:
    """From launching the app to its first painted window, against `python -c "import mlflow"`.

    Both are whole fresh processes, so interpreter start-up counts on both sides. The demo
    workspace is seeded beforehand, as on any start after the first.
    """
    home = Path(tempfile.mkdtemp(prefix="mlops-bench-startup-"))
    env = dict(
        os.environ,
        MLFLOW_DISABLE_TELEMETRY="true",
        QT_QPA_PLATFORM="offscreen",
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_STATE_HOME=str(home / "state"),
        XDG_RUNTIME_DIR=str(home / "runtime"),
    )
    (home / "runtime").mkdir(mode=0o700)
    app = [sys.executable, "-m", "mlops_desktop"]
    subprocess.run([*app, "demo", "init"], env=env, check=True, capture_output=True, timeout=600)
    ours, peer = [], []
    for attempt in range(REPEATS + 1):  # the first of each warms the page cache
        o = _process_seconds([*app, "--exit-after-paint"], env, until="first-paint")
        p = _process_seconds([sys.executable, "-c", "import mlflow"], env, until=None)
        if attempt:
            ours.append(o)
            peer.append(p)
    return Record(
        name="first paint of the window",
        unit="s",
        ours=median(ours),
        peer_name='python -c "import mlflow"',
        peer=median(peer),
        goal=0.6,
        params={
            "repeats": REPEATS,
            "ours_runs_s": ours,
            "peer_runs_s": peer,
            "view": "last used (experiments on a new profile)",
        },
    )


#: Each measurement of this area; `run` reports them in this order.
MEASUREMENTS: tuple[Callable[[], Record], ...] = (services_import_time, first_paint_time)


def run() -> list[Record]:
    return [measure() for measure in MEASUREMENTS]
