"""TrackingBackend over an MLflow tracking server's REST API 2.0 (read side).

Every call goes through `MlflowRestBackend._call`, which sends it through one `HttpClient`
(timeouts, retries on transient errors), maps MLflow's error codes and plain-text auth errors
to our typed errors, and returns the decoded JSON object. The `_parse_*` functions turn
those objects into domain dataclasses; nothing else in the app sees MLflow's JSON.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import requests

from mlops_desktop.backends.errors import BackendError, BadResponse, NotFound, PermissionDenied
from mlops_desktop.backends.http import (
    DEFAULT_RETRY,
    DEFAULT_TIMEOUT,
    HttpClient,
    RetryPolicy,
    Timeout,
    body_excerpt,
)
from mlops_desktop.backends.registry_writer import EDIT, MANAGE, missing_permission
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

API_PREFIX = "api/2.0/mlflow/"

# Page sizes, within what the server accepts (it refuses more than 1000 models per page).
_EXPERIMENTS_PAGE = 1000
_REGISTERED_MODELS_PAGE = 1000
_MODEL_VERSIONS_PAGE = 10_000
_METRIC_HISTORY_PAGE = 25_000
_LOGGED_MODELS_PAGE = 100
_RUNS_PAGE_MAX = 50_000
_VIEW_TYPE_ACTIVE_ONLY, _VIEW_TYPE_ALL = 1, 3

JsonObject = dict[str, Any]


class MlflowRestBackend:
    """Read access to one MLflow server, through one `requests.Session`."""

    def __init__(
        self,
        base_url: str,
        label: str,
        session: requests.Session | None = None,
        auth: tuple[str, str] | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        self.label = label
        self._http = HttpClient(base_url, session=session, auth=auth, timeout=timeout, retry=retry)
        self.location = self._http.base_url

    # -- experiments and runs ---------------------------------------------------------------

    def list_experiments(self, include_deleted: bool = False) -> list[Experiment]:
        view_type = _VIEW_TYPE_ALL if include_deleted else _VIEW_TYPE_ACTIVE_ONLY
        return [
            _parse_experiment(item)
            for item in self._pages(
                "GET",
                "experiments/search",
                "experiments",
                {"max_results": _EXPERIMENTS_PAGE, "view_type": view_type},
                doing="list the experiments",
            )
        ]

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        max_results: int = 1000,
        page_token: str | None = None,
        order_by: Sequence[str] = (),
    ) -> RunsPage:
        reply = self._search_runs(experiment_ids, filter_string, max_results, page_token, order_by)
        runs = [_parse_run(item) for item in _list(reply, "runs")]
        return runs, reply.get("next_page_token") or None

    #: Pages of one search requested at once. A server with several workers (MLflow's
    #: default is 4) answers them in parallel; a one-worker server answers them one after
    #: the other, no slower in total than one at a time (measured, tests/benchmarks/bench_runs).
    concurrent_pages = 4

    def search_run_columns(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> RunColumnsPage:
        """`search_runs` parsed straight into columns: the runs table's fast path."""
        reply = self._search_runs(experiment_ids, filter_string, max_results, page_token, ())
        return _parse_run_columns(_list(reply, "runs")), reply.get("next_page_token") or None

    def page_token_at(self, token: str, offset: int) -> str | None:
        """MLflow's runs/search tokens are base64 `{"offset": N}` (undocumented, so only
        when the server's own token has exactly that form)."""
        if offset <= 0 or _token_offset(token) is None:
            return None
        return base64.b64encode(json.dumps({"offset": offset}).encode()).decode()

    def _search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str,
        max_results: int,
        page_token: str | None,
        order_by: Sequence[str],
    ) -> JsonObject:
        body: JsonObject = {
            "experiment_ids": list(experiment_ids),
            "filter": filter_string,
            "max_results": min(max_results, _RUNS_PAGE_MAX),
            "order_by": list(order_by),
        }
        if page_token:
            body["page_token"] = page_token
        return self._call("POST", "runs/search", json=body, read_only=True, doing="search runs")

    def get_run(self, run_id: str) -> Run:
        reply = self._call("GET", "runs/get", params={"run_id": run_id}, doing=f"read run {run_id}")
        return _parse_run(_object(reply, "run"))

    def get_metric_history(self, run_id: str, key: str) -> MetricHistory:
        points = list(
            self._pages(
                "GET",
                "metrics/get-history",
                "metrics",
                {"run_id": run_id, "metric_key": key, "max_results": _METRIC_HISTORY_PAGE},
                doing=f"read the history of metric {key!r} of run {run_id}",
            )
        )
        steps = np.fromiter((int(p.get("step", 0)) for p in points), np.int64, len(points))
        stamps = np.fromiter((int(p.get("timestamp", 0)) for p in points), np.int64, len(points))
        values = np.fromiter(
            (float(p.get("value", "nan")) for p in points), np.float64, len(points)
        )
        order = np.lexsort((stamps, steps))  # by step, then by time within a step
        return MetricHistory(run_id, key, steps[order], stamps[order], values[order])

    def list_artifacts(self, run_id: str, path: str = "") -> list[ArtifactEntry]:
        params: JsonObject = {"run_id": run_id}
        if path:
            params["path"] = path
        return [
            ArtifactEntry(
                path=str(item["path"]),
                is_dir=bool(item.get("is_dir", False)),
                size_bytes=int(item["file_size"]) if "file_size" in item else None,
            )
            for item in self._pages(
                "GET",
                "artifacts/list",
                "files",
                params,
                doing=f"list the artifacts of run {run_id}",
            )
        ]

    def read_artifact(self, run_id: str, path: str, max_bytes: int = 10_000_000) -> bytes:
        doing = f"read artifact {path!r} of run {run_id}"
        response = self._http.send(
            "GET", "get-artifact", params={"run_uuid": run_id, "path": path}, stream=True
        )
        with response:
            if response.status_code >= 400:
                raise self._error(response, doing)
            chunks, size = [], 0
            for chunk in response.iter_content(chunk_size=1 << 16):
                size += len(chunk)
                if size > max_bytes:
                    raise BadResponse(
                        f"Artifact {path!r} of run {run_id} is larger than "
                        f"{max_bytes / 1e6:g} MB: download it instead of opening it."
                    )
                chunks.append(chunk)
        return b"".join(chunks)

    # -- run detail: artifact streams and logged models -----------------------------------

    def iter_artifact(self, run_id: str, path: str, chunk_size: int = 1 << 16) -> Iterator[bytes]:
        """The artifact's bytes as the server streams them; closing the iterator closes
        the response, so a preview that stops early does not download the rest."""
        response = self._http.send(
            "GET", "get-artifact", params={"run_uuid": run_id, "path": path}, stream=True
        )
        with response:
            if response.status_code >= 400:
                raise self._error(response, f"read artifact {path!r} of run {run_id}")
            yield from response.iter_content(chunk_size=chunk_size)

    def search_logged_models(self, experiment_id: str, run_id: str) -> list[LoggedModel]:
        """MLflow 3's `logged-models/search` filtered on the source run; a server older than
        MLflow 3 has no such endpoint (404) and so no logged models."""
        doing = f"list the logged models of run {run_id}"
        models: list[LoggedModel] = []
        token: str | None = None
        while True:
            body: JsonObject = {
                "experiment_ids": [experiment_id],
                "filter": f"source_run_id = '{run_id}'",
                "max_results": _LOGGED_MODELS_PAGE,
            }
            if token:
                body["page_token"] = token
            response = self._http.send(
                "POST", API_PREFIX + "logged-models/search", json=body, idempotent=True
            )
            if response.status_code == 404 and not models:
                return []
            if response.status_code >= 400:
                raise self._error(response, doing)
            try:
                reply = response.json()
            except ValueError:
                reply = None
            if not isinstance(reply, dict):
                raise BadResponse(f"Could not {doing}: the server's answer is not JSON.")
            models.extend(_parse_logged_model(item) for item in _list(reply, "models"))
            token = reply.get("next_page_token") or None
            if token is None:
                return models

    # -- model registry -------------------------------------------------------------------

    def search_registered_models(self) -> list[RegisteredModel]:
        return [
            _parse_registered_model(item)
            for item in self._pages(
                "GET",
                "registered-models/search",
                "registered_models",
                {"max_results": _REGISTERED_MODELS_PAGE},
                doing="list the registered models",
            )
        ]

    def get_registered_model(self, name: str) -> RegisteredModel:
        reply = self._call(
            "GET",
            "registered-models/get",
            params={"name": name},
            doing=f"read registered model {name!r}",
        )
        return _parse_registered_model(_object(reply, "registered_model"))

    def search_model_versions(self, model_name: str) -> list[ModelVersion]:
        """All versions of a model, newest first, with their aliases.

        `model-versions/search` does not return aliases, so they come from the model itself.
        """
        aliases_of: dict[str, list[str]] = {}
        for alias, version in self.get_registered_model(model_name).aliases.items():
            aliases_of.setdefault(version, []).append(alias)
        versions = [
            _parse_model_version(item, tuple(sorted(aliases_of.get(str(item["version"]), []))))
            for item in self._pages(
                "GET",
                "model-versions/search",
                "model_versions",
                {"filter": f"name = {_quoted(model_name)}", "max_results": _MODEL_VERSIONS_PAGE},
                doing=f"list the versions of model {model_name!r}",
            )
        ]
        return sorted(versions, key=lambda v: _version_key(v.version), reverse=True)

    def close(self) -> None:
        self._http.close()

    # -- the funnel ---------------------------------------------------------------------

    def _call(
        self,
        method: str,
        endpoint: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        read_only: bool | None = None,
        doing: str,
    ) -> JsonObject:
        """Call `api/2.0/mlflow/<endpoint>` and return its JSON object, or raise a typed error.

        `read_only=True` marks a POST that only reads (e.g. `runs/search`) as safe to retry.
        """
        response = self._http.send(
            method, API_PREFIX + endpoint, params=params, json=json, idempotent=read_only
        )
        if response.status_code >= 400:
            raise self._error(response, doing)
        try:
            reply = response.json()
        except ValueError:
            reply = None
        if not isinstance(reply, dict):
            raise BadResponse(
                f"{self.location} answered {endpoint} with something that is not MLflow's "
                f"JSON ({body_excerpt(response)!r}): it is not an MLflow server, or the URL "
                "points to the wrong path."
            )
        return reply

    def _pages(
        self,
        method: str,
        endpoint: str,
        items_key: str,
        params: Mapping[str, Any],
        *,
        doing: str,
    ) -> Iterator[JsonObject]:
        """Yield the items of every page of a paginated GET endpoint."""
        token: str | None = None
        while True:
            query = dict(params, page_token=token) if token else dict(params)
            reply = self._call(method, endpoint, params=query, doing=doing)
            yield from _list(reply, items_key)
            token = reply.get("next_page_token") or None
            if token is None:
                return

    def _error(self, response: requests.Response, doing: str) -> BackendError:
        """Map an error response: MLflow's JSON `{error_code, message}`, or plain text."""
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if isinstance(payload, dict) and "error_code" in payload:
            code = str(payload["error_code"])
            message = str(payload.get("message", "")) or code
            if code == "RESOURCE_DOES_NOT_EXIST":
                return NotFound(f"Could not {doing}: {message.rstrip('.')}.")
            return self._http.error_for_status(
                response, message, doing=doing, permission=_permission_needed(response)
            )
        if response.status_code == 404:
            return BadResponse(
                f"Could not {doing}: {response.url.split('?', 1)[0]} does not exist. "
                f"Is {self.location} an MLflow server (check the URL and its path)?"
            )
        # 401 and 403 of the basic-auth app are plain text, proxies answer HTML.
        return self._http.error_for_status(
            response, body_excerpt(response), doing=doing, permission=_permission_needed(response)
        )

    # -- registry writes, for the promotion workflow (backends/registry_writer.py) ----------

    def get_model_version(self, model_name: str, version: str) -> ModelVersion:
        """One version read fresh; `model-versions/get` lists the aliases it holds."""
        reply = self._call(
            "GET",
            "model-versions/get",
            params={"name": model_name, "version": version},
            doing=f"read version {version} of model {model_name!r}",
        )
        item = _object(reply, "model_version")
        return _parse_model_version(item, tuple(sorted(str(a) for a in item.get("aliases") or ())))

    def set_model_version_tag(self, model_name: str, version: str, key: str, value: str) -> None:
        self._write(
            "POST",
            "model-versions/set-tag",
            {"name": model_name, "version": version, "key": key, "value": value},
            model_name=model_name,
            permission=EDIT,
            doing=f"set tag {key} on version {version}",
        )

    def delete_model_version_tag(self, model_name: str, version: str, key: str) -> None:
        self._write(
            "DELETE",
            "model-versions/delete-tag",
            {"name": model_name, "version": version, "key": key},
            model_name=model_name,
            permission=MANAGE,
            doing=f"delete tag {key} of version {version}",
            missing_ok=True,
        )

    def set_registered_model_tag(self, model_name: str, key: str, value: str) -> None:
        self._write(
            "POST",
            "registered-models/set-tag",
            {"name": model_name, "key": key, "value": value},
            model_name=model_name,
            permission=EDIT,
            doing=f"set the model tag {key}",
        )

    def delete_registered_model_tag(self, model_name: str, key: str) -> None:
        self._write(
            "DELETE",
            "registered-models/delete-tag",
            {"name": model_name, "key": key},
            model_name=model_name,
            permission=EDIT,
            doing=f"delete the model tag {key}",
            missing_ok=True,
        )

    def set_alias(self, model_name: str, alias: str, version: str) -> None:
        self._write(
            "POST",
            "registered-models/alias",
            {"name": model_name, "alias": alias, "version": version},
            model_name=model_name,
            permission=EDIT,
            doing=f"move alias {alias} to version {version}",
        )

    def delete_alias(self, model_name: str, alias: str) -> None:
        self._write(
            "DELETE",
            "registered-models/alias",
            {"name": model_name, "alias": alias},
            model_name=model_name,
            permission=MANAGE,
            doing=f"remove alias {alias}",
            missing_ok=True,
        )

    def _write(
        self,
        method: str,
        endpoint: str,
        body: JsonObject,
        *,
        model_name: str,
        permission: str,
        doing: str,
        missing_ok: bool = False,
    ) -> None:
        """One registry write. Each sets or removes one value, so repeating it is harmless:
        it is retried on transient statuses like a read. A 403 names the permission MLflow's
        basic-auth wants for it (a model-version tag deletion needs MANAGE, not EDIT)."""
        try:
            self._call(
                method, endpoint, json=body, read_only=True, doing=f"{doing} of {model_name}"
            )
        except PermissionDenied:
            raise missing_permission(permission, model_name, doing, self.location) from None
        except NotFound:
            if not missing_ok:
                raise


