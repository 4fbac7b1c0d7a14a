"""services.audit: the hash chain detects edited, removed and reordered events; alias history."""

from __future__ import annotations

import dataclasses
import itertools
import json

import pytest

from mlops_desktop.domain.promotion import AuditEvent
from mlops_desktop.domain.registry import RegisteredModel
from mlops_desktop.services import audit

MODEL = "churn-classifier"
DAY = 86_400_000


def _chain() -> list[AuditEvent]:
    """v1 champion, v2 champion, v3 challenger, v3 champion, rollback to v2."""
    script = [
        (1 * DAY, "alice", "requested", "1", "champion"),
        (2 * DAY, "bob", "approved", "1", "champion"),
        (2 * DAY + 1, "bob", "applied", "1", "champion"),
        (5 * DAY, "alice", "requested", "2", "champion"),
        (6 * DAY, "carol", "approved", "2", "champion"),
        (6 * DAY + 1, "carol", "applied", "2", "champion"),
        (8 * DAY, "local-runner", "applied", "3", "challenger"),
        (9 * DAY, "bob", "applied", "3", "champion"),
        (10 * DAY, "dave", "rolled_back", "2", "champion"),
    ]
    events: list[AuditEvent] = []
    for time_ms, actor, action, version, alias in script:
        events.append(
            audit.append_event(
                events[-1] if events else None,
                time_ms=time_ms,
                actor=actor,
                action=action,
                model_name=MODEL,
                version=version,
                alias=alias,
                comment=f"{actor} {action}",
            )
        )
    return events


def _as_model(
    events: list[AuditEvent], extra_tags: dict[str, str] | None = None
) -> RegisteredModel:
    tags = {audit.audit_tag_key(e.seq): audit.event_to_json(e) for e in events}
    return RegisteredModel(name=MODEL, tags={"team": "growth-ml", **tags, **(extra_tags or {})})


def test_append_links_each_event_to_the_previous_one():
    events = _chain()
    assert [e.seq for e in events] == list(range(1, 10))
    assert events[0].prev_hash == audit.GENESIS
    for previous, event in itertools.pairwise(events):
        assert event.prev_hash == previous.hash
    assert all(len(e.hash) == 64 for e in events)
    assert len({e.hash for e in events}) == len(events)


def test_hash_covers_every_field_and_the_previous_hash():
    event = _chain()[1]
    fields = {
        "seq": event.seq,
        "time_ms": event.time_ms,
        "actor": event.actor,
        "action": event.action,
        "model_name": event.model_name,
        "version": event.version,
        "alias": event.alias,
        "comment": event.comment,
    }
    assert audit.event_hash(event.prev_hash, **fields) == event.hash
    assert audit.event_hash(audit.GENESIS, **fields) != event.hash
    for name in fields:
        changed = {**fields, name: fields[name] + 1 if isinstance(fields[name], int) else "x"}
        assert audit.event_hash(event.prev_hash, **changed) != event.hash, name


def test_append_refuses_an_unknown_action():
    with pytest.raises(ValueError):
        audit.append_event(
            None, time_ms=1, actor="a", action="promoted", model_name=MODEL, version="1", alias="c"
        )


def test_intact_chain_verifies():
    assert audit.verify_chain(_chain()) == []
    assert audit.verify_chain([]) == []


def test_edited_event_is_reported():
    events = _chain()
    events[3] = dataclasses.replace(events[3], actor="mallory")
    problems = audit.verify_chain(events)
    assert len(problems) == 1
    assert "Event 4" in problems[0] and "changed after it was recorded" in problems[0]


def test_edited_event_with_a_recomputed_hash_breaks_the_next_link():
    events = _chain()
    forged = dataclasses.replace(events[3], actor="mallory")
    forged = dataclasses.replace(forged, hash=audit._recomputed_hash(forged))
    events[3] = forged
    problems = audit.verify_chain(events)
    assert problems == [problems[0]]
    assert "Event 5 does not follow event 4" in problems[0]


