"""Promotion requests read from model-version tags: which alias moves wait for a decision.

Tag layout (model-version tags, on the version the request would move the alias to):

    mlops.promotion.request.<request_id> = compact JSON object
        {"alias": "champion", "requester": "alice", "comment": "why",
         "state": "requested" | "approved" | "rejected" | "applied" | "rolled_back",
         "created_ms": 1764000000000, "updated_ms": 1764000000000,
         "decided_by": "", "decision_comment": "",
         "overrides": {"drift": "why"},   # optional: failing gates approved anyway
         "previous_version": "2"}         # optional: who held the alias before it was applied

`request_id` is a short lowercase hex string without dots. One JSON value per request makes
every state change a single tag write, so no client ever sees half a request. Other keys under
`mlops.promotion.` are left to future use (gate results, overrides) and ignored here. Every state
change also appends an event to the model's audit chain (`services/audit.py`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from mlops_desktop.domain.promotion import TAG_PREFIX, PromotionRequest, PromotionState
from mlops_desktop.domain.registry import ModelVersion

REQUEST_TAG_PREFIX = f"{TAG_PREFIX}request."
#: Requests that still need someone: a decision, or applying an approved move.
PENDING_STATES = frozenset({PromotionState.REQUESTED, PromotionState.APPROVED})


def request_tag_key(request_id: str) -> str:
    """The model-version tag key that stores request `request_id`."""
    if not request_id or "." in request_id:
        raise ValueError(f"A promotion request id cannot be empty or contain a dot: {request_id!r}")
    return f"{REQUEST_TAG_PREFIX}{request_id}"


def request_tag_value(
    request: PromotionRequest,
    *,
    updated_ms: int | None = None,
    decided_by: str | None = None,
    decision_comment: str | None = None,
) -> str:
    """The compact JSON stored for `request` (its model, version and id live in the tag key).

    The keyword arguments, when given, replace the request's own fields of the same name.
    """
    if updated_ms is None:
        updated_ms = request.updated_ms or request.created_ms
    fields: dict[str, Any] = {
        "alias": request.alias,
        "requester": request.requester,
        "comment": request.comment,
        "state": request.state.value,
        "created_ms": request.created_ms,
        "updated_ms": updated_ms,
        "decided_by": request.decided_by if decided_by is None else decided_by,
        "decision_comment": (
            request.decision_comment if decision_comment is None else decision_comment
        ),
    }
    if request.overrides:
        fields["overrides"] = dict(request.overrides)
    if request.previous_version:
        fields["previous_version"] = request.previous_version
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False)


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name, "")
    return value if isinstance(value, str) else str(value)


def _parse_request(version: ModelVersion, key: str) -> PromotionRequest:
    try:
        data: Any = json.loads(version.tags[key])
    except json.JSONDecodeError as error:
        raise ValueError(f"it is not valid JSON ({error.msg})") from None
    if not isinstance(data, dict):
        raise ValueError("it is not a JSON object")
    for name in ("alias", "requester", "state"):
        if not isinstance(data.get(name), str):
            raise ValueError(f"its field {name} is missing or not a string")
    created = data.get("created_ms")
    if not isinstance(created, int) or isinstance(created, bool):
        raise ValueError("its field created_ms is missing or not an integer")
    try:
        state = PromotionState(data["state"])
    except ValueError:
        raise ValueError(f"its state {data['state']!r} is unknown") from None
    updated = data.get("updated_ms", 0)
    overrides = data.get("overrides", {})
    if not isinstance(overrides, dict):
        raise ValueError("its field overrides is not an object")
    return PromotionRequest(
        request_id=key[len(REQUEST_TAG_PREFIX) :],
        model_name=version.model_name,
        version=version.version,
        alias=data["alias"],
        requester=data["requester"],
        comment=_text(data, "comment"),
        state=state,
        created_ms=created,
        updated_ms=updated if isinstance(updated, int) and not isinstance(updated, bool) else 0,
        decided_by=_text(data, "decided_by"),
        decision_comment=_text(data, "decision_comment"),
        overrides={str(gate): str(reason) for gate, reason in overrides.items()},
        previous_version=_text(data, "previous_version"),
    )


def request_on(version: ModelVersion, request_id: str) -> PromotionRequest | None:
    """Request `request_id` as stored on `version`, or None when the version has no such tag.

    Raises ValueError (a phrase) when the tag is there but unreadable.
    """
    key = request_tag_key(request_id)
    return _parse_request(version, key) if key in version.tags else None


def _read(model_versions: Iterable[ModelVersion]) -> tuple[list[PromotionRequest], list[str]]:
    requests: list[PromotionRequest] = []
    problems: list[str] = []
    for version in model_versions:
        for key in sorted(k for k in version.tags if k.startswith(REQUEST_TAG_PREFIX)):
            try:
                requests.append(_parse_request(version, key))
            except ValueError as error:
                problems.append(
                    f"Promotion tag {key} on {version.model_name} version {version.version} "
                    f"is unreadable: {error}."
                )
    requests.sort(key=lambda r: (r.created_ms, r.request_id))
    return requests, problems


def read_requests(model_versions: Iterable[ModelVersion]) -> list[PromotionRequest]:
    """Every promotion request on these versions, oldest first; unreadable tags left out."""
    return _read(model_versions)[0]


def malformed_request_tags(model_versions: Iterable[ModelVersion]) -> list[str]:
    """One sentence per request tag that `read_requests` could not read."""
    return _read(model_versions)[1]


def pending_requests(model_versions: list[ModelVersion]) -> list[PromotionRequest]:
    """Requests still waiting for a decision or for being applied, oldest first."""
    return [r for r in read_requests(model_versions) if r.state in PENDING_STATES]
