"""The promotion workflow against a real MLflow server: the whole cycle, four-eyes, overrides,
two approvers at once, a server stopped between steps, and the audit chain checked on read.

Each test seeds its own model on the session's server (tests/harness/promotion_seed.py);
the tests that stop a server start their own through `mlflow_server_factory`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from mlops_desktop.backends.errors import ConnectionFailed, NotFound
from mlops_desktop.backends.mlflow_rest import MlflowRestBackend
from mlops_desktop.backends.registry_writer import RegistryWriter
from mlops_desktop.domain.promotion import PromotionState
from mlops_desktop.services import audit, model_lock, promotion
from mlops_desktop.services import promotion_flow as flow
from mlops_desktop.services.model_lock import FlowSettings
from tests.harness.mlflow_servers import MlflowServer, ServerFactory
from tests.harness.promotion_seed import SeededModel, seed_model

pytestmark = pytest.mark.integration


@pytest.fixture
def backends(mlflow_server: MlflowServer) -> Iterator[Callable[[], MlflowRestBackend]]:
    """New clients of the session's server (one session each, like separate apps)."""
    made: list[MlflowRestBackend] = []

    def make() -> MlflowRestBackend:
        backend = MlflowRestBackend(mlflow_server.url, label="test server")
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.close()


@pytest.fixture
def seeded(mlflow_server: MlflowServer, tmp_path: Path) -> SeededModel:
    return seed_model(mlflow_server.url, tmp_path)


def _ctx(
    backend: MlflowRestBackend, actor: str, seeded: SeededModel, **settings: float
) -> flow.PromotionContext:
    return flow.PromotionContext(
        backend,
        actor,
        seeded.gates_dir,
        settings=FlowSettings(**settings),  # type: ignore[arg-type]
    )


def _model_state(backend: MlflowRestBackend, name: str) -> tuple[object, ...]:
    """Everything the workflow could change on the server: model tags and aliases, every
    version's tags."""
    model = backend.get_registered_model(name)
    versions = {v.version: dict(v.tags) for v in backend.search_model_versions(name)}
    return dict(model.tags), dict(model.aliases), versions


# -- the writer ------------------------------------------------------------------------------


def test_the_rest_backend_writes_tags_and_aliases(backends, seeded) -> None:
    backend = backends()
    assert isinstance(backend, RegistryWriter)
    name = seeded.name
    backend.set_model_version_tag(name, "2", "note", "hello")
    backend.set_registered_model_tag(name, "owner", "ml-team")
    backend.set_alias(name, "challenger", "2")
    version = backend.get_model_version(name, "2")
    assert version.tags["note"] == "hello" and version.aliases == ("challenger",)
    assert version.run_id == seeded.run_ids[1]
    backend.delete_model_version_tag(name, "2", "note")
    backend.delete_model_version_tag(name, "2", "note")  # already gone: not an error
    backend.delete_registered_model_tag(name, "owner")
    backend.delete_registered_model_tag(name, "owner")
    backend.delete_alias(name, "challenger")
    backend.delete_alias(name, "challenger")
    model = backend.get_registered_model(name)
    assert "owner" not in model.tags and model.aliases == {"champion": "1"}
    assert "note" not in backend.get_model_version(name, "2").tags
    with pytest.raises(NotFound):
        backend.get_model_version(name, "99")


# -- the whole cycle ---------------------------------------------------------------------------


