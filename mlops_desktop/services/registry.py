"""The model registry at a glance: each registered model with its versions, requests and audit.

`load_registry` reads every registered model of a tracking backend and returns one
`ModelOverview` per model: its versions newest first (aliases filled in from the model, since
MLflow's version search does not return them), the promotion requests still waiting for
someone (`services.promotion`), and its audit chain with the problems `services.audit` finds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from mlops_desktop.backends.tracking import TrackingBackend
from mlops_desktop.domain.promotion import (
    AUDIT_TAG_PREFIX,
    TAG_PREFIX,
    AuditEvent,
    PromotionRequest,
)
from mlops_desktop.domain.registry import ModelVersion, RegisteredModel
from mlops_desktop.services import audit, model_lock, promotion
from mlops_desktop.services.tasks import TaskState

#: The aliases a reviewer reads first, in this order; any other alias follows by name.
PREFERRED_ALIASES = ("champion", "challenger")
#: The version tag a validation pipeline sets ("passed", "failed"); the versions table
#: gives it a column of its own.
VALIDATION_TAG = "validation_status"
#: Tag prefixes the app writes for its own bookkeeping, shown elsewhere than among the tags.
_INTERNAL_TAG_PREFIXES = (TAG_PREFIX, AUDIT_TAG_PREFIX, "mlflow.")


@dataclass(frozen=True)
class AuditStatus:
    """A model's audit chain as read from its tags, and what is wrong with it."""

    events: tuple[AuditEvent, ...]  # ordered by seq
    problems: tuple[str, ...]  # one sentence each; empty when the chain is intact

    @property
    def intact(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class ModelOverview:
    """One registered model with everything the Models and Audit views show about it."""

    model: RegisteredModel
    versions: tuple[ModelVersion, ...]  # newest first, each with its aliases
    pending: tuple[PromotionRequest, ...]  # requested or approved, oldest first
    audit: AuditStatus
    #: Promotion tags that could not be read (one sentence each): the request is invisible.
    request_problems: tuple[str, ...] = ()
    #: Aliases the registry and the audit chain disagree on (one sentence each).
    alias_mismatches: tuple[str, ...] = ()
    #: Promotion steps in progress, or interrupted and waiting to be completed or undone
    #: (one sentence each; services/model_lock.py).
    unfinished_steps: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def aliases(self) -> tuple[tuple[str, str], ...]:
        """(alias, version) pairs, champion and challenger first."""
        return tuple(
            (alias, self.model.aliases[alias]) for alias in sort_aliases(self.model.aliases)
        )

    @property
    def alias_names(self) -> tuple[str, ...]:
        """Every alias the model has now or the audit chain ever moved, preferred ones first."""
        names = set(self.model.aliases) | {e.alias for e in self.audit.events if e.alias}
        return sort_aliases(names)

    def version(self, number: str) -> ModelVersion | None:
        return next((v for v in self.versions if v.version == number), None)


def sort_aliases(aliases: Mapping[str, str] | set[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Champion, challenger, then every other alias alphabetically."""

    def key(alias: str) -> tuple[int, str]:
        rank = (
            PREFERRED_ALIASES.index(alias) if alias in PREFERRED_ALIASES else len(PREFERRED_ALIASES)
        )
        return rank, alias

    return tuple(sorted(aliases, key=key))


def version_sort_key(version: ModelVersion) -> tuple[int, str]:
    """MLflow versions are decimal strings: sort "10" after "9", anything else last."""
    return (int(version.version), "") if version.version.isdigit() else (-1, version.version)


def visible_tags(version: ModelVersion) -> dict[str, str]:
    """A version's own tags (validation status, dataset...), without the app's bookkeeping."""
    return {
        key: value
        for key, value in sorted(version.tags.items())
        if not key.startswith(_INTERNAL_TAG_PREFIXES)
    }


def visible_model_tags(model: RegisteredModel) -> dict[str, str]:
    """A model's own tags (owner, team...), without the audit chain and other bookkeeping."""
    return {
        key: value
        for key, value in sorted(model.tags.items())
        if not key.startswith(_INTERNAL_TAG_PREFIXES)
    }


def with_aliases(versions: list[ModelVersion], model: RegisteredModel) -> list[ModelVersion]:
    """The versions newest first, each carrying the aliases the model points at it."""
    aliases_of: dict[str, list[str]] = {}
    for alias, number in model.aliases.items():
        aliases_of.setdefault(number, []).append(alias)
    ordered = sorted(versions, key=version_sort_key, reverse=True)
    return [
        dataclasses.replace(
            version, aliases=sort_aliases(tuple(aliases_of.get(version.version, ())))
        )
        for version in ordered
    ]


def alias_mismatches(model: RegisteredModel, events: list[AuditEvent]) -> list[str]:
    """Where an alias points elsewhere than the chain's last move put it: moved off-workflow.

    A model with no audit events is not under the promotion workflow, so nothing is reported.
    """
    if not events:
        return []
    latest = max(event.time_ms for event in events)
    problems = []
    chain_aliases = {e.alias for e in events if e.alias}
    for alias in sort_aliases(set(model.aliases) | chain_aliases):
        recorded = audit.alias_holder_at(events, alias, latest)
        actual = model.aliases.get(alias)
        if recorded == actual:
            continue
        now = f"version {actual}" if actual else "no version"
        last = f"version {recorded}" if recorded else "no version"
        problems.append(
            f"The registry gives {alias} to {now}, but the audit chain's last move gave it to "
            f"{last}: the alias was changed outside the promotion workflow."
        )
    return problems


def overview_of(
    model: RegisteredModel, versions: list[ModelVersion], now_ms: int | None = None
) -> ModelOverview:
    """Put one model's data together; pure but for the clock (`now_ms` fixes it), so the
    views' tests can build one by hand."""
    full = with_aliases(versions, model)
    events = audit.read_chain(model)
    return ModelOverview(
        model=model,
        versions=tuple(full),
        pending=tuple(promotion.pending_requests(full)),
        audit=AuditStatus(tuple(events), tuple(audit.verify_model_chain(model))),
        request_problems=tuple(promotion.malformed_request_tags(full)),
        alias_mismatches=tuple(alias_mismatches(model, events)),
        unfinished_steps=tuple(
            model_lock.describe_locks(
                model,
                model_lock.wall_clock_ms() if now_ms is None else now_ms,
                model_lock.DEFAULT_LEASE_MS,
            )
        ),
    )


def load_model(tracking: TrackingBackend, name: str, state: TaskState) -> ModelOverview:
    """One registered model, read fresh (tags and aliases come with `get_registered_model`)."""
    state.check()
    model = tracking.get_registered_model(name)
    state.check()
    versions = tracking.search_model_versions(name)
    return overview_of(model, versions)


def load_registry(tracking: TrackingBackend, state: TaskState) -> list[ModelOverview]:
    """Every registered model of the backend, by name, with versions, requests and audit."""
    state.progress(-1, "Listing registered models")
    names = sorted(model.name for model in tracking.search_registered_models())
    overviews = []
    for number, name in enumerate(names):
        state.progress(number / len(names), f"Reading {name}")
        overviews.append(load_model(tracking, name, state))
    return overviews