# -- parsing MLflow's JSON into domain objects --------------------------------------------


def _parse_experiment(item: JsonObject) -> Experiment:
    return Experiment(
        experiment_id=str(item["experiment_id"]),
        name=str(item.get("name", "")),
        lifecycle_stage=str(item.get("lifecycle_stage", "active")),
        artifact_location=str(item.get("artifact_location", "")),
        creation_time_ms=_int_or_none(item.get("creation_time")),
        last_update_time_ms=_int_or_none(item.get("last_update_time")),
        tags=_key_values(item.get("tags")),
    )


def _parse_run(item: JsonObject) -> Run:
    info = _object(item, "info")
    data = item.get("data") or {}
    run_id = str(info.get("run_id") or info.get("run_uuid") or "")
    if not run_id:
        raise BadResponse("The server sent a run without an id.")
    metrics = {str(m["key"]): float(m["value"]) for m in data.get("metrics") or ()}
    return Run(
        run_id=run_id,
        experiment_id=str(info.get("experiment_id", "")),
        name=str(info.get("run_name", "")),
        status=_run_status(info.get("status")),
        start_time_ms=_int_or_none(info.get("start_time")),
        end_time_ms=_int_or_none(info.get("end_time")),
        user=str(info.get("user_id", "")),
        lifecycle_stage=str(info.get("lifecycle_stage", "active")),
        artifact_uri=str(info.get("artifact_uri", "")),
        params=_key_values(data.get("params")),
        metrics=metrics,
        tags=_key_values(data.get("tags")),
        inputs=tuple(
            _parse_dataset_input(entry)
            for entry in (item.get("inputs") or {}).get("dataset_inputs") or ()
        ),
    )