def test_request_gates_approve_rollback_and_the_history(backends, seeded) -> None:
    alice, bob, carol = (_ctx(backends(), who, seeded) for who in ("alice", "bob", "carol"))
    name = seeded.name

    requested = flow.request_promotion(alice, name, "2", "champion", "AUC +0.02.")
    assert requested.request is not None
    request_id = requested.request.request_id
    waiting = flow.requests_awaiting(bob.tracking, "bob")  # the server is shared: other models too
    assert [r.request_id for r in waiting if r.model_name == name] == [request_id]
    assert all(r.requester != "bob" for r in waiting)

    status = flow.load_status(bob, name)
    (review,) = status.reviews
    assert review.gates is not None and review.gates.all_passed
    assert {r.name: r.outcome.value for r in review.gates.results} == {
        "compare:val_auc": "passed",
        "compare:latency_ms": "passed",
        "tag:validation_status": "passed",
    }
    assert "the champion, version 1, has 0.9" in review.gates.results[0].evidence

    approved = flow.approve_request(bob, request_id, "Gates pass.")
    assert approved.applied and approved.previous_version == "1"
    fresh = backends()  # another client sees the same registry
    assert fresh.get_registered_model(name).aliases["champion"] == "2"
    stored = promotion.request_on(fresh.get_model_version(name, "2"), request_id)
    assert stored is not None and stored.state is PromotionState.APPLIED
    assert (stored.decided_by, stored.previous_version) == ("bob", "1")

    rolled = flow.rollback_alias(carol, name, "champion", "INC-7: error rate.")
    assert (rolled.version, rolled.previous_version) == ("1", "2")
    assert fresh.get_registered_model(name).aliases["champion"] == "1"
    stored = promotion.request_on(fresh.get_model_version(name, "2"), request_id)
    assert stored is not None and stored.state is PromotionState.ROLLED_BACK

    history = flow.load_history(fresh, name)
    assert history.intact
    assert [(e.action, e.actor, e.version) for e in history.events] == [
        ("requested", "alice", "2"),
        ("approved", "bob", "2"),
        ("applied", "bob", "2"),
        ("rolled_back", "carol", "1"),
    ]
    applied_ms, rolled_ms = history.events[2].time_ms, history.events[3].time_ms
    assert flow.holder_at(fresh, name, "champion", applied_ms).version == "2"
    assert flow.holder_at(fresh, name, "champion", rolled_ms - 1).version == "2"
    back = flow.holder_at(fresh, name, "champion", rolled_ms)
    assert back.version == "1" and "carol rolled it back" in back.sentence
    assert [
        e.action for e in flow.applied_since(fresh, applied_ms - 1) if e.model_name == name
    ] == [
        "applied",
        "rolled_back",
    ]
    assert model_lock.read_intents(fresh.get_registered_model(name)) == []


def test_the_requester_cannot_approve_and_nothing_changes(backends, seeded) -> None:
    alice = _ctx(backends(), "alice", seeded)
    request = flow.request_promotion(alice, seeded.name, "2", "champion", "mine").request
    assert request is not None
    before = _model_state(alice.tracking, seeded.name)  # type: ignore[arg-type]
    with pytest.raises(flow.FourEyesRefused, match="another person must approve it"):
        flow.approve_request(alice, request.request_id)
    assert _model_state(alice.tracking, seeded.name) == before  # type: ignore[arg-type]


def test_a_gate_override_is_recorded_in_the_request_and_the_chain(backends, seeded) -> None:
    alice, bob = _ctx(backends(), "alice", seeded), _ctx(backends(), "bob", seeded)
    request = flow.request_promotion(alice, seeded.name, "3", "champion", "Best AUC.").request
    assert request is not None
    with pytest.raises(flow.GatesNotPassed) as caught:
        flow.approve_request(bob, request.request_id)
    assert {r.name for r in caught.value.failing} == {
        "compare:latency_ms",
        "tag:validation_status",
    }
    reasons = {
        "compare:latency_ms": "Batch scoring only: latency does not matter.",
        "tag:validation_status": "Validation failed on a flaky fixture, re-run by hand.",
    }
    outcome = flow.approve_request(bob, request.request_id, "Overriding.", overrides=reasons)
    assert outcome.applied
    history = flow.load_history(bob.tracking, seeded.name)
    approved = next(e for e in history.events if e.action == "approved")
    assert approved.overrides == reasons
    assert approved.details["gate.compare:latency_ms"].startswith("failed: Version 3 has")
    assert history.intact
    stored = promotion.request_on(
        bob.tracking.get_model_version(seeded.name, "3"),  # type: ignore[attr-defined]
        request.request_id,
    )
    assert stored is not None and dict(stored.overrides) == reasons


# -- two approvers at once -------------------------------------------------------------------


