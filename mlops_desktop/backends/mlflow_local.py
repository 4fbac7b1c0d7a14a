"""The embedded local store: MLflow's own SQLite tracking and registry stores, used in-process.

MLflow is imported when a backend is constructed, never when this module is imported, so the
window starts without paying for it. Every result is converted into our frozen domain objects.
MLflow's SQLAlchemy stores open one session per call, so one backend can serve several worker
threads at once.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlparse

import numpy as np

from mlops_desktop.backends.errors import BackendError, NotFound, PermissionDenied, WorkspaceError
from mlops_desktop.backends.tracking import RunColumns, RunColumnsPage, RunsPage
from mlops_desktop.domain.registry import ModelVersion, RegisteredModel
from mlops_desktop.domain.tracking import (
    ArtifactEntry,
    DatasetInput,
    Experiment,
    LoggedModel,
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


def _to_run_columns(runs: Sequence[Any]) -> RunColumns:
    """MLflow run entities as columns (see `RunColumns`), without our `Run` per run."""
    columns = RunColumns()
    for row, run in enumerate(runs):
        info, data = run.info, run.data
        columns.run_id.append(info.run_id)
        columns.name.append(info.run_name or "")
        columns.status.append(str(info.status))
        columns.start_time_ms.append(info.start_time)
        columns.end_time_ms.append(info.end_time)
        columns.user.append(info.user_id or "")
        columns.experiment_id.append(str(info.experiment_id))
        for sparse, values in (
            (columns.params, data.params),
            (columns.tags, data.tags),
        ):
            for key, value in values.items():
                column = sparse.get(key)
                if column is None:
                    column = sparse[key] = ([], [])
                column[0].append(row)
                column[1].append(value)
        for key, number in data.metrics.items():
            metric = columns.metrics.get(key)
            if metric is None:
                metric = columns.metrics[key] = ([], [])
            metric[0].append(row)
            metric[1].append(number)
    return columns


def _numeric_ids(experiment_ids: Sequence[str]) -> list[int] | None:
    """MLflow's SQL experiment ids, or None when one is not a number (MLflow then says so)."""
    try:
        return [int(e) for e in experiment_ids]
    except ValueError:
        return None


