"""TrackingBackend over an MLflow tracking server's REST API 2.0 (read side).

Every call goes through `MlflowRestBackend._call`, which sends it through one `HttpClient`
(timeouts, retries on transient errors), maps MLflow's error codes and plain-text auth errors
to our typed errors, and returns the decoded JSON object. The `_parse_*` functions turn
those objects into domain dataclasses; nothing else in the app sees MLflow's JSON.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import requests

from mlops_desktop.backends.errors import BackendError, BadResponse, NotFound
from mlops_desktop.backends.http import (
    DEFAULT_RETRY,
    DEFAULT_TIMEOUT,
    HttpClient,
    RetryPolicy,
    Timeout,
    body_excerpt,
)
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

API_PREFIX = "api/2.0/mlflow/"

# Page sizes, within what the server accepts (it refuses more than 1000 models per page).
_EXPERIMENTS_PAGE = 1000
_REGISTERED_MODELS_PAGE = 1000
_MODEL_VERSIONS_PAGE = 10_000
_METRIC_HISTORY_PAGE = 25_000
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
        body: JsonObject = {
            "experiment_ids": list(experiment_ids),
            "filter": filter_string,
            "max_results": min(max_results, _RUNS_PAGE_MAX),
            "order_by": list(order_by),
        }
        if page_token:
            body["page_token"] = page_token
        reply = self._call("POST", "runs/search", json=body, read_only=True, doing="search runs")
        runs = [_parse_run(item) for item in _list(reply, "runs")]
        return runs, reply.get("next_page_token") or None

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


def _parse_dataset_input(entry: JsonObject) -> DatasetInput:
    dataset = entry.get("dataset") or {}
    return DatasetInput(
        name=str(dataset.get("name", "")),
        digest=str(dataset.get("digest", "")),
        source_type=str(dataset.get("source_type", "")),
        source=str(dataset.get("source", "")),
        context=_key_values(entry.get("tags")).get("mlflow.data.context", ""),
    )


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
    reads (GETs, searches) need READ; tags, even deleting them, EDIT; deleting an object
    or an alias MANAGE; any other change EDIT."""
    request = response.request
    method = (request.method or "GET").upper() if request is not None else "GET"
    path = (request.path_url or "").split("?", 1)[0] if request is not None else ""
    endpoint = path.rstrip("/").rsplit("/", 1)[-1]
    if method in ("GET", "HEAD") or endpoint == "search":
        return "READ"
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
