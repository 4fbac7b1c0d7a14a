"""services.registry: model overviews (versions, aliases, pending requests, audit) headless."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from mlops_desktop.backends.errors import NotFound
from mlops_desktop.domain.promotion import AuditEvent, PromotionRequest, PromotionState
from mlops_desktop.domain.registry import ModelVersion, RegisteredModel
from mlops_desktop.services import audit, promotion
from mlops_desktop.services.registry import (
    alias_mismatches,
    load_registry,
    overview_of,
    sort_aliases,
    visible_model_tags,
    visible_tags,
)
from mlops_desktop.services.tasks import Cancelled, TaskState

MODEL = "churn"
T0 = 1_764_000_000_000


def chain(*moves: tuple[str, str, str]) -> list[AuditEvent]:
    """Audit events for (action, version, alias) moves, one minute apart."""
    events: list[AuditEvent] = []
    for minute, (action, version, alias) in enumerate(moves):
        events.append(
            audit.append_event(
                events[-1] if events else None,
                time_ms=T0 + minute * 60_000,
                actor="alice" if action == "requested" else "bob",
                action=action,
                model_name=MODEL,
                version=version,
                alias=alias,
            )
        )
    return events


def registered(aliases: dict[str, str], events: Sequence[AuditEvent] = ()) -> RegisteredModel:
    tags = {
        "team": "growth",
        **{audit.audit_tag_key(e.seq): audit.event_to_json(e) for e in events},
    }
    return RegisteredModel(MODEL, "Predicts churn.", tags=tags, aliases=aliases)


def request_tags(version: str, state: PromotionState, request_id: str) -> dict[str, str]:
    request = PromotionRequest(
        request_id, MODEL, version, "champion", "alice", "please", state, T0 + int(version)
    )
    return {promotion.request_tag_key(request_id): promotion.request_tag_value(request)}


def version(number: str, **tags: str) -> ModelVersion:
    return ModelVersion(MODEL, number, f"run{number}", f"models:/{number}", tags=tags)


STANDARD_CHAIN = (
    ("requested", "1", "champion"),
    ("approved", "1", "champion"),
    ("applied", "1", "champion"),
    ("applied", "2", "challenger"),
)


class FakeTracking:
    """Just the registry part of a TrackingBackend, in memory."""

    label = "fake"
    location = "memory"

    def __init__(self, models: dict[str, tuple[RegisteredModel, list[ModelVersion]]]) -> None:
        self.models = models

    def search_registered_models(self) -> list[RegisteredModel]:
        return [model for model, _ in self.models.values()]

    def get_registered_model(self, name: str) -> RegisteredModel:
        if name not in self.models:
            raise NotFound(f"There is no registered model {name}.")
        return self.models[name][0]

    def search_model_versions(self, model_name: str) -> list[ModelVersion]:
        return list(self.models[model_name][1])


def test_versions_come_newest_first_with_the_aliases_of_the_model():
    versions = [version(n) for n in ("9", "10", "1", "2")]
    overview = overview_of(registered({"champion": "9", "challenger": "10"}), versions)
    assert [v.version for v in overview.versions] == ["10", "9", "2", "1"]
    assert overview.versions[0].aliases == ("challenger",)
    assert overview.versions[1].aliases == ("champion",)
    assert overview.version("2") is not None and overview.version("2").aliases == ()
    assert overview.aliases == (("champion", "9"), ("challenger", "10"))


def test_champion_and_challenger_sort_before_other_aliases():
    assert sort_aliases({"zeta", "challenger", "alpha", "champion"}) == (
        "champion",
        "challenger",
        "alpha",
        "zeta",
    )


def test_pending_requests_are_read_from_version_tags_and_decided_ones_left_out():
    versions = [
        version("1", **request_tags("1", PromotionState.APPLIED, "aa01")),
        version("2", **request_tags("2", PromotionState.REQUESTED, "bb02")),
        version("3", **request_tags("3", PromotionState.REJECTED, "cc03")),
    ]
    overview = overview_of(registered({"champion": "1"}), versions)
    assert [(r.version, r.request_id, r.requester) for r in overview.pending] == [
        ("2", "bb02", "alice")
    ]


def test_an_unreadable_request_tag_is_reported_not_hidden():
    versions = [version("1", **{"mlops.promotion.request.dd04": "{not json"})]
    overview = overview_of(registered({}), versions)
    assert overview.pending == ()
    assert len(overview.request_problems) == 1
    assert "mlops.promotion.request.dd04" in overview.request_problems[0]


def test_an_intact_chain_is_reported_intact_with_its_events():
    events = chain(*STANDARD_CHAIN)
    overview = overview_of(registered({"champion": "1", "challenger": "2"}, events), [])
    assert overview.audit.intact
    assert overview.audit.events == tuple(events)
    assert overview.alias_mismatches == ()
    assert overview.alias_names == ("champion", "challenger")


def test_an_edited_event_breaks_the_chain():
    events = chain(*STANDARD_CHAIN)
    model = registered({"champion": "1", "challenger": "2"}, events)
    key = audit.audit_tag_key(2)
    tags = dict(model.tags)
    tags[key] = tags[key].replace('"actor":"bob"', '"actor":"mallory"')
    overview = overview_of(RegisteredModel(MODEL, tags=tags, aliases=model.aliases), [])
    assert not overview.audit.intact
    assert any("Event 2" in problem for problem in overview.audit.problems)


def test_an_alias_moved_outside_the_workflow_is_reported():
    events = chain(*STANDARD_CHAIN)
    overview = overview_of(registered({"champion": "3", "challenger": "2"}, events), [])
    assert overview.audit.intact
    assert len(overview.alias_mismatches) == 1
    assert "champion" in overview.alias_mismatches[0]
    assert "version 3" in overview.alias_mismatches[0]
    assert "version 1" in overview.alias_mismatches[0]


def test_a_model_without_audit_events_is_not_checked_for_alias_moves():
    assert alias_mismatches(registered({"champion": "1"}), []) == []


def test_bookkeeping_tags_are_kept_out_of_the_visible_tags():
    v = version("1", validation_status="passed", **request_tags("1", PromotionState.APPLIED, "e5"))
    assert visible_tags(v) == {"validation_status": "passed"}
    model = registered({}, chain(*STANDARD_CHAIN))
    assert visible_model_tags(model) == {"team": "growth"}


def test_load_registry_reads_every_model_by_name():
    fake = FakeTracking(
        {
            "zebra": (RegisteredModel("zebra"), [ModelVersion("zebra", "1", "r", "s")]),
            MODEL: (registered({"champion": "1"}), [version("1"), version("2")]),
        }
    )
    overviews = load_registry(fake, TaskState())
    assert [o.name for o in overviews] == [MODEL, "zebra"]
    assert [len(o.versions) for o in overviews] == [2, 1]


def test_load_registry_stops_when_cancelled():
    fake = FakeTracking({MODEL: (registered({}), [version("1")])})
    state = TaskState()
    state.cancel()
    with pytest.raises(Cancelled):
        load_registry(fake, state)


# -- on the seeded demo workspace -------------------------------------------------------------


def test_the_demo_registry_has_the_churn_story(demo_workspace):
    from mlops_desktop.services.demo import DEMO_MODEL

    overviews = {o.name: o for o in load_registry(demo_workspace.tracking, TaskState())}
    churn = overviews[DEMO_MODEL]
    assert len(churn.versions) >= 3
    assert churn.versions[0].version == max((v.version for v in churn.versions), key=int)
    holders = {alias: v.version for v in churn.versions for alias in v.aliases}
    assert set(holders) >= {"champion", "challenger"}
    assert holders == dict(churn.model.aliases)
    assert churn.pending, "the demo has a pending promotion request"
    assert churn.pending[0].state is PromotionState.REQUESTED
    assert churn.audit.intact, churn.audit.problems
    assert len(churn.audit.events) >= 5
    assert churn.alias_mismatches == ()
    assert churn.request_problems == ()
