"""The TrackingBackend protocol: what every tracking store (server, local file, bundle) offers."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from mlops_desktop.domain.registry import ModelVersion, RegisteredModel
from mlops_desktop.domain.tracking import (
    ArtifactEntry,
    Experiment,
    LoggedModel,
    MetricHistory,
    Run,
)

#: One page of results and the token of the next page (None on the last page).
RunsPage = tuple[list[Run], str | None]

#: The rows of one page that have a key, and the key's value in each of those rows.
SparseColumn = tuple[list[int], list[str]]
SparseNumbers = tuple[list[int], list[float]]


@dataclass(frozen=True)
class RunColumns:
    """One page of runs column by column, for the runs table: no object per run.

    Params, metrics and tags are sparse (the rows that have the key, ascending, and their
    values), so a page whose runs use thousands of different keys costs what its values
    cost, not runs x keys. Tags include MLflow's own (`mlflow.parentRunId`, ...).
    """

    run_id: list[str] = field(default_factory=list)
    name: list[str] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    start_time_ms: list[int | None] = field(default_factory=list)
    end_time_ms: list[int | None] = field(default_factory=list)
    user: list[str] = field(default_factory=list)
    experiment_id: list[str] = field(default_factory=list)
    params: dict[str, SparseColumn] = field(default_factory=dict)
    metrics: dict[str, SparseNumbers] = field(default_factory=dict)
    tags: dict[str, SparseColumn] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.run_id)


#: One page of runs as columns and the token of the next page (None on the last page).
RunColumnsPage = tuple[RunColumns, str | None]


@runtime_checkable
class ColumnarRunSearch(Protocol):
    """A tracking backend that returns runs as columns, the fast path of the runs table.

    Pages can be fetched `concurrent_pages` at a time when `page_token_at` can name a page
    by its offset; a backend that cannot (or gains nothing by it) says 1 and None.
    """

    #: How many pages of one search are worth requesting at the same time.
    concurrent_pages: int

    def search_run_columns(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> RunColumnsPage: ...

    def page_token_at(self, token: str, offset: int) -> str | None:
        """A token for the page starting at row `offset` of the search that returned
        `token`, or None when the backend's tokens cannot be made that way."""
        ...


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

    # -- run detail: artifact streams and logged models ------------------------------------

    def iter_artifact(self, run_id: str, path: str, chunk_size: int = 1 << 16) -> Iterator[bytes]:
        """The bytes of one artifact file in chunks, read as they are consumed: a preview
        stops after its first megabyte, a download writes (and can cancel) chunk by chunk.
        Close the iterator when stopping early, so the connection or file is released."""
        ...

    def search_logged_models(self, experiment_id: str, run_id: str) -> list[LoggedModel]:
        """The models `run_id` logged (MLflow 3's logged models); [] when the store has none
        or predates them."""
        ...

    def search_registered_models(self) -> list[RegisteredModel]: ...

    def get_registered_model(self, name: str) -> RegisteredModel: ...

    def search_model_versions(self, model_name: str) -> list[ModelVersion]: ...

    def close(self) -> None: ...
