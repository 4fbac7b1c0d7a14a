"""The embedded local store: MLflow's own SQLite tracking and registry stores, used in-process.

MLflow is imported when a backend is constructed, never when this module is imported, so the
window starts without paying for it. Every result is converted into our frozen domain objects.
MLflow's SQLAlchemy stores open one session per call, so one backend can serve several worker
threads at once.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlparse

import numpy as np

from mlops_desktop.backends.errors import BackendError, NotFound, PermissionDenied, WorkspaceError
from mlops_desktop.backends.tracking import RunsPage
from mlops_desktop.domain.registry import ModelVersion, RegisteredModel
from mlops_desktop.domain.tracking import (
    ArtifactEntry,
    DatasetInput,
    Experiment,
    MetricHistory,
    Run,
    RunStatus,
)

_PAGE = 1000
_CONTEXT_TAG = "mlflow.data.context"


def _short(run_id: str) -> str:
    return f"{run_id[:8]}…" if len(run_id) > 8 else run_id


def _local_path(uri: str) -> Path | None:
    """The folder an artifact URI names on this machine, or None for a remote URI."""
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    # A Windows drive letter parses as a one-letter scheme.
    if parsed.scheme == "" or (len(parsed.scheme) == 1 and os.name == "nt"):
        return Path(uri)
    return None


def _dataset_source(raw: str) -> str:
    # MLflow stores a dataset's source as JSON such as {"uri": "s3://..."}; people read the URI.
    with contextlib.suppress(ValueError):
        data = json.loads(raw)
        if isinstance(data, dict):
            for key in ("uri", "url", "path", "delta_table_name", "table_name"):
                if isinstance(data.get(key), str):
                    return str(data[key])
    return raw


def _check_is_mlflow_store(path: Path) -> None:
    # MLflow's store would silently create its schema inside any SQLite file it is pointed at.
    try:
        connection = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
        try:
            tables = {
                row[0]
                for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
        finally:
            connection.close()
    except sqlite3.Error as error:
        raise WorkspaceError(f"{path} is not a readable SQLite database ({error}).") from error
    if not {"experiments", "runs", "alembic_version"} <= tables:
        raise WorkspaceError(f"{path} is a SQLite database but not an MLflow tracking store.")


class LocalTrackingBackend:
    """`TrackingBackend` over a local MLflow SQLite store and its artifact folder."""

    def __init__(self, store_path: Path, artifact_root: Path, label: str = "Local store") -> None:
        self.store_path = Path(store_path).absolute()
        self.artifact_root = Path(artifact_root).absolute()
        self.label = label
        self.location = str(self.store_path)
        if not self.store_path.is_file():
            raise WorkspaceError(f"The local store {self.store_path} does not exist.")
        _check_is_mlflow_store(self.store_path)
        # Importing mlflow writes a telemetry file in the home directory unless this is set;
        # setdefault keeps a user's explicit choice.
        os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
        from mlflow.exceptions import MlflowException
        from mlflow.store.model_registry.sqlalchemy_store import (
            SqlAlchemyStore as RegistryStore,
        )
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

        uri = "sqlite:///" + self.store_path.as_posix()
        try:
            # MLflow is untyped: the stores are held as Any and converted at every return.
            self._tracking: Any = SqlAlchemyStore(  # type: ignore[no-untyped-call]
                uri, self.artifact_root.as_posix()
            )
            self._registry: Any = RegistryStore(uri)  # type: ignore[no-untyped-call]
        except MlflowException as error:
            raise WorkspaceError(
                f"The local store {self.store_path} cannot be opened: {error.message}"
            ) from error

    # -- errors --------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _translated(self, what: str) -> Iterator[None]:
        """Turn MLflow and database errors about `what` into our typed errors."""
        import sqlalchemy.exc
        from mlflow.exceptions import MlflowException

        try:
            yield
        except BackendError:
            raise
        except MlflowException as error:
            if error.error_code == "RESOURCE_DOES_NOT_EXIST":
                raise NotFound(f"{what} does not exist in {self.label}.") from error
            if error.error_code == "INVALID_PARAMETER_VALUE":
                raise BackendError(f"{what}: {error.message}") from error
            raise WorkspaceError(f"{what} failed in {self.label}: {error.message}") from error
        except sqlalchemy.exc.SQLAlchemyError as error:
            raise WorkspaceError(
                f"The local store {self.store_path} could not be read ({type(error).__name__}); "
                "it may be damaged or locked by another program."
            ) from error

    # -- experiments and runs ------------------------------------------------------------------

    def list_experiments(self, include_deleted: bool = False) -> list[Experiment]:
        from mlflow.entities import ViewType

        view = ViewType.ALL if include_deleted else ViewType.ACTIVE_ONLY
        experiments: list[Experiment] = []
        token: str | None = None
        with self._translated("Listing experiments"):
            while True:
                page = self._tracking.search_experiments(
                    view_type=view, max_results=_PAGE, page_token=token
                )
                experiments.extend(
                    Experiment(
                        experiment_id=str(e.experiment_id),
                        name=e.name,
                        lifecycle_stage=e.lifecycle_stage,
                        artifact_location=e.artifact_location or "",
                        creation_time_ms=e.creation_time,
                        last_update_time_ms=e.last_update_time,
                        tags=dict(e.tags),
                    )
                    for e in page
                )
                token = page.token
                if not token:
                    break
        return experiments

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        max_results: int = 1000,
        page_token: str | None = None,
        order_by: Sequence[str] = (),
    ) -> RunsPage:
        from mlflow.entities import ViewType

        what = (
            f"Searching runs with the filter {filter_string!r}"
            if filter_string
            else "Searching runs"
        )
        with self._translated(what):
            page = self._tracking.search_runs(
                experiment_ids=list(experiment_ids),
                filter_string=filter_string,
                run_view_type=ViewType.ACTIVE_ONLY,
                max_results=max_results,
                order_by=list(order_by) or None,
                page_token=page_token,
            )
            return [self._to_run(r) for r in page], page.token or None

    def get_run(self, run_id: str) -> Run:
        with self._translated(f"Run {_short(run_id)}"):
            return self._to_run(self._tracking.get_run(run_id))

    @staticmethod
    def _to_run(run: Any) -> Run:
        info, data = run.info, run.data
        inputs = tuple(
            DatasetInput(
                name=d.dataset.name,
                digest=d.dataset.digest,
                source_type=d.dataset.source_type or "",
                source=_dataset_source(d.dataset.source or ""),
                context=next((t.value for t in d.tags if t.key == _CONTEXT_TAG), ""),
            )
            for d in (run.inputs.dataset_inputs if run.inputs is not None else [])
        )
        return Run(
            run_id=info.run_id,
            experiment_id=str(info.experiment_id),
            name=info.run_name or "",
            status=RunStatus(str(info.status)),
            start_time_ms=info.start_time,
            end_time_ms=info.end_time,
            user=info.user_id or "",
            lifecycle_stage=info.lifecycle_stage,
            artifact_uri=info.artifact_uri or "",
            params=dict(data.params),
            metrics=dict(data.metrics),
            tags=dict(data.tags),
            inputs=inputs,
        )

    def get_metric_history(self, run_id: str, key: str) -> MetricHistory:
        with self._translated(f"Run {_short(run_id)}"):
            metrics = list(self._tracking.get_metric_history(run_id, key))
            if not metrics:
                # MLflow answers an empty history for an unknown run too: tell them apart.
                self._tracking.get_run(run_id)
        metrics.sort(key=lambda m: (m.step, m.timestamp))
        return MetricHistory(
            run_id=run_id,
            key=key,
            steps=np.fromiter((m.step for m in metrics), dtype=np.int64, count=len(metrics)),
            timestamps_ms=np.fromiter(
                (m.timestamp for m in metrics), dtype=np.int64, count=len(metrics)
            ),
            values=np.fromiter((m.value for m in metrics), dtype=np.float64, count=len(metrics)),
        )

    # -- artifacts -----------------------------------------------------------------------------

    def _artifact_dir(self, run_id: str) -> Path:
        run = self.get_run(run_id)
        folder = _local_path(run.artifact_uri)
        if folder is None:
            raise WorkspaceError(
                f"The artifacts of run {_short(run_id)} are stored at {run.artifact_uri}, "
                "which is not a folder on this machine."
            )
        if not folder.exists():
            # The workspace was moved or copied since the runs were logged: MLflow's layout
            # under our artifact root still finds them.
            moved = self.artifact_root / run.experiment_id / run.run_id / "artifacts"
            if moved.exists():
                return moved
        return folder

    def _resolve(self, run_id: str, path: str) -> tuple[Path, Path]:
        """The run's artifact folder and the file or folder `path` names inside it."""
        relative = PurePosixPath(path.replace("\\", "/"))
        if relative.is_absolute() or ".." in relative.parts or ":" in path:
            raise PermissionDenied(
                f"The artifact path {path!r} points outside the artifacts of run "
                f"{_short(run_id)}; refused."
            )
        base = self._artifact_dir(run_id)
        target = base.joinpath(*relative.parts)
        # A symbolic link inside the folder could still lead outside it.
        with contextlib.suppress(OSError):
            if not target.resolve().is_relative_to(base.resolve()):
                raise PermissionDenied(
                    f"The artifact {path!r} of run {_short(run_id)} links outside the run's "
                    "artifact folder; refused."
                )
        return base, target

    def list_artifacts(self, run_id: str, path: str = "") -> list[ArtifactEntry]:
        """The files and folders directly under `path` (a file or missing root lists nothing)."""
        base, folder = self._resolve(run_id, path)
        if not folder.exists():
            if path.strip("/"):
                raise NotFound(f"Run {_short(run_id)} has no artifact folder {path!r}.")
            return []
        if not folder.is_dir():
            return []
        entries: list[ArtifactEntry] = []
        try:
            children = sorted(folder.iterdir(), key=lambda p: p.name)
            for child in children:
                relative = child.relative_to(base).as_posix()
                if child.is_dir():
                    entries.append(ArtifactEntry(path=relative, is_dir=True))
                else:
                    entries.append(
                        ArtifactEntry(path=relative, is_dir=False, size_bytes=child.stat().st_size)
                    )
        except OSError as error:
            raise WorkspaceError(
                f"The artifacts of run {_short(run_id)} cannot be listed: {error}."
            ) from error
        return entries

    def read_artifact(self, run_id: str, path: str, max_bytes: int = 10_000_000) -> bytes:
        """The bytes of one artifact file; a file larger than `max_bytes` is refused, not cut."""
        _base, target = self._resolve(run_id, path)
        if target.is_dir():
            raise BackendError(f"The artifact {path!r} of run {_short(run_id)} is a folder.")
        try:
            with target.open("rb") as stream:
                content = stream.read(max_bytes + 1)
        except FileNotFoundError:
            raise NotFound(f"Run {_short(run_id)} has no artifact {path!r}.") from None
        except OSError as error:
            raise WorkspaceError(
                f"The artifact {path!r} of run {_short(run_id)} cannot be read: {error}."
            ) from error
        if len(content) > max_bytes:
            size = target.stat().st_size
            raise BackendError(
                f"The artifact {path!r} of run {_short(run_id)} is {size / 1e6:.1f} MB, more "
                f"than the {max_bytes / 1e6:.1f} MB that can be opened here."
            )
        return content

    # -- model registry ------------------------------------------------------------------------

    @staticmethod
    def _to_registered_model(model: Any) -> RegisteredModel:
        return RegisteredModel(
            name=model.name,
            description=model.description or "",
            creation_time_ms=model.creation_timestamp,
            last_updated_time_ms=model.last_updated_timestamp,
            tags=dict(model.tags),
            aliases={str(alias): str(version) for alias, version in model.aliases.items()},
        )

    def search_registered_models(self) -> list[RegisteredModel]:
        models: list[RegisteredModel] = []
        token: str | None = None
        with self._translated("Listing registered models"):
            while True:
                page = self._registry.search_registered_models(max_results=_PAGE, page_token=token)
                models.extend(self._to_registered_model(m) for m in page)
                token = page.token
                if not token:
                    break
        return models

    def get_registered_model(self, name: str) -> RegisteredModel:
        with self._translated(f"Registered model {name!r}"):
            return self._to_registered_model(self._registry.get_registered_model(name))

    def search_model_versions(self, model_name: str) -> list[ModelVersion]:
        """The model's versions, newest first, each with the aliases it holds."""
        # MLflow's version search leaves aliases out; the registered model has them.
        aliases = self.get_registered_model(model_name).aliases
        quote = "'" if "'" not in model_name else '"'
        versions: list[ModelVersion] = []
        token: str | None = None
        with self._translated(f"Registered model {model_name!r}"):
            while True:
                page = self._registry.search_model_versions(
                    filter_string=f"name = {quote}{model_name}{quote}",
                    max_results=_PAGE,
                    page_token=token,
                )
                for v in page:
                    number = str(v.version)
                    versions.append(
                        ModelVersion(
                            model_name=v.name,
                            version=number,
                            run_id=v.run_id or "",
                            source=v.source or "",
                            status=str(v.status),
                            creation_time_ms=v.creation_timestamp,
                            last_updated_time_ms=v.last_updated_timestamp,
                            user=v.user_id or "",
                            description=v.description or "",
                            tags=dict(v.tags),
                            aliases=tuple(sorted(a for a, n in aliases.items() if n == number)),
                        )
                    )
                token = page.token
                if not token:
                    break
        versions.sort(key=lambda v: int(v.version) if v.version.isdigit() else 0, reverse=True)
        return versions

    def close(self) -> None:
        """Close the pooled SQLite connections (MLflow shares engines per URI: a later call
        simply reopens one)."""
        self._tracking.engine.dispose()
        self._registry.engine.dispose()