_RUN_STATUSES = frozenset(status.value for status in RunStatus)


def _parse_run_columns(items: list[JsonObject]) -> RunColumns:
    """A page of runs/search JSON as columns, in one pass with no object per run.

    The hot loop of loading a big experiment: keys and values are appended to plain lists
    (locals bound once), the numbers are converted when the frame is built.
    """
    columns = RunColumns()
    run_ids, names, statuses = columns.run_id, columns.name, columns.status
    starts, ends, users, experiments = (
        columns.start_time_ms,
        columns.end_time_ms,
        columns.user,
        columns.experiment_id,
    )
    params, metrics, tags = columns.params, columns.metrics, columns.tags
    for row, item in enumerate(items):
        info = item.get("info")
        if not isinstance(info, dict):
            raise BadResponse("The server sent a run without its info: it is not an MLflow server.")
        run_id = info.get("run_id") or info.get("run_uuid")
        if not run_id:
            raise BadResponse("The server sent a run without an id.")
        status = info.get("status")
        if status not in _RUN_STATUSES:
            _run_status(status)  # raises, saying which status
        run_ids.append(str(run_id))
        names.append(str(info.get("run_name", "")))
        statuses.append(str(status))
        starts.append(_int_or_none(info.get("start_time")))
        ends.append(_int_or_none(info.get("end_time")))
        users.append(str(info.get("user_id", "")))
        experiments.append(str(info.get("experiment_id", "")))
        data = item.get("data")
        if not data:
            continue
        for entry in data.get("params") or ():
            column = params.get(entry["key"])
            if column is None:
                column = params[str(entry["key"])] = ([], [])
            column[0].append(row)
            column[1].append(str(entry.get("value", "")))
        for entry in data.get("metrics") or ():
            number = metrics.get(entry["key"])
            if number is None:
                number = metrics[str(entry["key"])] = ([], [])
            number[0].append(row)
            number[1].append(float(entry["value"]))
        for entry in data.get("tags") or ():
            column = tags.get(entry["key"])
            if column is None:
                column = tags[str(entry["key"])] = ([], [])
            column[0].append(row)
            column[1].append(str(entry.get("value", "")))
    return columns


