"""Lineage of a registered model: run -> version -> the periods each version held an alias.

The periods come from the audit chain alone (`applied` and `rolled_back` events move an
alias), so the answer is the same on every client and survives a version being deleted.
The Models view's Lineage tab and the audit report both read them from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mlops_desktop.domain.promotion import AuditEvent, PromotionRequest, PromotionState
from mlops_desktop.domain.registry import ModelVersion
from mlops_desktop.services import promotion
from mlops_desktop.services.registry import ModelOverview, sort_aliases

_ALIAS_MOVES = frozenset({PromotionState.APPLIED.value, PromotionState.ROLLED_BACK.value})


@dataclass(frozen=True)
class AliasPeriod:
    """One stretch of time during which `version` held `alias` (`end_ms` None: still holds)."""

    alias: str
    version: str
    start_ms: int
    end_ms: int | None
    actor: str  # who moved the alias onto the version
    action: str  # "applied" or "rolled_back"
    comment: str
    seq: int  # the audit event that started the period

    @property
    def current(self) -> bool:
        return self.end_ms is None


@dataclass(frozen=True)
class VersionLineage:
    """A version with where it came from and every alias it has held or been asked for."""

    version: ModelVersion
    periods: tuple[AliasPeriod, ...]  # oldest first
    requests: tuple[PromotionRequest, ...]  # every request naming this version, oldest first

    @property
    def run_id(self) -> str:
        return self.version.run_id


def alias_periods(events: Sequence[AuditEvent]) -> list[AliasPeriod]:
    """Every alias period the chain records, by alias (preferred first), then oldest first.

    An alias moved off every version (an event with an empty version) ends the period
    without starting another.
    """
    open_period: dict[str, AliasPeriod] = {}
    closed: list[AliasPeriod] = []
    for event in sorted(events, key=lambda e: e.seq):
        if event.action not in _ALIAS_MOVES or not event.alias:
            continue
        previous = open_period.pop(event.alias, None)
        if previous is not None:
            closed.append(_ended(previous, event.time_ms))
        if event.version:
            open_period[event.alias] = AliasPeriod(
                alias=event.alias,
                version=event.version,
                start_ms=event.time_ms,
                end_ms=None,
                actor=event.actor,
                action=event.action,
                comment=event.comment,
                seq=event.seq,
            )
    periods = closed + list(open_period.values())
    order = {alias: rank for rank, alias in enumerate(sort_aliases({p.alias for p in periods}))}
    return sorted(periods, key=lambda p: (order[p.alias], p.seq))


def _ended(period: AliasPeriod, end_ms: int) -> AliasPeriod:
    return AliasPeriod(
        alias=period.alias,
        version=period.version,
        start_ms=period.start_ms,
        end_ms=end_ms,
        actor=period.actor,
        action=period.action,
        comment=period.comment,
        seq=period.seq,
    )


def model_lineage(overview: ModelOverview) -> list[VersionLineage]:
    """Each version of the model, newest first, with its alias periods and its requests."""
    periods = alias_periods(overview.audit.events)
    requests = promotion.read_requests(overview.versions)
    return [
        VersionLineage(
            version=version,
            periods=tuple(
                sorted((p for p in periods if p.version == version.version), key=lambda p: p.seq)
            ),
            requests=tuple(r for r in requests if r.version == version.version),
        )
        for version in overview.versions
    ]
