"""The audit chain of a registered model: hash-linked events stored as registered-model tags.

Storage: one registered-model tag per event, key `mlops.audit.<seq>` with `seq` zero-padded to
six digits (`mlops.audit.000001`), value the compact JSON of every `AuditEvent` field
(`seq, time_ms, actor, action, model_name, version, alias, comment, prev_hash, hash`).

Each event's `hash` is the SHA-256 of the canonical JSON of all its other fields, `prev_hash`
included, and `prev_hash` is the previous event's `hash` (`GENESIS` for event 1). An edited
event no longer matches its hash; a removed or inserted one breaks the numbering or the link.
Removing the newest events leaves a shorter, valid chain: the chain alone cannot see that.

For the alias-moving actions (`applied`, `rolled_back`) `version` is the version that holds the
alias after the event (empty when the alias was removed), so the chain alone answers "which
version held alias A at time T".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

from mlops_desktop.domain.promotion import AUDIT_TAG_PREFIX, AuditEvent, PromotionState
from mlops_desktop.domain.registry import RegisteredModel

GENESIS = "0" * 64
SEQ_DIGITS = 6
_ALIAS_MOVES = frozenset({PromotionState.APPLIED.value, PromotionState.ROLLED_BACK.value})
_STR_FIELDS = ("actor", "action", "model_name", "version", "alias", "comment", "prev_hash", "hash")


def audit_tag_key(seq: int) -> str:
    """The registered-model tag key that stores event `seq`."""
    return f"{AUDIT_TAG_PREFIX}{seq:0{SEQ_DIGITS}d}"


def event_hash(
    prev_hash: str,
    *,
    seq: int,
    time_ms: int,
    actor: str,
    action: str,
    model_name: str,
    version: str,
    alias: str,
    comment: str,
) -> str:
    """SHA-256 (hex) of the canonical JSON of an event's fields, `hash` excluded."""
    fields = {
        "seq": seq,
        "time_ms": time_ms,
        "actor": actor,
        "action": action,
        "model_name": model_name,
        "version": version,
        "alias": alias,
        "comment": comment,
        "prev_hash": prev_hash,
    }
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _recomputed_hash(event: AuditEvent) -> str:
    return event_hash(
        event.prev_hash,
        seq=event.seq,
        time_ms=event.time_ms,
        actor=event.actor,
        action=event.action,
        model_name=event.model_name,
        version=event.version,
        alias=event.alias,
        comment=event.comment,
    )


def append_event(
    previous: AuditEvent | None,
    *,
    time_ms: int,
    actor: str,
    action: str,
    model_name: str,
    version: str,
    alias: str,
    comment: str = "",
) -> AuditEvent:
    """The event that follows `previous` (or starts the chain when it is None); pure."""
    # A typo in an action would make the event invisible to alias_holder_at, so refuse it here.
    PromotionState(action)
    seq = 1 if previous is None else previous.seq + 1
    prev_hash = GENESIS if previous is None else previous.hash
    return AuditEvent(
        seq=seq,
        time_ms=time_ms,
        actor=actor,
        action=action,
        model_name=model_name,
        version=version,
        alias=alias,
        comment=comment,
        prev_hash=prev_hash,
        hash=event_hash(
            prev_hash,
            seq=seq,
            time_ms=time_ms,
            actor=actor,
            action=action,
            model_name=model_name,
            version=version,
            alias=alias,
            comment=comment,
        ),
    )


def event_to_json(event: AuditEvent) -> str:
    """The compact JSON stored as the tag value of `event`."""
    fields = {
        "seq": event.seq,
        "time_ms": event.time_ms,
        "actor": event.actor,
        "action": event.action,
        "model_name": event.model_name,
        "version": event.version,
        "alias": event.alias,
        "comment": event.comment,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False)


def event_from_json(value: str) -> AuditEvent:
    """Parse a tag value; raises ValueError with a sentence when it is not a whole event."""
    try:
        data: Any = json.loads(value)
    except json.JSONDecodeError as error:
        raise ValueError(f"it is not valid JSON ({error.msg})") from None
    if not isinstance(data, dict):
        raise ValueError("it is not a JSON object")
    missing = [name for name in ("seq", "time_ms", *_STR_FIELDS) if name not in data]
    if missing:
        raise ValueError(f"it lacks the field(s) {', '.join(missing)}")
    for name in ("seq", "time_ms"):
        if not isinstance(data[name], int) or isinstance(data[name], bool):
            raise ValueError(f"its field {name} is not an integer")
    for name in _STR_FIELDS:
        if not isinstance(data[name], str):
            raise ValueError(f"its field {name} is not a string")
    return AuditEvent(
        seq=data["seq"],
        time_ms=data["time_ms"],
        actor=data["actor"],
        action=data["action"],
        model_name=data["model_name"],
        version=data["version"],
        alias=data["alias"],
        comment=data["comment"],
        prev_hash=data["prev_hash"],
        hash=data["hash"],
    )