def _token_offset(token: str) -> int | None:
    """The offset a runs/search page token holds, or None when it is not base64 `{"offset": N}`."""
    try:
        decoded = json.loads(base64.b64decode(token, validate=True))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(decoded, dict) or set(decoded) != {"offset"}:
        return None
    offset = decoded["offset"]
    return offset if isinstance(offset, int) and not isinstance(offset, bool) else None


def _parse_dataset_input(entry: JsonObject) -> DatasetInput:
    dataset = entry.get("dataset") or {}
    return DatasetInput(
        name=str(dataset.get("name", "")),
        digest=str(dataset.get("digest", "")),
        source_type=str(dataset.get("source_type", "")),
        source=str(dataset.get("source", "")),
        context=_key_values(entry.get("tags")).get("mlflow.data.context", ""),
    )


def _parse_logged_model(item: JsonObject) -> LoggedModel:
    """One entry of `logged-models/search`: `{"info": {...}, "data": {...}}`."""
    info = _object(item, "info")
    status = str(info.get("status", ""))
    return LoggedModel(
        model_id=str(info.get("model_id", "")),
        name=str(info.get("name", "")),
        experiment_id=str(info.get("experiment_id", "")),
        source_run_id=str(info.get("source_run_id", "")),
        artifact_location=str(info.get("artifact_uri", "")),
        model_type=str(info.get("model_type", "")),
        status=_LOGGED_MODEL_STATUSES.get(status, status),
        creation_time_ms=_int_or_none(info.get("creation_timestamp_ms")),
        tags=_key_values(info.get("tags")),
    )


