"""The TrackingBackend protocol: what every tracking store (server, local file, bundle) offers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from mlops_desktop.domain.registry import ModelVersion, RegisteredModel
from mlops_desktop.domain.tracking import ArtifactEntry, Experiment, MetricHistory, Run

#: One page of results and the token of the next page (None on the last page).
RunsPage = tuple[list[Run], str | None]


@runtime_checkable
class TrackingBackend(Protocol):
    """Read access to experiments, runs and the model registry.

    Every method may block on I/O: callers in the UI run them on a worker.
    Errors are `mlops_desktop.backends.errors.BackendError` subclasses.
    """

    #: A short human label: "Demo workspace", "prod (https://mlflow.example.com)".
    label: str
    #: Where the data lives: a URL or a file path, for the status bar and "open in web UI".
    location: str

    def list_experiments(self, include_deleted: bool = False) -> list[Experiment]: ...

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        max_results: int = 1000,
        page_token: str | None = None,
        order_by: Sequence[str] = (),
    ) -> RunsPage: ...

    def get_run(self, run_id: str) -> Run: ...

    def get_metric_history(self, run_id: str, key: str) -> MetricHistory: ...

    def list_artifacts(self, run_id: str, path: str = "") -> list[ArtifactEntry]: ...

    def read_artifact(self, run_id: str, path: str, max_bytes: int = 10_000_000) -> bytes: ...

    def search_registered_models(self) -> list[RegisteredModel]: ...

    def get_registered_model(self, name: str) -> RegisteredModel: ...

    def search_model_versions(self, model_name: str) -> list[ModelVersion]: ...

    def close(self) -> None: ...
