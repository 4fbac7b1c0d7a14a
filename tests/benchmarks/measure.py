"""Timing helpers shared by the benchmark areas: fresh interpreters, medians."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys

_IMPORT_TIMER = (
    "import time\n"
    "started = time.perf_counter()\n"
    "import {module}\n"
    "print(time.perf_counter() - started)\n"
)


def import_seconds(module: str, repeats: int = 5) -> list[float]:
    """Seconds `import module` takes in a fresh interpreter, once per repeat.

    One unmeasured run first, so every measured one finds the files in the OS page cache.
    """
    env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true")
    code = _IMPORT_TIMER.format(module=module)
    timings = []
    for attempt in range(repeats + 1):
        result = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"`import {module}` failed:\n{result.stderr.strip()}")
        if attempt:
            timings.append(float(result.stdout.strip().splitlines()[-1]))
    return timings


def median(values: list[float]) -> float:
    return float(statistics.median(values))