_LOGGED_MODEL_STATUSES = {
    "LOGGED_MODEL_READY": "READY",
    "LOGGED_MODEL_PENDING": "PENDING",
    "LOGGED_MODEL_UPLOAD_FAILED": "FAILED",
    "LOGGED_MODEL_STATUS_UNSPECIFIED": "",
}


def _parse_registered_model(item: JsonObject) -> RegisteredModel:
    return RegisteredModel(
        name=str(item["name"]),
        description=str(item.get("description", "")),
        creation_time_ms=_int_or_none(item.get("creation_timestamp")),
        last_updated_time_ms=_int_or_none(item.get("last_updated_timestamp")),
        tags=_key_values(item.get("tags")),
        aliases={str(a["alias"]): str(a["version"]) for a in item.get("aliases") or ()},
    )


def _parse_model_version(item: JsonObject, aliases: tuple[str, ...]) -> ModelVersion:
    return ModelVersion(
        model_name=str(item["name"]),
        version=str(item["version"]),
        run_id=str(item.get("run_id", "")),
        source=str(item.get("source", "")),
        status=str(item.get("status", "READY")),
        creation_time_ms=_int_or_none(item.get("creation_timestamp")),
        last_updated_time_ms=_int_or_none(item.get("last_updated_timestamp")),
        user=str(item.get("user_id", "")),
        description=str(item.get("description", "")),
        tags=_key_values(item.get("tags")),
        aliases=aliases,
    )


