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

`details` (optional, string to string) carries the facts the workflow adds: `request_id`,
`previous_version` (who held the alias before an `applied` or `rolled_back` event),
`override.<gate>` (the written reason for approving over a failing gate), `gate.<gate>`
(`<outcome>: <evidence>` as the approver saw it) and `intent` (the step that wrote the event,
so an interrupted step can tell which of its events exist). An event with details hashes them
too; one without hashes exactly as before details existed, so older chains stay valid.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
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
    details: Mapping[str, str] | None = None,
) -> str:
    """SHA-256 (hex) of the canonical JSON of an event's fields, `hash` excluded."""
    fields: dict[str, Any] = {
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
    if details:
        fields["details"] = dict(details)
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
        details=event.details,
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
    details: Mapping[str, str] | None = None,
    seq: int | None = None,
) -> AuditEvent:
    """The event that follows `previous` (or starts the chain when it is None); pure.

    `seq` defaults to the one after `previous`; `next_event` passes a higher one when an
    unreadable tag already holds that number, so no stored tag is ever overwritten.
    """
    # A typo in an action would make the event invisible to alias_holder_at, so refuse it here.
    PromotionState(action)
    if seq is None:
        seq = 1 if previous is None else previous.seq + 1
    prev_hash = GENESIS if previous is None else previous.hash
    details = dict(details or {})
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
            details=details,
        ),
        details=details,
    )


def event_to_json(event: AuditEvent) -> str:
    """The compact JSON stored as the tag value of `event` (older events lack `details`)."""
    fields: dict[str, Any] = {
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
        "details": dict(event.details),
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
    details = data.get("details", {})
    if not isinstance(details, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in details.items()
    ):
        raise ValueError("its field details is not an object of strings")
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
        details=details,
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


def next_event(
    model: RegisteredModel,
    *,
    time_ms: int,
    actor: str,
    action: str,
    version: str,
    alias: str,
    comment: str = "",
    details: Mapping[str, str] | None = None,
) -> AuditEvent:
    """The event to store next on `model`: linked to its newest readable event, numbered
    after every numbered audit tag it has (an unreadable one included), so appending never
    overwrites a stored tag."""
    numbers = [
        int(key[len(AUDIT_TAG_PREFIX) :])
        for key in model.tags
        if key.startswith(AUDIT_TAG_PREFIX) and key[len(AUDIT_TAG_PREFIX) :].isdigit()
    ]
    events = read_chain(model)
    return append_event(
        events[-1] if events else None,
        time_ms=time_ms,
        actor=actor,
        action=action,
        model_name=model.name,
        version=version,
        alias=alias,
        comment=comment,
        details=details,
        seq=max(numbers, default=0) + 1,
    )


@dataclass(frozen=True)
class AliasUndo:
    """What rolling `alias` back means according to the chain."""

    alias: str
    current: str | None  # the version the chain's last move gave the alias
    target: str | None  # the version that held it before that promotion (None: no version)
    undone: AuditEvent | None  # the `applied` event a rollback undoes; None: nothing to undo


def alias_undo(events: Sequence[AuditEvent], alias: str) -> AliasUndo:
    """The promotion of `alias` a rollback undoes, and the version it gives the alias back to.

    The chain's moves are replayed as a stack: `applied` pushes, `rolled_back` pops. So
    rolling back twice undoes two promotions, and never re-promotes the version an earlier
    rollback removed. The version to go back to is the `previous_version` the `applied` event
    recorded (what the registry held then, even when the alias was set outside the workflow),
    else the promotion below it on the stack, else none (the alias is removed).
    """
    stack: list[tuple[str, AuditEvent]] = []
    for event in sorted(events, key=lambda e: e.seq):
        if event.alias != alias or event.action not in _ALIAS_MOVES:
            continue
        if event.action == PromotionState.APPLIED.value:
            if not event.version:
                stack.clear()
            elif not stack or stack[-1][0] != event.version:
                stack.append((event.version, event))
            continue
        if stack:
            stack.pop()
        if not event.version:
            stack.clear()
        elif not stack or stack[-1][0] != event.version:
            # The rollback restored a version no promotion on the stack explains: start over
            # from it, with nothing left to undo.
            stack = [(event.version, event)]
    if not stack:
        return AliasUndo(alias, None, None, None)
    current, top = stack[-1]
    if top.action != PromotionState.APPLIED.value:
        return AliasUndo(alias, current, None, None)
    if "previous_version" in top.details:
        target = top.details["previous_version"] or None
    else:
        target = stack[-2][0] if len(stack) > 1 else None
    return AliasUndo(alias, current, target, top)