def test_removed_event_is_reported():
    events = _chain()
    del events[4]
    problems = audit.verify_chain(events)
    assert problems == ["Event 5 is missing from the audit chain."]


def test_removed_and_renumbered_event_is_reported():
    events = _chain()
    del events[4]
    renumbered = [dataclasses.replace(e, seq=i) for i, e in enumerate(events, start=1)]
    problems = audit.verify_chain(renumbered)
    assert any("does not follow" in p for p in problems)


def test_several_missing_events_and_a_duplicate_are_reported():
    events = _chain()
    problems = audit.verify_chain([events[0], events[4], events[4]])
    assert "Events 2 to 4 are missing from the audit chain." in problems
    assert "Event 5 appears more than once in the audit chain." in problems


def test_first_event_must_start_from_genesis():
    events = _chain()[1:]
    problems = audit.verify_chain(events)
    assert problems == ["Event 1 is missing from the audit chain."]
    orphan = dataclasses.replace(_chain()[0], prev_hash="f" * 64)
    assert any("does not start the chain" in p for p in audit.verify_chain([orphan]))


def test_read_chain_round_trips_the_tags_in_order():
    events = _chain()
    model = _as_model(list(reversed(events)))
    assert audit.read_chain(model) == events
    assert audit.malformed_audit_tags(model) == []
    assert audit.verify_model_chain(model) == []
    assert audit.audit_tag_key(7) == "mlops.audit.000007"
    stored = json.loads(model.tags["mlops.audit.000001"])
    assert set(stored) == {f.name for f in dataclasses.fields(AuditEvent)}


def test_read_chain_reports_malformed_tags():
    events = _chain()
    model = _as_model(
        events,
        extra_tags={
            "mlops.audit.000003": "{not json",
            "mlops.audit.000010": json.dumps({"seq": 10}),
            "mlops.audit.head": "x",
        },
    )
    problems = audit.malformed_audit_tags(model)
    assert len(problems) == 3
    assert any("mlops.audit.000003" in p and "not valid JSON" in p for p in problems)
    assert any("mlops.audit.000010" in p and "lacks" in p for p in problems)
    assert any("mlops.audit.head" in p for p in problems)
    assert [e.seq for e in audit.read_chain(model)] == [1, 2, 4, 5, 6, 7, 8, 9]
    report = audit.verify_model_chain(model)
    assert "Event 3 is missing from the audit chain." in report


def test_tag_holding_another_events_number_is_reported():
    events = _chain()
    model = _as_model(events, extra_tags={"mlops.audit.000002": audit.event_to_json(events[2])})
    assert any("holds event 3, not event 2" in p for p in audit.malformed_audit_tags(model))


def test_alias_holder_at_replays_moves_and_rollbacks():
    events = _chain()
    assert audit.alias_holder_at(events, "champion", 0) is None
    assert audit.alias_holder_at(events, "champion", 2 * DAY) is None  # approved, not applied
    assert audit.alias_holder_at(events, "champion", 2 * DAY + 1) == "1"
    assert audit.alias_holder_at(events, "champion", 7 * DAY) == "2"
    assert audit.alias_holder_at(events, "champion", 9 * DAY) == "3"
    assert audit.alias_holder_at(events, "champion", 11 * DAY) == "2"
    assert audit.alias_holder_at(events, "challenger", 7 * DAY) is None
    assert audit.alias_holder_at(events, "challenger", 11 * DAY) == "3"
    assert audit.alias_holder_at(events, "shadow", 11 * DAY) is None


def test_alias_holder_at_handles_a_removed_alias():
    events = _chain()
    removed = audit.append_event(
        events[-1],
        time_ms=12 * DAY,
        actor="dave",
        action="applied",
        model_name=MODEL,
        version="",
        alias="challenger",
    )
    assert audit.alias_holder_at([*events, removed], "challenger", 12 * DAY) is None