def _run_status(value: Any) -> RunStatus:
    try:
        return RunStatus(str(value))
    except ValueError:
        raise BadResponse(f"The server sent an unknown run status {value!r}.") from None


def _key_values(entries: Any) -> dict[str, str]:
    """MLflow sends params and tags as `[{"key": k, "value": v}, ...]`."""
    return {str(e["key"]): str(e.get("value", "")) for e in entries or ()}


def _int_or_none(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


def _object(reply: JsonObject, key: str) -> JsonObject:
    value = reply.get(key)
    if not isinstance(value, dict):
        raise BadResponse(f"The server's answer lacks {key!r}: it is not an MLflow server.")
    return value


def _list(reply: JsonObject, key: str) -> list[JsonObject]:
    value = reply.get(key, [])  # MLflow omits empty lists
    if not isinstance(value, list):
        raise BadResponse(f"The server's answer has {key!r} that is not a list.")
    return value


def _permission_needed(response: requests.Response) -> str:
    """The basic-auth permission a refused request needed (MLflow's READ < EDIT < MANAGE):
    reads (GETs, searches) need READ; tags EDIT, but deleting a model version's tag MANAGE
    (MLflow checks it as deleting the model); deleting an object or an alias MANAGE; any
    other change EDIT."""
    request = response.request
    method = (request.method or "GET").upper() if request is not None else "GET"
    path = (request.path_url or "").split("?", 1)[0] if request is not None else ""
    endpoint = path.rstrip("/").rsplit("/", 1)[-1]
    if method in ("GET", "HEAD") or endpoint == "search":
        return "READ"
    if path.endswith("model-versions/delete-tag"):
        return "MANAGE"
    if "tag" in endpoint:
        return "EDIT"
    if endpoint == "delete" or method == "DELETE":
        return "MANAGE"
    return "EDIT"


def _quoted(name: str) -> str:
    """A string literal for MLflow's filter syntax (which has no escape for the quote)."""
    return f'"{name}"' if "'" in name else f"'{name}'"


def _version_key(version: str) -> tuple[int, str]:
    return (int(version), "") if version.isdigit() else (-1, version)
