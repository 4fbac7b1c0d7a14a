"""services.promotion: requests read back from model-version tags; pending ones picked out."""

from __future__ import annotations

import json

import pytest

from mlops_desktop.domain.promotion import PromotionRequest, PromotionState
from mlops_desktop.domain.registry import ModelVersion
from mlops_desktop.services import promotion


def _request(
    request_id: str, version: str, state: PromotionState, created_ms: int
) -> PromotionRequest:
    return PromotionRequest(
        request_id=request_id,
        model_name="m",
        version=version,
        alias="champion",
        requester="alice",
        comment="better",
        state=state,
        created_ms=created_ms,
        updated_ms=created_ms,  # what the stored tag says when nothing changed since
    )


def _version(version: str, *requests: PromotionRequest, **extra: str) -> ModelVersion:
    tags = {
        promotion.request_tag_key(r.request_id): promotion.request_tag_value(r) for r in requests
    }
    return ModelVersion(
        model_name="m", version=version, run_id="r", source="s", tags={**tags, **extra}
    )


def test_requests_round_trip_through_tags():
    applied = _request("aa01", "1", PromotionState.APPLIED, 100)
    requested = _request("bb02", "2", PromotionState.REQUESTED, 300)
    approved = _request("cc03", "3", PromotionState.APPROVED, 200)
    rejected = _request("dd04", "3", PromotionState.REJECTED, 50)
    versions = [_version("1", applied), _version("2", requested), _version("3", approved, rejected)]
    assert promotion.read_requests(versions) == [rejected, applied, approved, requested]
    assert promotion.pending_requests(versions) == [approved, requested]


def test_tag_value_is_compact_json_with_decision_fields():
    request = _request("aa01", "1", PromotionState.APPROVED, 100)
    value = promotion.request_tag_value(
        request, updated_ms=200, decided_by="bob", decision_comment="ok"
    )
    assert " " not in value.replace("better", "").replace("ok", "")
    assert json.loads(value) == {
        "alias": "champion",
        "requester": "alice",
        "comment": "better",
        "state": "approved",
        "created_ms": 100,
        "updated_ms": 200,
        "decided_by": "bob",
        "decision_comment": "ok",
    }
    assert promotion.request_tag_key("aa01") == "mlops.promotion.request.aa01"
    with pytest.raises(ValueError):
        promotion.request_tag_key("a.b")


def test_malformed_request_tags_are_reported_not_returned():
    good = _request("aa01", "1", PromotionState.REQUESTED, 100)
    version = _version(
        "1",
        good,
        **{
            "mlops.promotion.request.bad1": "{",
            "mlops.promotion.request.bad2": json.dumps({"alias": "champion"}),
            "mlops.promotion.request.bad3": json.dumps(
                {"alias": "c", "requester": "a", "state": "promoted", "created_ms": 1}
            ),
            "mlops.promotion.gates.aa01": "ignored: not a request",
        },
    )
    assert promotion.pending_requests([version]) == [good]
    problems = promotion.malformed_request_tags([version])
    assert len(problems) == 3
    assert all("version 1" in p for p in problems)
    assert any("'promoted' is unknown" in p for p in problems)
