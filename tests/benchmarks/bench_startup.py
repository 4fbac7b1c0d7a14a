"""Start-up: what the app pays before its first window, against importing mlflow."""

from __future__ import annotations

from collections.abc import Callable

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


#: Each measurement of this area; `run` reports them in this order.
MEASUREMENTS: tuple[Callable[[], Record], ...] = (services_import_time,)


def run() -> list[Record]:
    return [measure() for measure in MEASUREMENTS]
