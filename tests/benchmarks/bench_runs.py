"""The runs browser: loading 10,000 and 50,000 runs against `mlflow.search_runs`, side by side.

One SQLite store is seeded in-process with two experiments (10,000 and 50,000 runs; 10
params, 5 metrics and 3 tags each), then served by a real `mlflow server` started as
deployed (MLflow's default 4 workers, the job runner off) and again as the tests start it
(1 worker). On each server, for each experiment, alternately:

- peer: `mlflow.search_runs(experiment_ids=[id])`, all runs, until its DataFrame is ready;
- ours: `load_runs_frame` over `MlflowRestBackend` run by the app's `TaskRunner`, pages
  appended to a `RunsTableModel` on the GUI thread as the Experiments view does; timed to
  the first 1,000 rows in the model and to the result (every row in the model).

Then, without a server: a reopen from the runs cache (read + a new `RunsTableModel`),
sorting 100,000 runs by a metric, and the RSS of a fresh process holding 100,000 cached
runs in a `RunsTableModel`. Every timing is the median of its repeats; the machine is
shared, so each record keeps its individual runs in `params`.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from tests.benchmarks.records import Record
from tests.harness.mlflow_servers import MlflowServer, start_server
from tests.harness.reaper import Reaper
from tests.harness.seed_runs import (
    METRICS_PER_RUN,
    PARAMS_PER_RUN,
    TAGS_PER_RUN,
    SeededExperiment,
    seed_experiment,
)

SIZES = (10_000, 50_000)
#: Repeats per size: a 50,000-run peer search takes about a minute.
REPEATS = {10_000: 3, 50_000: 1}
#: MLflow's default (a deployed server), then the tests' lean server.
WORKERS = (4, 1)
FIRST_ROWS = 1_000
SORT_ROWS = 100_000
SORT_REPEATS = 5
RSS_GOAL_MB = 400.0
WORKSPACE_KEY = "bench"
_SERVER_START = (
    "MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false mlflow server --backend-store-uri sqlite:///DB "
    "--host 127.0.0.1 --workers {workers}"
)


@dataclass
class Timings:
    """One experiment on one server: each repeat's seconds."""

    peer: list[float]
    full: list[float]
    first: list[float]


def run() -> list[Record]:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    root = Path(tempfile.mkdtemp(prefix="mlops-bench-runs-"))
    # Stops the servers and removes the store however this process ends.
    reaper = Reaper.start()
    reaper.remove_on_exit(root)
    try:
        return _run(root, reaper)
    finally:
        shutil.rmtree(root, ignore_errors=True)
        reaper.close()


def _run(root: Path, reaper: Reaper) -> list[Record]:
    app = _qt_app(root)
    db, artifacts = root / "mlflow.db", root / "artifacts"
    seeding = time.perf_counter()
    experiments = {
        size: seed_experiment(db, artifacts, f"sweep-{size}", size, seed=size) for size in SIZES
    }
    seed_s = time.perf_counter() - seeding
    print(f"  seeded {sum(SIZES):,} runs in {seed_s:.1f} s", flush=True)
    load = _loadavg()
    records: list[Record] = []
    frames: dict[int, pd.DataFrame] = {}
    peer_on_deployed: dict[int, float] = {}
    for workers in WORKERS:
        server = start_server(
            db, artifacts, root / f"server-{workers}", on_spawn=reaper.watch, workers=workers
        )
        try:
            print(f"  mlflow server, {workers} workers: {server.url}", flush=True)
            for size in SIZES:
                timings, frame = _compare_loads(app, server, experiments[size], REPEATS[size])
                frames.setdefault(size, frame)
                if workers == WORKERS[0]:
                    peer_on_deployed[size] = statistics.median(timings.peer)
                records += _load_records(size, workers, timings, seed_s)
        finally:
            server.stop()
            reaper.forget(server.process.pid)
    for size in SIZES:
        records.append(_cached_reopen(app, root, frames[size], size, peer_on_deployed[size]))
    big = _hundred_thousand(frames[max(SIZES)])
    records.append(_sort_record(app, big))
    records.append(_rss_record(root, big))
    machine = {"load_average_1_5_15_at_start": load, "load_average_at_end": _loadavg()}
    return [replace(r, params={**r.params, **machine}) for r in records]


# -- loading --------------------------------------------------------------------------------------