@pytest.mark.parametrize("round_number", range(3))
def test_two_concurrent_approvals_apply_once(backends, seeded, round_number: int) -> None:
    name = seeded.name
    alice = _ctx(backends(), "alice", seeded)
    request = flow.request_promotion(alice, name, "2", "champion", "race").request
    assert request is not None
    approvers = {who: _ctx(backends(), who, seeded) for who in ("bob", "carol")}
    start = threading.Barrier(len(approvers))
    results: dict[str, object] = {}

    def approve(who: str) -> None:
        start.wait()
        try:
            results[who] = flow.approve_request(approvers[who], request.request_id, model_name=name)
        except Exception as error:  # recorded for the assertions below
            results[who] = error

    threads = [threading.Thread(target=approve, args=(who,)) for who in approvers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    applied = {who: r for who, r in results.items() if isinstance(r, flow.PromotionOutcome)}
    refused = {who: r for who, r in results.items() if isinstance(r, flow.AlreadyDecided)}
    assert len(applied) == 1 and len(refused) == 1, results
    (winner,) = applied
    (loser_error,) = refused.values()
    assert f"already approved by {winner} at " in str(loser_error)
    history = flow.load_history(alice.tracking, name)
    assert history.intact
    assert [e.action for e in history.events] == ["requested", "approved", "applied"]
    assert model_lock.read_intents(alice.tracking.get_registered_model(name)) == []


def test_the_lock_lets_one_of_many_clients_in_at_a_time(backends, seeded) -> None:
    """Eight clients race for the same model's lock: each takes it once, never two at once."""
    name = seeded.name
    clients = [backends() for _ in range(8)]
    settings = FlowSettings(wait_s=60.0)
    holders: list[int] = []
    overlaps: list[tuple[int, int]] = []
    start = threading.Barrier(len(clients))

    def take(number: int) -> None:
        client = clients[number]
        intent = model_lock.Intent(model_lock.new_nonce(), "test", f"c{number}", 0, name)
        start.wait()
        held = model_lock.acquire(client, client, intent, settings)
        holders.append(number)
        if len(holders) > 1:
            overlaps.append((holders[0], number))
        client.get_registered_model(name)  # hold it for one round trip
        holders.remove(number)
        model_lock.release(client, held.intent)

    threads = [threading.Thread(target=take, args=(n,)) for n in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert overlaps == []
    assert model_lock.read_intents(clients[0].get_registered_model(name)) == []


# -- the audit chain on the server -------------------------------------------------------------


def test_the_chain_reports_an_edited_and_a_deleted_event(
    backends, seeded, mlflow_server: MlflowServer
) -> None:
    alice, bob = _ctx(backends(), "alice", seeded), _ctx(backends(), "bob", seeded)
    request = flow.request_promotion(alice, seeded.name, "2", "champion", "x").request
    assert request is not None
    flow.approve_request(bob, request.request_id)
    url = f"{mlflow_server.url}/api/2.0/mlflow/registered-models/"
    model = bob.tracking.get_registered_model(seeded.name)
    key = audit.audit_tag_key(2)
    tampered = model.tags[key].replace('"actor":"bob"', '"actor":"mallory"')
    requests.post(
        url + "set-tag", json={"name": seeded.name, "key": key, "value": tampered}, timeout=30
    ).raise_for_status()
    history = flow.load_history(bob.tracking, seeded.name)
    assert history.problems == (
        "Event 2 (mallory approved version 2 as champion) was changed after it was recorded: "
        "its content no longer matches its hash.",
    )
    with pytest.raises(flow.PromotionRefused, match="damaged"):
        flow.rollback_alias(bob, seeded.name, "champion", "why")

    requests.post(
        url + "set-tag",
        json={"name": seeded.name, "key": key, "value": model.tags[key]},
        timeout=30,
    ).raise_for_status()
    requests.delete(
        url + "delete-tag", json={"name": seeded.name, "key": key}, timeout=30
    ).raise_for_status()
    history = flow.load_history(bob.tracking, seeded.name)
    assert history.problems == ("Event 2 is missing from the audit chain.",)
    answer = flow.holder_at(bob.tracking, seeded.name, "champion", int(time.time() * 1000))
    assert answer.version == "2" and "may be wrong" in answer.sentence


# -- a server stopped between steps ------------------------------------------------------------


class StopsMidway(MlflowRestBackend):
    """The real REST backend, with the server stopped at one chosen write (the test's cue)."""

    def __init__(self, server: MlflowServer, stop_at: str) -> None:
        super().__init__(server.url, label="stopping server")
        self.server = server
        self.stop_at = stop_at
        self.audit_writes = 0

    def set_alias(self, model_name: str, alias: str, version: str) -> None:
        if self.stop_at == "before the alias moves":
            self.server.stop()
        super().set_alias(model_name, alias, version)
        if self.stop_at == "after the alias moved":
            self.server.stop()

    def set_registered_model_tag(self, model_name: str, key: str, value: str) -> None:
        super().set_registered_model_tag(model_name, key, value)
        if key.startswith("mlops.audit.") and self.stop_at == "between the audit events":
            self.server.stop()


@pytest.mark.parametrize(
    ("stop_at", "alias_after", "events_after", "repair_words"),
    [
        (
            "after the alias moved",
            "2",
            ["requested", "approved", "applied"],
            "Completed bob's approval of request",
        ),
        (
            "between the audit events",
            "2",
            ["requested", "approved", "applied"],
            "Completed bob's approval of request",
        ),
        (
            "before the alias moves",
            "1",
            ["requested"],
            "Dropped bob's approval of request",
        ),
    ],
)
def test_a_server_stopped_between_steps_is_repaired_on_the_next_step(
    mlflow_server_factory: ServerFactory,
    tmp_path: Path,
    stop_at: str,
    alias_after: str,
    events_after: list[str],
    repair_words: str,
) -> None:
    store, artifacts = tmp_path / "mlflow.db", tmp_path / "artifacts"
    server = mlflow_server_factory(store, artifacts)
    seeded = seed_model(server.url, tmp_path / "gates")
    alice = MlflowRestBackend(server.url, label="first")
    request = flow.request_promotion(
        _ctx(alice, "alice", seeded), seeded.name, "2", "champion", "x"
    ).request
    assert request is not None
    alice.close()

    stopping = StopsMidway(server, stop_at)
    with pytest.raises(flow.PromotionInterrupted) as caught:
        flow.approve_request(_ctx(stopping, "bob", seeded), request.request_id, "Go.")
    stopping.close()
    message = str(caught.value)
    assert "refused the connection" in message and "completes or undoes the step" in message
    if stop_at == "before the alias moves":
        assert "not known whether that happened" in message
    else:
        assert "moved champion to version 2" in message
    with pytest.raises(ConnectionFailed):
        MlflowRestBackend(server.url, label="down").get_registered_model(seeded.name)

    restarted = mlflow_server_factory(store, artifacts)
    backend = MlflowRestBackend(restarted.url, label="restarted")
    carol = _ctx(backend, "carol", seeded, lease_ms=0)
    model = backend.get_registered_model(seeded.name)
    assert model.aliases["champion"] == ("1" if stop_at == "before the alias moves" else "2")
    (unfinished,) = flow.load_status(carol, seeded.name).interrupted
    assert unfinished.stale and unfinished.actor == "bob"

    repairs = flow.repair_model(carol, seeded.name)
    assert len(repairs) == 1 and repairs[0].startswith(repair_words), repairs
    model = backend.get_registered_model(seeded.name)
    assert model.aliases["champion"] == alias_after
    history = flow.load_history(backend, seeded.name)
    assert [e.action for e in history.events] == events_after and history.intact
    assert all(e.actor == "bob" for e in history.events[1:])
    assert model_lock.read_intents(model) == []
    state = promotion.request_on(backend.get_model_version(seeded.name, "2"), request.request_id)
    assert state is not None
    if alias_after == "2":
        assert state.state is PromotionState.APPLIED and state.decided_by == "bob"
        with pytest.raises(flow.AlreadyDecided, match="already approved by bob"):
            flow.approve_request(carol, request.request_id)
    else:
        assert state.state is PromotionState.REQUESTED
        outcome = flow.approve_request(carol, request.request_id, "Second try.")
        assert outcome.applied and outcome.repairs == ()
    backend.close()
