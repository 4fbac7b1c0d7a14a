"""A real MLflow server serves the seeded demo store: the demo is true MLflow data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mlops_desktop.backends.mlflow_rest import MlflowRestBackend
from tests.harness.mlflow_servers import ServerFactory

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def demo_backend(
    demo_root: Path, mlflow_server_factory: ServerFactory
) -> Iterator[MlflowRestBackend]:
    from mlops_desktop.services.demo import DemoLayout

    layout = DemoLayout(demo_root)
    server = mlflow_server_factory(layout.store_path, layout.artifact_root)
    backend = MlflowRestBackend(server.url, label="demo over REST")
    yield backend
    backend.close()


def _count_runs(backend: MlflowRestBackend, experiment_id: str) -> int:
    total, token = 0, None
    while True:
        runs, token = backend.search_runs([experiment_id], max_results=1000, page_token=token)
        total += len(runs)
        if token is None:
            return total


def _experiment_id(backend: MlflowRestBackend, name: str) -> str:
    by_name = {e.name: e.experiment_id for e in backend.list_experiments()}
    assert name in by_name, f"no experiment {name!r} in {sorted(by_name)}"
    return by_name[name]


def test_demo_store_has_experiments_and_a_sweep(demo_backend: MlflowRestBackend) -> None:
    from mlops_desktop.services.demo import SWEEP_EXPERIMENT

    assert len(demo_backend.list_experiments()) >= 3
    sweep_id = _experiment_id(demo_backend, SWEEP_EXPERIMENT)
    assert _count_runs(demo_backend, sweep_id) >= 300


def test_sweep_runs_have_loss_curves(demo_backend: MlflowRestBackend) -> None:
    from mlops_desktop.services.demo import SWEEP_EXPERIMENT

    sweep_id = _experiment_id(demo_backend, SWEEP_EXPERIMENT)
    runs, _ = demo_backend.search_runs([sweep_id], max_results=5)
    run = runs[0]
    assert run.params and run.metrics
    longest = max(len(demo_backend.get_metric_history(run.run_id, key)) for key in run.metrics)
    assert longest > 1, f"no metric of run {run.run_id} has a history: {sorted(run.metrics)}"


def test_demo_model_has_champion_and_challenger(demo_backend: MlflowRestBackend) -> None:
    from mlops_desktop.services.demo import DEMO_MODEL

    model = demo_backend.get_registered_model(DEMO_MODEL)
    assert DEMO_MODEL == "churn-classifier"
    assert {"champion", "challenger"} <= set(model.aliases)
    versions = demo_backend.search_model_versions(DEMO_MODEL)
    by_version = {v.version: v for v in versions}
    assert "champion" in by_version[model.aliases["champion"]].aliases
    assert "challenger" in by_version[model.aliases["challenger"]].aliases