def _rows_to_columns(
    runs: list[tuple[Any, ...]],
    params: list[tuple[str, str, str]],
    metrics: list[tuple[str, str, float, int]],
    tags: list[tuple[str, str, str | None]],
) -> RunColumns:
    """Rows of MLflow's runs, params, latest_metrics and tags tables as `RunColumns`,
    converted as MLflow's entities convert them."""
    columns = RunColumns()
    row_of = {}
    for row, (run_id, name, status, start, end, user, experiment_id) in enumerate(runs):
        row_of[run_id] = row
        columns.run_id.append(run_id)
        columns.name.append(name or "")
        columns.status.append(str(status))
        columns.start_time_ms.append(start)
        columns.end_time_ms.append(end)
        columns.user.append(user or "")
        columns.experiment_id.append(str(experiment_id))
    # Each key's rows ascending (see `RunColumns`): the tables are in no particular order.
    for table in (params, metrics, tags):
        table.sort(key=lambda entry: row_of[entry[0]])
    for run_id, key, value in params:
        column = columns.params.setdefault(key, ([], []))
        column[0].append(row_of[run_id])
        column[1].append(value)
    for run_id, key, number, is_nan in metrics:
        metric = columns.metrics.setdefault(key, ([], []))
        metric[0].append(row_of[run_id])
        metric[1].append(math.nan if is_nan else float(number))
    for run_id, key, text in tags:
        column = columns.tags.setdefault(key, ([], []))
        column[0].append(row_of[run_id])
        column[1].append("" if text is None else text)
    # MLflow names a run without a name after its mlflow.runName tag.
    run_names = columns.tags.get("mlflow.runName")
    if run_names is not None:
        for row, value in zip(*run_names, strict=True):
            if not columns.name[row]:
                columns.name[row] = value
    return columns


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
        page = self._search(experiment_ids, filter_string, max_results, page_token, order_by)
        return [self._to_run(r) for r in page], page.token or None

    def _search(
        self,
        experiment_ids: Sequence[str],
        filter_string: str,
        max_results: int,
        page_token: str | None,
        order_by: Sequence[str] = (),
    ) -> Any:
        """One page of MLflow's own run search (its run entities), errors translated."""
        from mlflow.entities import ViewType

        what = (
            f"Searching runs with the filter {filter_string!r}"
            if filter_string
            else "Searching runs"
        )
        with self._translated(what):
            return self._tracking.search_runs(
                experiment_ids=list(experiment_ids),
                filter_string=filter_string,
                run_view_type=ViewType.ACTIVE_ONLY,
                max_results=max_results,
                order_by=list(order_by) or None,
                page_token=page_token,
            )

    #: In-process searches hold the GIL: pages one at a time.
    concurrent_pages = 1

    def search_run_columns(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> RunColumnsPage:
        """`search_runs` as columns.

        Without a filter the page is read from MLflow's tables in SQL (`_read_run_columns`):
        the same runs in the same order, about ten times faster than building MLflow's run
        entities. A filter needs MLflow's own search.
        """
        numeric_ids = _numeric_ids(experiment_ids)
        if not filter_string.strip() and numeric_ids is not None:
            return self._read_run_columns(numeric_ids, max_results, page_token)
        page = self._search(experiment_ids, filter_string, max_results, page_token)
        return _to_run_columns(page), page.token or None

    def _read_run_columns(
        self, experiment_ids: list[int], max_results: int, page_token: str | None
    ) -> RunColumnsPage:
        """One page of active runs in MLflow's order (newest start first, then run id),
        with MLflow's offset page tokens, read with SQL from MLflow's own tables."""
        from mlflow.utils.search_utils import SearchUtils

        with self._translated("Searching runs"):
            offset = int(SearchUtils.parse_start_offset_from_page_token(page_token))  # type: ignore[no-untyped-call]
        marks = ", ".join("?" * len(experiment_ids))
        page = (
            f"FROM runs WHERE experiment_id IN ({marks}) AND lifecycle_stage = 'active' "
            "ORDER BY start_time DESC, run_uuid LIMIT ? OFFSET ?"
        )
        in_page = f"run_uuid IN (SELECT run_uuid {page})"
        arguments = (*experiment_ids, max_results, offset)
        try:
            connection = sqlite3.connect(f"{self.store_path.as_uri()}?mode=ro", uri=True)
            try:
                runs = connection.execute(
                    "SELECT run_uuid, name, status, start_time, end_time, user_id, experiment_id "
                    + page,
                    (*experiment_ids, max_results + 1, offset),
                ).fetchall()
                params = connection.execute(
                    f"SELECT run_uuid, key, value FROM params WHERE {in_page}", arguments
                ).fetchall()
                metrics = connection.execute(
                    f"SELECT run_uuid, key, value, is_nan FROM latest_metrics WHERE {in_page}",
                    arguments,
                ).fetchall()
                tags = connection.execute(
                    f"SELECT run_uuid, key, value FROM tags WHERE {in_page}", arguments
                ).fetchall()
            finally:
                connection.close()
        except sqlite3.Error as error:
            raise WorkspaceError(
                f"The local store {self.store_path} could not be read ({error}); it may be "
                "damaged or locked by another program."
            ) from error
        more = len(runs) > max_results
        columns = _rows_to_columns(runs[:max_results], params, metrics, tags)
        if not more:
            return columns, None
        made = SearchUtils.create_page_token(offset + max_results)  # type: ignore[no-untyped-call]
        return columns, made.decode() if isinstance(made, bytes) else str(made)

    def page_token_at(self, token: str, offset: int) -> str | None:
        """MLflow's offset token (the store's own format), which lets `count_runs` probe."""
        from mlflow.exceptions import MlflowException
        from mlflow.utils.search_utils import SearchUtils

        if offset <= 0:
            return None
        try:
            SearchUtils.parse_start_offset_from_page_token(token)  # type: ignore[no-untyped-call]
        except MlflowException:
            return None
        made = SearchUtils.create_page_token(offset)  # type: ignore[no-untyped-call]
        return made.decode() if isinstance(made, bytes) else str(made)

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

    # -- run detail: artifact streams and logged models ----------------------------------------

    def iter_artifact(self, run_id: str, path: str, chunk_size: int = 1 << 16) -> Iterator[bytes]:
        """The artifact file's bytes in chunks, read as they are consumed."""
        _base, target = self._resolve(run_id, path)
        if target.is_dir():
            raise BackendError(f"The artifact {path!r} of run {_short(run_id)} is a folder.")
        try:
            stream = target.open("rb")
        except FileNotFoundError:
            raise NotFound(f"Run {_short(run_id)} has no artifact {path!r}.") from None
        except OSError as error:
            raise WorkspaceError(
                f"The artifact {path!r} of run {_short(run_id)} cannot be read: {error}."
            ) from error
        with stream:
            while chunk := stream.read(chunk_size):
                yield chunk

    def search_logged_models(self, experiment_id: str, run_id: str) -> list[LoggedModel]:
        """The logged models (MLflow 3) whose source is `run_id`."""
        models: list[LoggedModel] = []
        token: str | None = None
        with self._translated(f"The logged models of run {_short(run_id)}"):
            while True:
                page = self._tracking.search_logged_models(
                    experiment_ids=[experiment_id],
                    filter_string=f"source_run_id = '{run_id}'",
                    max_results=_PAGE,
                    page_token=token,
                )
                models.extend(
                    LoggedModel(
                        model_id=m.model_id,
                        name=m.name or "",
                        experiment_id=str(m.experiment_id),
                        source_run_id=m.source_run_id or "",
                        artifact_location=m.artifact_location or "",
                        model_type=m.model_type or "",
                        status=str(m.status),  # "READY", "PENDING", "FAILED"
                        creation_time_ms=m.creation_timestamp,
                        tags=dict(m.tags),
                    )
                    for m in page
                )
                token = page.token
                if not token:
                    return models

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

    # -- registry writes, for the promotion workflow (backends/registry_writer.py) ----------

    def get_model_version(self, model_name: str, version: str) -> ModelVersion:
        """One version read fresh, with its tags and the aliases it holds."""
        with self._translated(f"Version {version} of model {model_name!r}"):
            entity = self._registry.get_model_version(model_name, version)
        return ModelVersion(
            model_name=entity.name,
            version=str(entity.version),
            run_id=entity.run_id or "",
            source=entity.source or "",
            status=str(entity.status),
            creation_time_ms=entity.creation_timestamp,
            last_updated_time_ms=entity.last_updated_timestamp,
            user=entity.user_id or "",
            description=entity.description or "",
            tags=dict(entity.tags),
            aliases=tuple(sorted(str(alias) for alias in entity.aliases or ())),
        )

    def set_model_version_tag(self, model_name: str, version: str, key: str, value: str) -> None:
        from mlflow.entities.model_registry import ModelVersionTag

        with self._translated(f"Tagging version {version} of model {model_name!r}"):
            tag = ModelVersionTag(key, value)  # type: ignore[no-untyped-call]
            self._registry.set_model_version_tag(model_name, version, tag)

    def delete_model_version_tag(self, model_name: str, version: str, key: str) -> None:
        with (
            contextlib.suppress(NotFound),
            self._translated(f"Tag {key} of version {version} of model {model_name!r}"),
        ):
            self._registry.delete_model_version_tag(model_name, version, key)

    def set_registered_model_tag(self, model_name: str, key: str, value: str) -> None:
        from mlflow.entities.model_registry import RegisteredModelTag

        with self._translated(f"Tagging model {model_name!r}"):
            tag = RegisteredModelTag(key, value)  # type: ignore[no-untyped-call]
            self._registry.set_registered_model_tag(model_name, tag)

    def delete_registered_model_tag(self, model_name: str, key: str) -> None:
        with (
            contextlib.suppress(NotFound),
            self._translated(f"Tag {key} of model {model_name!r}"),
        ):
            self._registry.delete_registered_model_tag(model_name, key)

    def set_alias(self, model_name: str, alias: str, version: str) -> None:
        with self._translated(f"Version {version} of model {model_name!r}"):
            self._registry.set_registered_model_alias(model_name, alias, version)

    def delete_alias(self, model_name: str, alias: str) -> None:
        with (
            contextlib.suppress(NotFound),
            self._translated(f"Alias {alias} of model {model_name!r}"),
        ):
            self._registry.delete_registered_model_alias(model_name, alias)
