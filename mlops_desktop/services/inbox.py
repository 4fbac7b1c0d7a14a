"""The inbox: promotion requests awaiting the current user, each with its gates already checked.

"Awaiting" is the engine's rule (`promotion_flow.requests_awaiting`: pending and not requested
by the user, so four-eyes holds); the gates are checked here, up front, so the Models view can
offer Approve in one click exactly when every gate passes. A gate that cannot be checked
(unreadable policy, unreachable run) leaves its request in the inbox with the reason, and
without the one-click approve.

Also `promotion_context`, which builds the engine's context for a workspace (the profile is read
from disk, so it runs on a worker too), and `my_applied_requests`, the requests of the user that
were applied since the previous look, for the "your promotion was applied" notification.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mlops_desktop.backends.errors import BackendError
from mlops_desktop.backends.tracking import TrackingBackend
from mlops_desktop.domain.promotion import PromotionRequest, PromotionState
from mlops_desktop.services.gates import GateReport
from mlops_desktop.services.paths import AppPaths
from mlops_desktop.services.profiles import ProfileStore
from mlops_desktop.services.promotion import read_requests
from mlops_desktop.services.promotion_flow import (
    PromotionContext,
    check_request_gates,
    context_for,
    requests_awaiting,
    rollback_plan,
)
from mlops_desktop.services.registry import ModelOverview
from mlops_desktop.services.tasks import TaskState
from mlops_desktop.services.workspace import Workspace


@dataclass(frozen=True)
class InboxEntry:
    request: PromotionRequest
    gates: GateReport | None  # None when they could not be checked
    gate_error: str = ""  # why they could not be checked, one sentence

    @property
    def one_click(self) -> bool:
        """Approve without opening the approval page: every gate was checked and passes."""
        return self.gates is not None and self.gates.all_passed


@dataclass(frozen=True)
class Inbox:
    user: str
    entries: tuple[InboxEntry, ...]  # oldest request first

    def __len__(self) -> int:
        return len(self.entries)


def promotion_context(
    paths: AppPaths, profiles: ProfileStore, workspace: Workspace, state: TaskState
) -> PromotionContext:
    """The engine's context for `workspace`: who acts, where the gate policies are."""
    profile = profiles.get(workspace.profile_id) if workspace.profile_id else None
    state.check()
    return context_for(workspace, paths, profile)


def load_inbox(ctx: PromotionContext, state: TaskState) -> Inbox:
    """Every request awaiting `ctx.actor`, with its gates checked (a worker task)."""
    state.progress(-1, "Looking for requests awaiting you")
    requests = requests_awaiting(ctx.tracking, ctx.actor)
    entries = []
    for number, request in enumerate(requests):
        state.check()
        state.progress(
            number / max(1, len(requests)), f"Checking the gates of {request.model_name}"
        )
        try:
            entries.append(InboxEntry(request, check_request_gates(ctx, request)))
        except BackendError as error:
            entries.append(InboxEntry(request, None, str(error)))
    return Inbox(ctx.actor, tuple(entries))


def review_gates(ctx: PromotionContext, request: PromotionRequest, state: TaskState) -> GateReport:
    """The gates of `request` as they stand now: `check_request_gates` as a worker task."""
    state.progress(-1, f"Checking the gates of {request.model_name} version {request.version}")
    return check_request_gates(ctx, request)


def open_inbox(
    paths: AppPaths, profiles: ProfileStore, workspace: Workspace, state: TaskState
) -> tuple[PromotionContext, Inbox]:
    """`promotion_context` then `load_inbox`, as one worker task."""
    ctx = promotion_context(paths, profiles, workspace, state)
    return ctx, load_inbox(ctx, state)


def request_states(overviews: Iterable[ModelOverview]) -> dict[str, PromotionState]:
    """request id -> state, across every model: what `my_applied_requests` compares."""
    return {
        request.request_id: request.state
        for overview in overviews
        for request in read_requests(overview.versions)
    }


def my_applied_requests(
    before: Mapping[str, PromotionState], overviews: Iterable[ModelOverview], user: str
) -> list[PromotionRequest]:
    """The user's requests that were pending in `before` and are applied now."""
    applied = []
    for overview in overviews:
        for request in read_requests(overview.versions):
            was = before.get(request.request_id)
            if (
                request.requester == user
                and request.state is PromotionState.APPLIED
                and was is not None
                and was is not PromotionState.APPLIED
            ):
                applied.append(request)
    return applied


@dataclass(frozen=True)
class RollbackChoice:
    """What a rollback of `alias` would do, for the button label and its confirmation."""

    alias: str
    possible: bool  # False: the engine would refuse now (`sentence` says why)
    target: str | None  # the version it would restore; None: the alias would be removed
    sentence: str  # the engine's preview, or why a rollback is not possible


def load_rollback_choices(
    tracking: TrackingBackend, model_name: str, aliases: Iterable[str], state: TaskState
) -> dict[str, RollbackChoice]:
    """The engine's rollback preview for each alias of the model (a worker task)."""
    choices = {}
    for alias in aliases:
        state.check()
        try:
            plan = rollback_plan(tracking, model_name, alias)
        except BackendError as error:
            choices[alias] = RollbackChoice(alias, False, None, str(error))
            continue
        choices[alias] = RollbackChoice(alias, not plan.problem, plan.target, plan.sentence)
    return choices


def same_person(a: str, b: str) -> bool:
    """The engine's four-eyes comparison of user names (case and spaces do not matter)."""
    return a.strip().casefold() == b.strip().casefold()
