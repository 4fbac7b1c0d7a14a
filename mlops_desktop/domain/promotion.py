"""Promotion requests and the audit events that record every state change."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

# Every tag the promotion workflow writes lives under this prefix (model-version and
# registered-model tags), so any client of the same server sees the same state.
TAG_PREFIX = "mlops.promotion."
AUDIT_TAG_PREFIX = "mlops.audit."
#: `AuditEvent.details` keys: the gate overrides of an approval are `override.<gate name>`.
OVERRIDE_DETAIL_PREFIX = "override."


class PromotionState(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    APPLIED = "applied"
    ROLLED_BACK = "rolled_back"


@dataclass(frozen=True)
class PromotionRequest:
    request_id: str
    model_name: str
    version: str
    alias: str
    requester: str
    comment: str
    state: PromotionState
    created_ms: int
    updated_ms: int = 0  # the last state change; 0 when the stored request does not say
    decided_by: str = ""  # who approved or rejected it
    decision_comment: str = ""
    #: Failing gates approved anyway: gate name -> the approver's written reason.
    overrides: Mapping[str, str] = field(default_factory=dict)
    previous_version: str = ""  # the version that held the alias before it was applied


@dataclass(frozen=True)
class AuditEvent:
    """One link of a model's audit chain; `hash` covers every other field plus `prev_hash`."""

    seq: int
    time_ms: int
    actor: str
    action: str  # "requested", "approved", "rejected", "applied", "rolled_back"
    model_name: str
    version: str
    alias: str
    comment: str
    prev_hash: str
    hash: str
    #: Extra facts, hashed with the event when there are any ("request_id",
    #: "previous_version", "override.<gate>", "gate.<gate>", "intent"); see services/audit.py.
    details: Mapping[str, str] = field(default_factory=dict)

    @property
    def overrides(self) -> dict[str, str]:
        """The failing gates this event approved anyway: gate name -> written reason."""
        return {
            key[len(OVERRIDE_DETAIL_PREFIX) :]: value
            for key, value in self.details.items()
            if key.startswith(OVERRIDE_DETAIL_PREFIX)
        }