def _compare_loads(
    app: Any, server: MlflowServer, experiment: SeededExperiment, repeats: int
) -> tuple[Timings, pd.DataFrame]:
    import mlflow

    from mlops_desktop.backends.mlflow_rest import MlflowRestBackend

    mlflow.set_tracking_uri(server.url)
    ids = [experiment.experiment_id]
    tracking = MlflowRestBackend(server.url, "bench")
    # Warm both clients and every server worker: imports, connections, the SQLite pages.
    mlflow.search_runs(experiment_ids=ids, max_results=10)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: tracking.search_run_columns(ids, max_results=10), range(16)))
    timings = Timings([], [], [])
    frame = pd.DataFrame()
    try:
        for _ in range(repeats):
            started = time.perf_counter()
            peer_frame = mlflow.search_runs(experiment_ids=ids)
            timings.peer.append(time.perf_counter() - started)
            assert len(peer_frame) == experiment.run_count, len(peer_frame)
            del peer_frame
            full, first, frame = _ours(app, tracking, ids, experiment.run_count)
            timings.full.append(full)
            timings.first.append(first)
            print(
                f"    {experiment.run_count:,} runs: peer {timings.peer[-1]:.2f} s, "
                f"ours {full:.2f} s (first {FIRST_ROWS:,} rows {first:.2f} s)",
                flush=True,
            )
    finally:
        tracking.close()
    assert len(frame) == experiment.run_count, len(frame)
    return timings, frame


def _ours(
    app: Any, tracking: Any, ids: list[str], expected: int
) -> tuple[float, float, pd.DataFrame]:
    """(seconds to the whole table, seconds to its first 1,000 rows, the frame)."""
    from functools import partial

    from PySide6.QtCore import QEventLoop

    from mlops_desktop.services.experiments import load_runs_frame
    from mlops_desktop.ui.runs_table_model import RunsTableModel
    from mlops_desktop.ui.tasks import TaskRunner

    model, runner, loop = RunsTableModel(), TaskRunner(), QEventLoop()
    got: dict[str, Any] = {}

    def on_partial(page: pd.DataFrame) -> None:
        model.append_frame(page)
        if "first" not in got and model.rowCount() >= min(FIRST_ROWS, expected):
            got["first"] = time.perf_counter() - started

    def on_end(result: Any = None) -> None:
        got["end"] = time.perf_counter() - started
        got["result"] = result
        loop.quit()

    started = time.perf_counter()
    runner.run(
        partial(load_runs_frame, expected_total=expected),
        tracking,
        ids,
        on_partial=on_partial,
        on_done=on_end,
        on_error=on_end,
        on_cancelled=on_end,
        slot="bench",
    )
    loop.exec()
    result = got["result"]
    if isinstance(result, Exception):
        raise result
    assert model.rowCount() == expected, (model.rowCount(), expected)
    return got["end"], got["first"], result


def _load_records(size: int, workers: int, timings: Timings, seed_s: float) -> list[Record]:
    peer = statistics.median(timings.peer)
    server = f"{workers} worker{'s' if workers > 1 else ''}"
    params = {
        "runs": size,
        "params_per_run": PARAMS_PER_RUN,
        "metrics_per_run": METRICS_PER_RUN,
        "tags_per_run": TAGS_PER_RUN,
        "server": _SERVER_START.format(workers=workers),
        "server_workers": workers,
        "server_note": "MLflow's default worker count (a deployed server)"
        if workers == 4
        else "the test suite's lean server",
        "cores": os.cpu_count(),
        "repeats": len(timings.peer),
        "peer_runs_s": timings.peer,
        "peer_page_size": 10_000,  # what mlflow.search_runs asks for (NUM_RUNS_PER_PAGE_PANDAS)
        "seeded_in_s": round(seed_s, 1),
    }
    from mlops_desktop.backends.mlflow_rest import MlflowRestBackend
    from mlops_desktop.services.experiments import FIRST_RUNS_PAGE, RUNS_PAGE

    plan = {
        "first_pages": FIRST_RUNS_PAGE,
        "pages": RUNS_PAGE,
        "concurrent_pages": MlflowRestBackend.concurrent_pages,
    }
    return [
        Record(
            name=f"{size // 1000}k runs: full table, {server}",
            unit="s",
            ours=statistics.median(timings.full),
            peer_name="mlflow.search_runs",
            peer=peer,
            goal=0.75,
            params={**params, **plan, "ours_runs_s": timings.full},
        ),
        Record(
            name=f"{size // 1000}k runs: first {FIRST_ROWS:,} rows, {server}",
            unit="s",
            ours=statistics.median(timings.first),
            peer_name="mlflow.search_runs",
            peer=peer,
            goal=0.1,
            params={**params, **plan, "ours_runs_s": timings.first},
        ),
    ]


# -- cache, sort, memory --------------------------------------------------------------------------


