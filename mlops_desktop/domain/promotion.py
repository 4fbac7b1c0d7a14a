"""Promotion requests and the audit events that record every state change."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# Every tag the promotion workflow writes lives under this prefix (model-version and
# registered-model tags), so any client of the same server sees the same state.
TAG_PREFIX = "mlops.promotion."
AUDIT_TAG_PREFIX = "mlops.audit."


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