def _parse_tags(model: RegisteredModel) -> tuple[list[AuditEvent], list[str]]:
    events: list[AuditEvent] = []
    problems: list[str] = []
    for key in sorted(k for k in model.tags if k.startswith(AUDIT_TAG_PREFIX)):
        suffix = key[len(AUDIT_TAG_PREFIX) :]
        if not suffix.isdigit():
            problems.append(f"Tag {key} of model {model.name} is not a numbered audit event.")
            continue
        try:
            event = event_from_json(model.tags[key])
        except ValueError as error:
            problems.append(f"Audit tag {key} of model {model.name} is unreadable: {error}.")
            continue
        if event.seq != int(suffix):
            problems.append(
                f"Audit tag {key} of model {model.name} holds event {event.seq}, "
                f"not event {int(suffix)}."
            )
            continue
        events.append(event)
    events.sort(key=lambda e: e.seq)
    return events, problems


def read_chain(model: RegisteredModel) -> list[AuditEvent]:
    """The model's audit events ordered by seq; unreadable tags are left out.

    `malformed_audit_tags` says which tags were left out, and `verify_model_chain` reports
    both those and the broken links.
    """
    return _parse_tags(model)[0]


def malformed_audit_tags(model: RegisteredModel) -> list[str]:
    """One sentence per `mlops.audit.*` tag that `read_chain` could not turn into an event."""
    return _parse_tags(model)[1]


def _describe(event: AuditEvent) -> str:
    target = f"version {event.version}" if event.version else "no version"
    return f"{event.actor} {event.action} {target} as {event.alias or 'no alias'}"


def verify_chain(events: Iterable[AuditEvent]) -> list[str]:
    """One sentence per problem (missing, duplicated, edited or unlinked event); [] if intact."""
    problems: list[str] = []
    previous: AuditEvent | None = None
    for event in sorted(events, key=lambda e: e.seq):
        expected_seq = 1 if previous is None else previous.seq + 1
        if previous is not None and event.seq == previous.seq:
            problems.append(f"Event {event.seq} appears more than once in the audit chain.")
            continue
        gap = event.seq != expected_seq
        if gap:
            first_missing, last_missing = expected_seq, event.seq - 1
            span = (
                f"Event {first_missing} is"
                if first_missing == last_missing
                else f"Events {first_missing} to {last_missing} are"
            )
            problems.append(f"{span} missing from the audit chain.")
        if _recomputed_hash(event) != event.hash:
            problems.append(
                f"Event {event.seq} ({_describe(event)}) was changed after it was recorded: "
                "its content no longer matches its hash."
            )
        if event.seq == 1 and event.prev_hash != GENESIS:
            problems.append(
                "Event 1 does not start the chain: its previous hash is not the genesis."
            )
        elif previous is not None and not gap and event.prev_hash != previous.hash:
            problems.append(
                f"Event {event.seq} does not follow event {previous.seq}: it records the previous "
                f"hash {event.prev_hash[:12]}…, but event {previous.seq} has {previous.hash[:12]}…."
            )
        previous = event
    return problems


def verify_model_chain(model: RegisteredModel) -> list[str]:
    """Everything wrong with a model's stored chain: unreadable tags, then broken links."""
    events, problems = _parse_tags(model)
    return problems + verify_chain(events)


def alias_holder_at(events: Sequence[AuditEvent], alias: str, time_ms: int) -> str | None:
    """The version that held `alias` at `time_ms` according to the chain, or None."""
    holder: str | None = None
    for event in sorted(events, key=lambda e: e.seq):
        # Clients' clocks may disagree, so a later event can carry an earlier time: skip, not stop.
        if event.time_ms > time_ms:
            continue
        if event.alias == alias and event.action in _ALIAS_MOVES:
            holder = event.version or None
    return holder