def _cached_reopen(app: Any, root: Path, frame: pd.DataFrame, size: int, peer: float) -> Record:
    """Reading the cached runs and filling a new table model, against the peer's load."""
    from mlops_desktop.services.runs_cache import RunsCache
    from mlops_desktop.ui.runs_table_model import RunsTableModel

    cache = RunsCache(root / "cache")
    cache.write(WORKSPACE_KEY, [str(size)], "", frame)
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        cached = cache.read(WORKSPACE_KEY, [str(size)], "")
        assert cached is not None
        model = RunsTableModel(cached.frame)
        runs.append(time.perf_counter() - started)
        assert model.rowCount() == size
    return Record(
        name=f"{size // 1000}k runs: reopen from the cache",
        unit="s",
        ours=statistics.median(runs),
        peer_name="mlflow.search_runs",
        peer=peer,
        goal=0.05,
        params={
            "runs": size,
            "ours_runs_s": runs,
            "measured": "RunsCache.read + RunsTableModel(frame)",
            "peer": f"median full search on the {WORKERS[0]}-worker server",
            "cache_file_mb": round(sum(p.stat().st_size for p in cache.root.rglob("*")) / 1e6, 1),
        },
    )


def _hundred_thousand(frame: pd.DataFrame) -> pd.DataFrame:
    """100,000 runs from the loaded ones: the same rows again with other run ids."""
    copies = []
    for copy in range(-(-SORT_ROWS // len(frame))):
        again = frame.copy()
        again["run_id"] = again["run_id"] + f"-{copy}"
        copies.append(again)
    return pd.concat(copies, ignore_index=True).iloc[:SORT_ROWS].copy()


def _sort_record(app: Any, frame: pd.DataFrame) -> Record:
    from PySide6.QtCore import Qt

    from mlops_desktop.ui.runs_table_model import RunsTableModel

    model = RunsTableModel(frame)
    metric = "metrics.val_auc"
    column = model.column_index(metric)
    ours = _repeat(lambda: model.sort(column, Qt.SortOrder.DescendingOrder))
    peer = _repeat(lambda: frame.sort_values(metric, ascending=False, kind="stable"))
    return Record(
        name=f"sort {len(frame):,} runs by a metric",
        unit="s",
        ours=statistics.median(ours),
        peer_name="pandas sort_values",
        peer=statistics.median(peer),
        params={"rows": len(frame), "column": metric, "ours_runs_s": ours, "peer_runs_s": peer},
    )


def _repeat(action: Callable[[], object]) -> list[float]:
    timings = []
    for _ in range(SORT_REPEATS):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return timings


_RSS_PROBE = textwrap.dedent(
    """
    import gc, json, sys
    from pathlib import Path

    def rss_mb():
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    from PySide6.QtWidgets import QApplication
    from mlops_desktop.services.runs_cache import RunsCache
    from mlops_desktop.ui.runs_table_model import RunsTableModel
    app = QApplication([])
    baseline = rss_mb()
    cached = RunsCache(Path(sys.argv[1])).read("bench", ["100k"], "")
    model = RunsTableModel(cached.frame)
    with_frame = rss_mb()
    rows = model.rowCount()
    del cached
    gc.collect()
    print(json.dumps({"baseline": baseline, "with_frame": with_frame, "model_only": rss_mb(),
                      "rows": rows}))
    """
)


def _rss_record(root: Path, frame: pd.DataFrame) -> Record:
    """A fresh process reopens 100,000 cached runs into a table model (offscreen Qt)."""
    from mlops_desktop.services.runs_cache import RunsCache

    cache_root = root / "rss-cache"
    RunsCache(cache_root).write(WORKSPACE_KEY, ["100k"], "", frame)
    result = subprocess.run(
        [sys.executable, "-c", _RSS_PROBE, str(cache_root)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
    )
    if result.returncode != 0:
        raise RuntimeError(f"the RSS probe failed:\n{result.stderr.strip()}")
    rss = json.loads(result.stdout.strip().splitlines()[-1])
    assert rss["rows"] == len(frame), rss
    return Record(
        name=f"RSS with {len(frame):,} runs in the table model",
        unit="MB",
        ours=rss["with_frame"],
        goal=RSS_GOAL_MB,
        params={
            "rows": len(frame),
            "columns": len(frame.columns),
            "measured": "VmRSS of a fresh process: Qt, the cached frame and a RunsTableModel",
            "baseline_mb_after_imports": rss["baseline"],
            "model_only_mb_after_the_frame_is_freed": rss["model_only"],
        },
    )


# -- environment ----------------------------------------------------------------------------------


def _qt_app(root: Path) -> Any:
    runtime = root / "runtime"
    runtime.mkdir(mode=0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication([])


def _loadavg() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]
