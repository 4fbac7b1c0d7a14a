"""services.promotion_flow and model_lock over an in-memory registry (a fake of one layer).

The fake keeps models, versions, tags and aliases in dicts and can be told to fail a write
(a 403, or a server that stops answering) at a chosen moment. The same cycles run against a
real server in tests/integration/test_promotion_server.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from mlops_desktop.backends.errors import ConnectionRefused, NotFound
from mlops_desktop.backends.registry_writer import (
    EDIT,
    MANAGE,
    RegistryWriter,
    missing_permission,
)
from mlops_desktop.domain.promotion import PromotionState
from mlops_desktop.domain.registry import ModelVersion, RegisteredModel
from mlops_desktop.domain.tracking import Run, RunStatus
from mlops_desktop.services import audit, model_lock, promotion
from mlops_desktop.services import promotion_flow as flow
from mlops_desktop.services.model_lock import FlowSettings, Intent

MODEL = "churn"
POLICY = """
[[compare]]
metric = "val_auc"
op = ">="
tolerance = 0.005

[required_tags]
validation_status = "passed"
"""


class FakeRegistry:
    """TrackingBackend + RegistryWriter in memory. `fail` decides, per write, whether to raise."""

    label = "fake registry"
    location = "memory://fake"

    def __init__(self) -> None:
        self.models: dict[str, dict[str, object]] = {}
        self.versions: dict[tuple[str, str], dict[str, object]] = {}
        self.runs: dict[str, Run] = {}
        self.writes: list[tuple[str, tuple[str, ...]]] = []
        #: Called before each write with (method, args); raise from it to fail the write.
        self.fail: Callable[[str, tuple[str, ...]], None] = lambda method, args: None

    # -- seeding
    def add_model(self, name: str) -> None:
        self.models[name] = {"tags": {}, "aliases": {}}

    def add_version(
        self, name: str, number: str, val_auc: float, tags: dict[str, str] | None = None
    ) -> None:
        run_id = f"run{number}" + "0" * 10
        self.runs[run_id] = Run(
            run_id=run_id,
            experiment_id="1",
            name=f"v{number}",
            status=RunStatus.FINISHED,
            start_time_ms=1,
            end_time_ms=2,
            metrics={"val_auc": val_auc},
        )
        self.versions[(name, number)] = {"run_id": run_id, "tags": dict(tags or {})}

    # -- TrackingBackend (the part the flow uses)
    def get_registered_model(self, name: str) -> RegisteredModel:
        if name not in self.models:
            raise NotFound(f"No model {name}.")
        data = self.models[name]
        return RegisteredModel(
            name=name,
            tags=dict(data["tags"]),  # type: ignore[call-overload]
            aliases=dict(data["aliases"]),  # type: ignore[call-overload]
        )

    def search_registered_models(self) -> list[RegisteredModel]:
        return [self.get_registered_model(name) for name in sorted(self.models)]

    def search_model_versions(self, model_name: str) -> list[ModelVersion]:
        return [self.get_model_version(m, v) for (m, v) in sorted(self.versions) if m == model_name]

    def get_run(self, run_id: str) -> Run:
        if run_id not in self.runs:
            raise NotFound(f"No run {run_id}.")
        return self.runs[run_id]

    def close(self) -> None:
        pass

    # -- RegistryWriter
    def get_model_version(self, model_name: str, version: str) -> ModelVersion:
        if (model_name, version) not in self.versions:
            raise NotFound(f"No version {version} of {model_name}.")
        data = self.versions[(model_name, version)]
        aliases = self.models[model_name]["aliases"]
        assert isinstance(aliases, dict)
        return ModelVersion(
            model_name=model_name,
            version=version,
            run_id=str(data["run_id"]),
            source="s",
            tags=dict(data["tags"]),  # type: ignore[call-overload]
            aliases=tuple(sorted(a for a, v in aliases.items() if v == version)),
        )

    def _write(self, method: str, *args: str) -> None:
        self.fail(method, args)
        self.writes.append((method, args))

    def set_model_version_tag(self, model_name: str, version: str, key: str, value: str) -> None:
        self._write("set_model_version_tag", model_name, version, key, value)
        self.versions[(model_name, version)]["tags"][key] = value  # type: ignore[index]

    def delete_model_version_tag(self, model_name: str, version: str, key: str) -> None:
        self._write("delete_model_version_tag", model_name, version, key)
        self.versions[(model_name, version)]["tags"].pop(key, None)  # type: ignore[attr-defined]

    def set_registered_model_tag(self, model_name: str, key: str, value: str) -> None:
        self._write("set_registered_model_tag", model_name, key, value)
        self.models[model_name]["tags"][key] = value  # type: ignore[index]

    def delete_registered_model_tag(self, model_name: str, key: str) -> None:
        self._write("delete_registered_model_tag", model_name, key)
        self.models[model_name]["tags"].pop(key, None)  # type: ignore[attr-defined]

    def set_alias(self, model_name: str, alias: str, version: str) -> None:
        self._write("set_alias", model_name, alias, version)
        if (model_name, version) not in self.versions:
            raise NotFound(f"No version {version}.")
        self.models[model_name]["aliases"][alias] = version  # type: ignore[index]

    def delete_alias(self, model_name: str, alias: str) -> None:
        self._write("delete_alias", model_name, alias)
        self.models[model_name]["aliases"].pop(alias, None)  # type: ignore[attr-defined]

    # -- what tests look at
    def snapshot(self) -> tuple[object, ...]:
        """Everything a step could change (for "nothing changed" assertions)."""
        return (
            repr(self.models),
            repr({k: v["tags"] for k, v in self.versions.items()}),
        )

    def lock_tags(self, name: str = MODEL) -> list[str]:
        tags = self.models[name]["tags"]
        assert isinstance(tags, dict)
        return [k for k in tags if k.startswith(model_lock.LOCK_TAG_PREFIX)]


class Clock:
    def __init__(self, start_ms: int = 1_800_000_000_000) -> None:
        self.ms = start_ms

    def __call__(self) -> int:
        self.ms += 1000
        return self.ms


@pytest.fixture
def registry() -> FakeRegistry:
    fake = FakeRegistry()
    fake.add_model(MODEL)
    fake.add_version(MODEL, "1", 0.90, {"validation_status": "passed"})
    fake.add_version(MODEL, "2", 0.93, {"validation_status": "passed"})
    fake.add_version(MODEL, "3", 0.80, {"validation_status": "failed"})
    fake.models[MODEL]["aliases"] = {"champion": "1"}
    return fake


@pytest.fixture
def gates_dir(tmp_path: Path) -> Path:
    (tmp_path / f"{MODEL}.toml").write_text(POLICY)
    return tmp_path


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def as_user(
    registry: FakeRegistry, gates_dir: Path, clock: Clock
) -> Callable[[str], flow.PromotionContext]:
    def make(actor: str, **settings: object) -> flow.PromotionContext:
        options = FlowSettings(now_ms=clock, sleep=lambda s: None, **settings)  # type: ignore[arg-type]
        return flow.PromotionContext(registry, actor, gates_dir, settings=options)

    return make


def _chain(registry: FakeRegistry) -> list[audit.AuditEvent]:
    return audit.read_chain(registry.get_registered_model(MODEL))


def _request_state(registry: FakeRegistry, version: str, request_id: str) -> PromotionState:
    request = promotion.request_on(registry.get_model_version(MODEL, version), request_id)
    assert request is not None
    return request.state


# -- the fake is what the flow expects -----------------------------------------------------------


def test_the_fake_is_a_registry_writer(registry: FakeRegistry) -> None:
    assert isinstance(registry, RegistryWriter)


# -- request -----------------------------------------------------------------------------------


def test_request_stores_the_request_and_appends_an_audit_event(registry, as_user) -> None:
    outcome = flow.request_promotion(as_user("alice"), MODEL, "2", "champion", "Better AUC.")
    request = outcome.request
    assert request is not None and request.state is PromotionState.REQUESTED
    assert request.requester == "alice"
    assert _request_state(registry, "2", request.request_id) is PromotionState.REQUESTED
    (event,) = _chain(registry)
    assert (event.action, event.actor, event.version, event.alias) == (
        "requested",
        "alice",
        "2",
        "champion",
    )
    assert event.details["request_id"] == request.request_id
    assert registry.lock_tags() == []
    assert not outcome.applied


@pytest.mark.parametrize(
    ("version", "alias", "comment", "words"),
    [
        ("1", "champion", "again", "already holds champion"),
        ("9", "champion", "why", "has no version 9"),
        ("2", "champion", "  ", "needs a comment"),
        ("2", "latest", "why", "cannot be an alias"),
        ("2", "bad alias", "why", "cannot be an alias"),
    ],
)
def test_request_refusals_change_nothing(registry, as_user, version, alias, comment, words):
    before = registry.snapshot()
    with pytest.raises(flow.PromotionRefused, match=words):
        flow.request_promotion(as_user("alice"), MODEL, version, alias, comment)
    assert registry.snapshot() == before


def test_a_second_request_for_the_same_alias_waits_for_the_first(registry, as_user) -> None:
    first = flow.request_promotion(as_user("alice"), MODEL, "2", "champion", "one").request
    assert first is not None
    with pytest.raises(flow.PromotionRefused, match=f"{first.request_id}.*still pending"):
        flow.request_promotion(as_user("carol"), MODEL, "3", "champion", "two")
    # Another alias is another question.
    flow.request_promotion(as_user("carol"), MODEL, "3", "challenger", "two")


# -- approve -----------------------------------------------------------------------------------


def _requested(as_user, version: str = "2", alias: str = "champion") -> str:
    outcome = flow.request_promotion(as_user("alice"), MODEL, version, alias, "please")
    assert outcome.request is not None
    return outcome.request.request_id


def test_approve_moves_the_alias_and_records_the_previous_holder(registry, as_user) -> None:
    request_id = _requested(as_user)
    outcome = flow.approve_request(as_user("bob"), request_id, "Gates pass.")
    assert outcome.applied and outcome.version == "2" and outcome.previous_version == "1"
    assert registry.get_registered_model(MODEL).aliases["champion"] == "2"
    stored = promotion.request_on(registry.get_model_version(MODEL, "2"), request_id)
    assert stored is not None
    assert (stored.state, stored.decided_by, stored.previous_version) == (
        PromotionState.APPLIED,
        "bob",
        "1",
    )
    _requested_event, approved, applied = _chain(registry)
    assert approved.action == "approved" and approved.comment == "Gates pass."
    assert approved.details["gate.compare:val_auc"].startswith("passed: ")
    assert applied.action == "applied" and applied.details["previous_version"] == "1"
    assert audit.verify_chain(_chain(registry)) == []
    assert registry.lock_tags() == []
    assert "now champion" in outcome.message


def test_the_requester_cannot_approve_their_own_request(registry, as_user) -> None:
    request_id = _requested(as_user)
    before = registry.snapshot()
    with pytest.raises(flow.FourEyesRefused, match="another person must approve"):
        flow.approve_request(as_user("Alice "), request_id)
    assert registry.snapshot() == before


def test_a_decided_request_says_who_decided_it(registry, as_user) -> None:
    request_id = _requested(as_user)
    flow.approve_request(as_user("bob"), request_id)
    with pytest.raises(flow.AlreadyDecided, match="already approved by bob at ") as caught:
        flow.approve_request(as_user("carol"), request_id)
    assert caught.value.decided_by == "bob"
    assert caught.value.state is PromotionState.APPLIED


def test_failing_gates_need_a_written_reason_each(registry, as_user) -> None:
    request_id = _requested(as_user, "3")  # lower AUC, validation failed
    before = registry.snapshot()
    with pytest.raises(flow.GatesNotPassed) as caught:
        flow.approve_request(as_user("bob"), request_id)
    assert {r.name for r in caught.value.failing} == {"compare:val_auc", "tag:validation_status"}
    with pytest.raises(flow.GatesNotPassed, match="tag:validation_status"):
        flow.approve_request(as_user("bob"), request_id, overrides={"compare:val_auc": "ok"})
    with pytest.raises(flow.PromotionRefused, match="no gate named drift"):
        flow.approve_request(as_user("bob"), request_id, overrides={"drift": "x"})
    assert registry.snapshot() == before

    reasons = {"compare:val_auc": "Calibrated better.", "tag:validation_status": "Manual check."}
    outcome = flow.approve_request(as_user("bob"), request_id, "Override.", overrides=reasons)
    assert outcome.applied and "overriding" in outcome.message
    approved = next(e for e in _chain(registry) if e.action == "approved")
    assert approved.overrides == reasons
    stored = promotion.request_on(registry.get_model_version(MODEL, "3"), request_id)
    assert stored is not None and dict(stored.overrides) == reasons


def test_an_override_of_a_passing_gate_is_not_recorded(registry, as_user) -> None:
    request_id = _requested(as_user)
    flow.approve_request(as_user("bob"), request_id, overrides={"compare:val_auc": "just in case"})
    approved = next(e for e in _chain(registry) if e.action == "approved")
    assert approved.overrides == {}


def test_reject_records_the_decision(registry, as_user) -> None:
    request_id = _requested(as_user)
    with pytest.raises(flow.PromotionRefused, match="needs a comment"):
        flow.reject_request(as_user("bob"), request_id, "")
    outcome = flow.reject_request(as_user("bob"), request_id, "Latency too high.")
    assert outcome.request is not None and outcome.request.decided_by == "bob"
    assert _request_state(registry, "2", request_id) is PromotionState.REJECTED
    assert _chain(registry)[-1].action == "rejected"
    with pytest.raises(flow.AlreadyDecided, match="already rejected by bob"):
        flow.approve_request(as_user("carol"), request_id)


# -- rollback ------------------------------------------------------------------------------------


def test_rollback_undoes_promotions_one_at_a_time(registry, as_user) -> None:
    flow.approve_request(as_user("bob"), _requested(as_user, "2"))
    flow.approve_request(as_user("bob"), _requested(as_user, "3"), overrides=_all_reasons())
    assert registry.get_registered_model(MODEL).aliases["champion"] == "3"

    first = flow.rollback_alias(as_user("dave"), MODEL, "champion", "Incident 1.")
    assert (first.version, first.previous_version, first.applied) == ("2", "3", True)
    assert registry.get_registered_model(MODEL).aliases["champion"] == "2"
    second = flow.rollback_alias(as_user("dave"), MODEL, "champion", "Incident 2.")
    assert second.version == "1"  # the holder before the workflow's first promotion
    with pytest.raises(flow.PromotionRefused, match="no promotion of champion to undo"):
        flow.rollback_alias(as_user("dave"), MODEL, "champion", "Incident 3.")
    rolled = [e for e in _chain(registry) if e.action == "rolled_back"]
    assert [(e.version, e.details["previous_version"]) for e in rolled] == [("2", "3"), ("1", "2")]
    states = {
        r.version: r.state for r in promotion.read_requests(registry.search_model_versions(MODEL))
    }
    assert states == {"2": PromotionState.ROLLED_BACK, "3": PromotionState.ROLLED_BACK}


def _all_reasons() -> dict[str, str]:
    return {"compare:val_auc": "r1", "tag:validation_status": "r2"}


def test_rollback_refuses_when_the_alias_was_moved_outside_the_workflow(registry, as_user):
    flow.approve_request(as_user("bob"), _requested(as_user, "2"))
    registry.models[MODEL]["aliases"]["champion"] = "3"  # type: ignore[index]
    with pytest.raises(flow.PromotionRefused, match="moved outside the promotion workflow"):
        flow.rollback_alias(as_user("dave"), MODEL, "champion", "why")


def test_rollback_refuses_on_a_damaged_chain(registry, as_user) -> None:
    flow.approve_request(as_user("bob"), _requested(as_user, "2"))
    tags = registry.models[MODEL]["tags"]
    assert isinstance(tags, dict)
    key = audit.audit_tag_key(2)
    tags[key] = tags[key].replace('"bob"', '"mallory"')
    plan = flow.rollback_plan(registry, MODEL, "champion")
    assert "damaged" in plan.problem and "changed after it was recorded" in plan.problem
    with pytest.raises(flow.PromotionRefused, match="damaged"):
        flow.rollback_alias(as_user("dave"), MODEL, "champion", "why")


def test_alias_undo_replays_promotions_as_a_stack() -> None:
    events: list[audit.AuditEvent] = []

    def add(action: str, version: str, **details: str) -> None:
        events.append(
            audit.append_event(
                events[-1] if events else None,
                time_ms=len(events),
                actor="a",
                action=action,
                model_name=MODEL,
                version=version,
                alias="champion",
                details=details,
            )
        )

    add("applied", "1")  # an old event without details
    add("applied", "2")
    add("applied", "3")
    undo = audit.alias_undo(events, "champion")
    assert (undo.current, undo.target) == ("3", "2")
    add("rolled_back", "2")
    assert (audit.alias_undo(events, "champion").target) == "1"
    add("applied", "4", previous_version="2")
    undo = audit.alias_undo(events, "champion")
    assert (undo.current, undo.target, undo.undone) == ("4", "2", events[-1])
    assert audit.alias_undo(events, "challenger") == audit.AliasUndo("challenger", None, None, None)


# -- the lock ------------------------------------------------------------------------------------


def test_a_live_lock_of_someone_else_makes_the_step_wait_then_give_up(registry, as_user, clock):
    held = Intent("abc123", "approve", "carol", clock(), MODEL, request_id="r1")
    registry.set_registered_model_tag(MODEL, held.tag_key, model_lock.intent_to_json(held))
    before = registry.snapshot()
    with pytest.raises(model_lock.ModelBusy, match="carol approving request r1"):
        flow.request_promotion(as_user("alice", wait_s=0.0), MODEL, "2", "champion", "x")
    assert registry.snapshot() == before


def test_two_claims_that_see_each_other_both_step_back(registry, clock) -> None:
    """The claim-then-read rule: a claimer that reads another live claim removes its own."""
    other = Intent("other1", "approve", "carol", clock(), MODEL)

    def rival_claims_at_the_same_time(method: str, args: tuple[str, ...]) -> None:
        if method == "set_registered_model_tag" and args[1] != other.tag_key:
            tags = registry.models[MODEL]["tags"]
            tags[other.tag_key] = model_lock.intent_to_json(other)  # type: ignore[index]

    registry.fail = rival_claims_at_the_same_time
    settings = FlowSettings(wait_s=0.0, now_ms=clock, sleep=lambda s: None)
    mine = Intent("mine12", "approve", "bob", clock(), MODEL)
    with pytest.raises(model_lock.ModelBusy):
        model_lock.acquire(registry, registry, mine, settings)
    assert registry.lock_tags() == [other.tag_key]  # its own claim removed


def test_a_refused_write_becomes_you_lack_and_leaves_nothing(registry, as_user) -> None:
    request_id = _requested(as_user)

    def read_only_user(method: str, args: tuple[str, ...]) -> None:
        raise missing_permission(EDIT, args[0], "do that", registry.location)

    registry.fail = read_only_user
    before = registry.snapshot()
    with pytest.raises(flow.PromotionPermissionDenied, match=f"You lack EDIT on model {MODEL}"):
        flow.approve_request(as_user("rita"), request_id)
    assert registry.snapshot() == before


def test_a_refused_alias_removal_releases_the_lock(registry, as_user) -> None:
    flow.approve_request(as_user("bob"), _requested(as_user, "2", "challenger"))

    def edit_only(method: str, args: tuple[str, ...]) -> None:
        if method == "delete_alias":
            raise missing_permission(MANAGE, args[0], "remove alias", registry.location)

    registry.fail = edit_only
    before = registry.snapshot()
    with pytest.raises(flow.PromotionPermissionDenied, match="You lack MANAGE on model"):
        flow.rollback_alias(as_user("ed"), MODEL, "challenger", "why")
    assert registry.snapshot() == before
    assert registry.get_registered_model(MODEL).aliases["challenger"] == "2"


# -- interrupted steps -------------------------------------------------------------------------


def _server_stops(after: str, registry: FakeRegistry, count: int = 1) -> None:
    """Make every write fail once `after` has been written `count` times."""
    seen = {"n": 0, "down": False}

    def fail(method: str, args: tuple[str, ...]) -> None:
        if seen["down"]:
            raise ConnectionRefused("127.0.0.1 refused the connection on port 5000.")
        if method == after:
            seen["n"] += 1
            if seen["n"] >= count:
                seen["down"] = True

    registry.fail = fail


def test_an_approval_cut_after_the_alias_moved_is_completed_by_the_next_step(
    registry, as_user
) -> None:
    request_id = _requested(as_user)
    _server_stops("set_alias", registry)
    with pytest.raises(flow.PromotionInterrupted, match="moved champion to version 2") as caught:
        flow.approve_request(as_user("bob"), request_id)
    assert caught.value.done == ("moved champion to version 2",)
    assert registry.get_registered_model(MODEL).aliases["champion"] == "2"
    assert [e.action for e in _chain(registry)] == ["requested"]
    assert len(registry.lock_tags()) == 1  # the intent stays, as the record

    registry.fail = lambda method, args: None
    # Within the lease the step may still be running: others wait for it.
    with pytest.raises(model_lock.ModelBusy):
        flow.repair_model(as_user("carol", wait_s=0.0), MODEL)
    repairs = flow.repair_model(as_user("carol", lease_ms=0), MODEL)
    assert len(repairs) == 1 and repairs[0].startswith("Completed bob's approval of request")
    assert [e.action for e in _chain(registry)] == ["requested", "approved", "applied"]
    assert all(e.actor == "bob" for e in _chain(registry)[1:])
    assert _request_state(registry, "2", request_id) is PromotionState.APPLIED
    assert audit.verify_chain(_chain(registry)) == []
    assert registry.lock_tags() == []


def test_an_approval_cut_before_the_alias_moved_is_dropped(registry, as_user) -> None:
    request_id = _requested(as_user)

    def down_at_the_alias(method: str, args: tuple[str, ...]) -> None:
        if method in ("set_alias", "delete_registered_model_tag"):
            raise ConnectionRefused("127.0.0.1 refused the connection on port 5000.")

    registry.fail = down_at_the_alias
    with pytest.raises(flow.PromotionInterrupted, match="not known whether that happened"):
        flow.approve_request(as_user("bob"), request_id)
    registry.fail = lambda method, args: None
    outcome = flow.approve_request(as_user("carol", lease_ms=0), request_id, "Second try.")
    assert outcome.repairs and outcome.repairs[0].startswith("Dropped bob's approval of request")
    assert [e.actor for e in _chain(registry)] == ["alice", "carol", "carol"]
    assert registry.get_registered_model(MODEL).aliases["champion"] == "2"


def test_a_cut_between_two_audit_events_writes_only_the_missing_one(registry, as_user) -> None:
    request_id = _requested(as_user)
    _server_stops("set_registered_model_tag", registry, count=3)
    # Writes of the approval: claim, decided intent, approved event -> then the server stops.
    with pytest.raises(flow.PromotionInterrupted, match="recorded the audit event approved"):
        flow.approve_request(as_user("bob"), request_id)
    registry.fail = lambda method, args: None
    assert [e.action for e in _chain(registry)] == ["requested", "approved"]
    flow.repair_model(as_user("carol", lease_ms=0), MODEL)
    assert [e.action for e in _chain(registry)] == ["requested", "approved", "applied"]
    assert audit.verify_chain(_chain(registry)) == []


def test_status_lists_unfinished_steps(registry, as_user, clock) -> None:
    stuck = Intent("dead01", "approve", "bob", clock(), MODEL, request_id="r9", alias="champion")
    registry.set_registered_model_tag(MODEL, stuck.tag_key, model_lock.intent_to_json(stuck))
    status = flow.load_status(as_user("carol", lease_ms=0), MODEL)
    (step,) = status.interrupted
    assert (
        step.stale
        and step.actor == "bob"
        and "Interrupted: bob approving request r9" in (step.sentence)
    )
    assert status.overview.unfinished_steps  # the registry overview says it too


# -- reads -------------------------------------------------------------------------------------


def test_inbox_notifications_and_holder_at(registry, as_user, clock) -> None:
    request_id = _requested(as_user)
    assert [r.request_id for r in flow.requests_awaiting(registry, "bob")] == [request_id]
    assert flow.requests_awaiting(registry, "alice") == []
    before = clock.ms
    outcome = flow.approve_request(as_user("bob"), request_id)
    assert flow.requests_awaiting(registry, "carol") == []
    moves = flow.applied_since(registry, before)
    assert [(e.action, e.version) for e in moves] == [("applied", "2")]
    applied_at = moves[0].time_ms
    assert flow.holder_at(registry, MODEL, "champion", applied_at).version == "2"
    answer = flow.holder_at(registry, MODEL, "champion", applied_at - 1)
    assert answer.version is None  # champion was set outside the workflow before: unknown
    assert outcome.events[-1].time_ms == applied_at


def test_status_checks_the_gates_of_each_pending_request(registry, as_user) -> None:
    _requested(as_user, "3")
    (review,) = flow.load_status(as_user("bob"), MODEL).reviews
    assert review.gates is not None
    outcomes = {r.name: r.outcome.value for r in review.gates.results}
    assert outcomes == {"compare:val_auc": "failed", "tag:validation_status": "failed"}
    assert review.gates.holder_version == "1"


def test_a_broken_policy_blocks_approval_and_is_reported(registry, as_user, gates_dir) -> None:
    request_id = _requested(as_user)
    (gates_dir / f"{MODEL}.toml").write_text("[[compare]]\nmetrc = 'val_auc'\n")
    (review,) = flow.load_status(as_user("bob"), MODEL).reviews
    assert review.gates is None and "unknown key 'metrc'" in review.gate_error
    with pytest.raises(flow.GatePolicyError, match="unknown key 'metrc'"):
        flow.approve_request(as_user("bob"), request_id)
    assert registry.lock_tags() == []


def test_a_read_only_workspace_refuses_every_change() -> None:
    class Bundle:
        label = "bundle.mlbundle"
        location = "/tmp/bundle.mlbundle"

    ctx = flow.PromotionContext(Bundle(), "bob")  # type: ignore[arg-type]
    with pytest.raises(flow.ReadOnlyWorkspace, match="read-only"):
        flow.rollback_alias(ctx, MODEL, "champion", "why")


def test_audit_details_are_hashed_and_old_events_hash_as_before() -> None:
    plain = audit.append_event(
        None, time_ms=1, actor="a", action="applied", model_name=MODEL, version="1", alias="c"
    )
    legacy = audit.event_hash(
        audit.GENESIS,
        seq=1,
        time_ms=1,
        actor="a",
        action="applied",
        model_name=MODEL,
        version="1",
        alias="c",
        comment="",
    )
    assert plain.hash == legacy
    detailed = audit.append_event(
        None,
        time_ms=1,
        actor="a",
        action="approved",
        model_name=MODEL,
        version="1",
        alias="c",
        details={"override.drift": "reason"},
    )
    assert audit.verify_chain([detailed]) == []
    edited = dataclasses.replace(detailed, details={"override.drift": "another reason"})
    assert "changed after it was recorded" in audit.verify_chain([edited])[0]
    assert audit.event_from_json(audit.event_to_json(detailed)) == detailed
