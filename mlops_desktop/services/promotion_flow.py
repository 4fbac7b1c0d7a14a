"""Promotion use cases: request, approve (which applies), reject, roll back, and repair.

Every step that changes a model goes the same way:

1. it takes the model's lock (`services/model_lock.py`), which also hands it the claims of
   steps that were interrupted, and completes or undoes those first (`repair`);
2. it reads the registry's current state (the model, the version, the request's tag) and
   checks it: four-eyes, the request still pending, the gates, the alias holder;
3. it records its decided intent in its lock, then makes its one *commit* write: the alias
   move for approve and rollback, the request's tag for request and reject;
4. it finishes: the request's new state and its audit events, each written only when it is
   not there yet; re-reads the alias to confirm, and releases the lock.

A step that fails before its commit write has changed nothing but its lock, which it removes
(a `MissingPermission` becomes `PromotionPermissionDenied`: "You lack EDIT on model M"). One
that fails at or after it (the server stopped) raises `PromotionInterrupted`, saying what was
done, and leaves its intent behind. Once the lease of that intent has passed, the next step on
the model (or `repair_model`) looks at the registry: when the commit write is there (the alias
moved, the request tag was written) it completes the step, writing what is missing with the
intent's actor, time and comment; when it is not, it drops the intent, since nothing changed.
So the registry never keeps an alias move without its audit events past the next step, and
the audit chain never records a move that did not happen.

Two approvals of one request at once: both see it pending before taking the lock; the first to
hold the lock applies it; the second then reads the request's tag afresh and is refused with
`AlreadyDecided` ("already approved by bob at ..."). Cancelling (`TaskState`) is honoured until
the lock is taken, never in the middle of a step.
"""

from __future__ import annotations

import contextlib
import dataclasses
import getpass
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mlops_desktop.backends.errors import BackendError, NotFound, PermissionDenied
from mlops_desktop.backends.metrics_source import MetricsSource
from mlops_desktop.backends.registry_writer import MissingPermission, RegistryWriter
from mlops_desktop.backends.tracking import TrackingBackend
from mlops_desktop.domain.connections import Profile
from mlops_desktop.domain.promotion import (
    OVERRIDE_DETAIL_PREFIX,
    AuditEvent,
    PromotionRequest,
    PromotionState,
)
from mlops_desktop.domain.registry import ModelVersion, RegisteredModel
from mlops_desktop.services import audit, model_lock, promotion
from mlops_desktop.services.gates import (
    GatePolicyError,
    GateReport,
    GateResult,
    evaluate_gates,
    gates_dir_for,
    load_policy,
)
from mlops_desktop.services.model_lock import FlowSettings, HeldLock, Intent, ModelBusy, utc_text
from mlops_desktop.services.paths import AppPaths
from mlops_desktop.services.registry import ModelOverview, load_model
from mlops_desktop.services.tasks import TaskState
from mlops_desktop.services.workspace import Workspace

__all__ = [
    "AlreadyDecided",
    "AuditHistory",
    "FlowSettings",
    "FourEyesRefused",
    "GatePolicyError",
    "GatesNotPassed",
    "HolderAnswer",
    "InterruptedStep",
    "ModelBusy",
    "PendingReview",
    "PromotionContext",
    "PromotionInterrupted",
    "PromotionOutcome",
    "PromotionPermissionDenied",
    "PromotionRefused",
    "PromotionStatus",
    "ReadOnlyWorkspace",
    "RequestNotFound",
    "RollbackPlan",
    "actor_for",
    "applied_since",
    "approve_request",
    "check_request_gates",
    "context_for",
    "find_request",
    "holder_at",
    "load_history",
    "load_status",
    "reject_request",
    "repair_model",
    "request_promotion",
    "requests_awaiting",
    "rollback_alias",
    "rollback_plan",
]

#: MLflow's alias rule: letters, digits, `_` and `-`; not `latest`, not `v<number>`.
_ALIAS_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
_RESERVED_ALIAS = re.compile(r"^(latest|v\d+)$", re.IGNORECASE)


# -- errors ------------------------------------------------------------------------------------


class PromotionRefused(BackendError):
    """The registry's current state forbids the step; nothing was changed."""


class FourEyesRefused(PromotionRefused):
    """The approver is the requester."""


class RequestNotFound(PromotionRefused):
    """No promotion request with that id."""


class ReadOnlyWorkspace(PromotionRefused):
    """The workspace cannot change its registry (an opened bundle)."""


class AlreadyDecided(PromotionRefused):
    """The request was approved, rejected or rolled back by someone else first."""

    def __init__(self, message: str, *, state: PromotionState, decided_by: str, decided_ms: int):
        super().__init__(message)
        self.state = state
        self.decided_by = decided_by
        self.decided_ms = decided_ms


class GatesNotPassed(PromotionRefused):
    """Gates failed and no written override reason was given for them."""

    def __init__(self, message: str, failing: tuple[GateResult, ...]) -> None:
        super().__init__(message)
        self.failing = failing


class PromotionPermissionDenied(PermissionDenied):
    """The server refused a write: "You lack EDIT on model M"; nothing was changed."""

    def __init__(self, message: str, *, permission: str, model_name: str) -> None:
        super().__init__(message)
        self.permission = permission
        self.model_name = model_name


class PromotionInterrupted(BackendError):
    """A step stopped half way (the server stopped answering): says what was done and how
    the rest gets done or undone."""

    def __init__(self, message: str, *, done: tuple[str, ...], remaining: str) -> None:
        super().__init__(message)
        self.done = done
        self.remaining = remaining


# -- context and results ------------------------------------------------------------------------


@dataclass(frozen=True)
class PromotionContext:
    """Who acts, on which registry, with which gate policies and monitoring source."""

    tracking: TrackingBackend
    actor: str
    gates_dir: Path | None = None
    metrics: MetricsSource | None = None
    settings: FlowSettings = field(default_factory=FlowSettings)

    @property
    def writer(self) -> RegistryWriter:
        if not isinstance(self.tracking, RegistryWriter):
            raise ReadOnlyWorkspace(
                f"{self.tracking.label} is read-only: promotions need an MLflow server or a "
                "local store."
            )
        return self.tracking


def actor_for(profile: Profile | None) -> str:
    """Who acts: the profile's user name (the server's signed-in user), else the OS user."""
    if profile is not None and profile.username.strip():
        return profile.username.strip()
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no user name in the environment nor the password database
        return "unknown"


def context_for(
    workspace: Workspace,
    paths: AppPaths,
    profile: Profile | None = None,
    gates_dir: Path | None = None,
) -> PromotionContext:
    """The context of a workspace the window or the CLI opened (see `gates_dir_for`)."""
    return PromotionContext(
        tracking=workspace.tracking,
        actor=actor_for(profile),
        gates_dir=gates_dir_for(paths, profile, workspace.kind, gates_dir),
        metrics=workspace.metrics,
    )


@dataclass(frozen=True)
class PromotionOutcome:
    """What a step did, for the status bar and notifications."""

    action: str  # "requested", "approved", "rejected", "rolled_back", "repaired"
    model_name: str
    alias: str
    request: PromotionRequest | None  # as stored after the step
    version: str  # the version concerned: the new holder after approve and rollback
    previous_version: str  # who held the alias before ("" none, or not moved)
    applied: bool  # the alias moved
    events: tuple[AuditEvent, ...]  # appended by this step
    repairs: tuple[str, ...]  # interrupted steps completed or undone first
    message: str  # one sentence


@dataclass(frozen=True)
class PendingReview:
    """A pending request with its gates as they stand now."""

    request: PromotionRequest
    gates: GateReport | None
    gate_error: str = ""  # why the gates could not be checked (e.g. a broken policy file)


@dataclass(frozen=True)
class InterruptedStep:
    """A lock left on a model by a step in progress, or one that was cut short."""

    op: str
    actor: str
    request_id: str
    alias: str
    from_version: str
    to_version: str
    time_ms: int
    stale: bool  # older than the lease: interrupted, not in progress
    sentence: str


@dataclass(frozen=True)
class PromotionStatus:
    overview: ModelOverview  # aliases, versions, audit chain
    reviews: tuple[PendingReview, ...]
    interrupted: tuple[InterruptedStep, ...]


@dataclass(frozen=True)
class AuditHistory:
    model_name: str
    events: tuple[AuditEvent, ...]  # by seq
    problems: tuple[str, ...]  # what the chain check found; empty when intact

    @property
    def intact(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class HolderAnswer:
    alias: str
    time_ms: int
    version: str | None
    event: AuditEvent | None  # the move that gave it that version
    sentence: str
    chain_problems: tuple[str, ...]


@dataclass(frozen=True)
class RollbackPlan:
    model_name: str
    alias: str
    current: str | None  # the version the alias has now (registry)
    target: str | None  # the version a rollback gives it (None: the alias is removed)
    request_id: str  # the request whose promotion it undoes ("" unknown)
    problem: str  # why a rollback would be refused now; "" when it can go ahead
    sentence: str


# -- reads ---------------------------------------------------------------------------------


def find_request(
    tracking: TrackingBackend, request_id: str, model_name: str | None = None
) -> PromotionRequest:
    """The request with this id, looked for in `model_name` or in every registered model."""
    request_id = request_id.strip().lower()
    try:
        key = promotion.request_tag_key(request_id)
    except ValueError:
        raise RequestNotFound(f"{request_id!r} is not a promotion request id.") from None
    names = (
        [model_name] if model_name else sorted(m.name for m in tracking.search_registered_models())
    )
    for name in names:
        for version in tracking.search_model_versions(name):
            if key in version.tags:
                return _request_or_refuse(version, request_id)
    where = f"model {model_name}" if model_name else tracking.label
    raise RequestNotFound(f"There is no promotion request {request_id} in {where}.")


def requests_awaiting(tracking: TrackingBackend, user: str) -> list[PromotionRequest]:
    """Pending requests that `user` may decide (not their own), oldest first: the inbox."""
    waiting: list[PromotionRequest] = []
    for model in tracking.search_registered_models():
        versions = tracking.search_model_versions(model.name)
        waiting.extend(
            r for r in promotion.pending_requests(versions) if not _same_person(r.requester, user)
        )
    return sorted(waiting, key=lambda r: (r.created_ms, r.request_id))


def applied_since(tracking: TrackingBackend, since_ms: int) -> list[AuditEvent]:
    """Alias moves (applied, rolled back) recorded after `since_ms`, oldest first."""
    moves = {PromotionState.APPLIED.value, PromotionState.ROLLED_BACK.value}
    events = [
        event
        for model in tracking.search_registered_models()
        for event in audit.read_chain(model)
        if event.action in moves and event.time_ms > since_ms
    ]
    return sorted(events, key=lambda e: (e.time_ms, e.model_name, e.seq))


def check_request_gates(ctx: PromotionContext, request: PromotionRequest) -> GateReport:
    """The request's gates as they stand now, against the alias's current holder."""
    model = ctx.tracking.get_registered_model(request.model_name)
    version = _version(ctx.tracking, request.model_name, request.version)
    holder_number = model.aliases.get(request.alias)
    holder = _version(ctx.tracking, request.model_name, holder_number) if holder_number else None
    policy = load_policy(ctx.gates_dir, request.model_name)
    return evaluate_gates(
        ctx.tracking, policy, version, request.alias, holder=holder, metrics=ctx.metrics
    )


def load_status(
    ctx: PromotionContext, model_name: str, state: TaskState | None = None
) -> PromotionStatus:
    """A model's aliases, versions and audit chain, each pending request with its gates, and
    the unfinished steps on it."""
    state = state or TaskState()
    overview = load_model(ctx.tracking, model_name, state)
    reviews = []
    for request in overview.pending:
        state.check()
        try:
            reviews.append(PendingReview(request, check_request_gates(ctx, request)))
        except (GatePolicyError, NotFound) as error:
            reviews.append(PendingReview(request, None, str(error)))
    return PromotionStatus(
        overview, tuple(reviews), tuple(_interrupted_steps(overview.model, ctx.settings))
    )


def load_history(tracking: TrackingBackend, model_name: str) -> AuditHistory:
    """The model's audit events and what is wrong with the chain (edited, missing events)."""
    model = tracking.get_registered_model(model_name)
    return AuditHistory(
        model_name, tuple(audit.read_chain(model)), tuple(audit.verify_model_chain(model))
    )


def holder_at(tracking: TrackingBackend, model_name: str, alias: str, time_ms: int) -> HolderAnswer:
    """Which version held `alias` at `time_ms`, according to the audit chain."""
    history = load_history(tracking, model_name)
    moves = [
        e
        for e in history.events
        if e.alias == alias
        and e.time_ms <= time_ms
        and e.action in (PromotionState.APPLIED.value, PromotionState.ROLLED_BACK.value)
    ]
    version = audit.alias_holder_at(history.events, alias, time_ms)
    event = moves[-1] if moves else None
    when = utc_text(time_ms)
    if version is None:
        sentence = f"No version held {alias} of {model_name} at {when}, by its audit chain."
    else:
        assert event is not None
        how = "applied it" if event.action == PromotionState.APPLIED.value else "rolled it back"
        sentence = (
            f"Version {version} held {alias} of {model_name} at {when}: {event.actor} {how} "
            f"on {utc_text(event.time_ms)} (audit event {event.seq})."
        )
    if history.problems:
        sentence += (
            f" The audit chain has {len(history.problems)} problem(s), so this answer may be "
            f"wrong: {history.problems[0]}"
        )
    return HolderAnswer(alias, time_ms, version, event, sentence, history.problems)


def rollback_plan(tracking: TrackingBackend, model_name: str, alias: str) -> RollbackPlan:
    """What `rollback_alias` would do now, or why it would refuse."""
    return _plan_rollback(tracking.get_registered_model(model_name), alias)


# -- the steps -------------------------------------------------------------------------------


def request_promotion(
    ctx: PromotionContext,
    model_name: str,
    version: str,
    alias: str,
    comment: str,
    state: TaskState | None = None,
) -> PromotionOutcome:
    """Ask for version `version` of `model_name` to get alias `alias`, with a comment."""
    comment, alias, version = comment.strip(), alias.strip(), version.strip()
    if not comment:
        raise PromotionRefused("A promotion request needs a comment saying why.")
    if not _ALIAS_PATTERN.match(alias) or _RESERVED_ALIAS.match(alias):
        raise PromotionRefused(
            f"{alias!r} cannot be an alias: use letters, digits, '_' and '-', and neither "
            "'latest' nor v<number>."
        )

    def body(step: _Step) -> PromotionOutcome:
        candidate = step.version(version)
        if candidate.status.upper() != "READY":
            raise PromotionRefused(
                f"Version {version} of {model_name} is {candidate.status}, not READY: it "
                "cannot be promoted yet."
            )
        if step.model.aliases.get(alias) == version:
            raise PromotionRefused(f"Version {version} of {model_name} already holds {alias}.")
        versions = ctx.tracking.search_model_versions(model_name)
        for pending in promotion.pending_requests(versions):
            if pending.alias == alias:
                raise PromotionRefused(
                    f"Request {pending.request_id} (version {pending.version} to {alias}, by "
                    f"{pending.requester} on {utc_text(pending.created_ms)}) is still pending: "
                    "it must be approved or rejected first."
                )
        request_id = secrets.token_hex(6)
        intent = step.decide(request_id=request_id, version=version, alias=alias, comment=comment)
        request = PromotionRequest(
            request_id=request_id,
            model_name=model_name,
            version=version,
            alias=alias,
            requester=ctx.actor,
            comment=comment,
            state=PromotionState.REQUESTED,
            created_ms=intent.time_ms,
            updated_ms=intent.time_ms,
        )
        step.commit(
            lambda: step.writer.set_model_version_tag(
                model_name,
                version,
                promotion.request_tag_key(request_id),
                promotion.request_tag_value(request),
            ),
            doing=f"storing request {request_id} on version {version}",
            done=f"stored request {request_id} on version {version}",
        )
        events = step.finish()
        return _outcome(
            step,
            "requested",
            request,
            events,
            applied=False,
            message=f"Requested version {version} of {model_name} as {alias} "
            f"(request {request_id}); someone else approves it.",
        )

    return _run_step(ctx, model_name, "request", body, state, alias=alias, version=version)


def approve_request(
    ctx: PromotionContext,
    request_id: str,
    comment: str = "",
    overrides: Mapping[str, str] | None = None,
    model_name: str | None = None,
    state: TaskState | None = None,
) -> PromotionOutcome:
    """Approve a request and apply it: its alias moves to its version.

    Refused for the requester (four-eyes), for a request no longer pending (`AlreadyDecided`),
    and while a gate fails without a written reason in `overrides` (gate name -> reason).
    """
    wanted = {name.strip(): reason.strip() for name, reason in (overrides or {}).items()}
    found = find_request(ctx.tracking, request_id, model_name)
    name = found.model_name

    def body(step: _Step) -> PromotionOutcome:
        request = step.pending_request(found.version, found.request_id)
        if _same_person(request.requester, ctx.actor):
            raise FourEyesRefused(
                f"You requested this promotion (request {request.request_id}, version "
                f"{request.version} to {request.alias}), so another person must approve it."
            )
        candidate = step.version(request.version)
        holder_number = step.model.aliases.get(request.alias)
        if holder_number == request.version:
            raise PromotionRefused(
                f"Version {request.version} of {name} already holds {request.alias}: reject "
                f"request {request.request_id} instead."
            )
        holder = step.version(holder_number) if holder_number else None
        policy = load_policy(ctx.gates_dir, name)
        report = evaluate_gates(
            ctx.tracking, policy, candidate, request.alias, holder=holder, metrics=ctx.metrics
        )
        unknown = sorted(set(wanted) - set(policy.names()))
        if unknown:
            known = ", ".join(policy.names()) or "none"
            raise PromotionRefused(
                f"There is no gate named {unknown[0]} for {name} (its gates: {known})."
            )
        missing = tuple(r for r in report.failing if not wanted.get(r.name))
        if missing:
            raise GatesNotPassed(
                f"{len(missing)} gate(s) failed for version {request.version} of {name}: "
                + " ".join(f"{r.name}: {r.evidence}" for r in missing)
                + " Approving anyway needs a written override reason for each.",
                missing,
            )
        used = {r.name: wanted[r.name] for r in report.failing}
        details = {
            "request_id": request.request_id,
            "gates_policy": report.policy_source,
            **{f"gate.{r.name}": f"{r.outcome.value}: {r.evidence}" for r in report.results},
            **{f"{OVERRIDE_DETAIL_PREFIX}{gate}": reason for gate, reason in used.items()},
        }
        step.decide(
            request_id=request.request_id,
            version=request.version,
            alias=request.alias,
            from_version=holder_number or "",
            comment=comment.strip(),
            details=details,
        )
        step.commit(
            lambda: step.writer.set_alias(name, request.alias, request.version),
            doing=f"moving {request.alias} to version {request.version}",
            done=f"moved {request.alias} to version {request.version}",
        )
        events = step.finish()
        after = dataclasses.replace(
            request,
            state=PromotionState.APPLIED,
            updated_ms=step.intent.time_ms,
            decided_by=ctx.actor,
            decision_comment=step.intent.comment,
            overrides=used,
            previous_version=holder_number or "",
        )
        before = f"(was version {holder_number})" if holder_number else "(no version held it)"
        overridden = f", overriding {', '.join(used)}" if used else ""
        return _outcome(
            step,
            "approved",
            after,
            events,
            applied=True,
            message=f"Approved: version {request.version} of {name} is now {request.alias} "
            f"{before}{overridden}.",
        )

    return _run_step(
        ctx,
        name,
        "approve",
        body,
        state,
        request_id=found.request_id,
        alias=found.alias,
        version=found.version,
    )


def reject_request(
    ctx: PromotionContext,
    request_id: str,
    comment: str,
    model_name: str | None = None,
    state: TaskState | None = None,
) -> PromotionOutcome:
    """Reject a pending request with a comment (the requester may withdraw their own)."""
    comment = comment.strip()
    if not comment:
        raise PromotionRefused("Rejecting a request needs a comment saying why.")
    found = find_request(ctx.tracking, request_id, model_name)
    name = found.model_name

    def body(step: _Step) -> PromotionOutcome:
        request = step.pending_request(found.version, found.request_id)
        intent = step.decide(
            request_id=request.request_id,
            version=request.version,
            alias=request.alias,
            comment=comment,
        )
        rejected = dataclasses.replace(
            request,
            state=PromotionState.REJECTED,
            updated_ms=intent.time_ms,
            decided_by=ctx.actor,
            decision_comment=comment,
        )
        step.commit(
            lambda: step.writer.set_model_version_tag(
                name,
                request.version,
                promotion.request_tag_key(request.request_id),
                promotion.request_tag_value(rejected),
            ),
            doing=f"marking request {request.request_id} rejected",
            done=f"marked request {request.request_id} rejected",
        )
        events = step.finish()
        return _outcome(
            step,
            "rejected",
            rejected,
            events,
            applied=False,
            message=f"Rejected request {request.request_id} (version {request.version} of "
            f"{name} to {request.alias}).",
        )

    return _run_step(
        ctx, name, "reject", body, state, request_id=found.request_id, alias=found.alias
    )


def rollback_alias(
    ctx: PromotionContext,
    model_name: str,
    alias: str,
    comment: str,
    state: TaskState | None = None,
) -> PromotionOutcome:
    """Put `alias` back on the version that held it before its last promotion."""
    comment = comment.strip()
    if not comment:
        raise PromotionRefused("A rollback needs a comment saying why.")

    def body(step: _Step) -> PromotionOutcome:
        plan = _plan_rollback(step.model, alias)
        if plan.problem:
            raise PromotionRefused(plan.problem)
        current = plan.current or ""
        if plan.target is not None:
            step.version(plan.target)  # refuses when the old version was deleted since
        step.decide(
            alias=alias,
            version=plan.target or "",
            from_version=current,
            request_id=plan.request_id,
            comment=comment,
            details={"previous_version": current}
            | ({"request_id": plan.request_id} if plan.request_id else {}),
        )
        if plan.target is None:
            step.commit(
                lambda: step.writer.delete_alias(model_name, alias),
                doing=f"removing {alias} from version {current}",
                done=f"removed {alias} from version {current}",
            )
        else:
            target = plan.target
            step.commit(
                lambda: step.writer.set_alias(model_name, alias, target),
                doing=f"moving {alias} back to version {target}",
                done=f"moved {alias} back to version {target}",
            )
        events = step.finish()
        where = f"version {plan.target}" if plan.target else "no version"
        return _outcome(
            step,
            "rolled_back",
            None,
            events,
            applied=True,
            message=f"Rolled back: {alias} of {model_name} is on {where} again "
            f"(it was on version {current}).",
        )

    return _run_step(ctx, model_name, "rollback", body, state, alias=alias)


def repair_model(
    ctx: PromotionContext, model_name: str, state: TaskState | None = None
) -> tuple[str, ...]:
    """Complete or undo the model's interrupted steps now; one sentence per step."""

    def body(step: _Step) -> PromotionOutcome:
        return _outcome(step, "repaired", None, (), applied=False, message="")

    outcome = _run_step(ctx, model_name, "repair", body, state)
    return outcome.repairs


# -- how a step runs ------------------------------------------------------------------------


class _Step:
    """One step holding the model's lock: the fresh model, the decided intent, what it did."""

    def __init__(self, ctx: PromotionContext, writer: RegistryWriter, held: HeldLock) -> None:
        self.ctx = ctx
        self.writer = writer
        self.intent = held.intent
        self.model = held.model
        self.committed = False
        self.done: list[str] = []
        self.repairs: list[str] = []
        #: Versions read under the lock before the commit write (each request to a basic-auth
        #: server costs a password check, over half a second: read each once).
        self._read: dict[str, ModelVersion] = {}

    @property
    def name(self) -> str:
        return self.intent.model_name

    def version(self, number: str) -> ModelVersion:
        """A version read under the lock (once: nothing else changes it while it is held)."""
        if number not in self._read:
            try:
                self._read[number] = self.writer.get_model_version(self.name, number)
            except NotFound:
                raise PromotionRefused(f"Model {self.name} has no version {number}.") from None
        return self._read[number]

    def pending_request(self, version: str, request_id: str) -> PromotionRequest:
        """The request read afresh under the lock; `AlreadyDecided` when no longer pending."""
        request = _request_or_refuse(self.version(version), request_id)
        if request.state not in promotion.PENDING_STATES:
            raise _already_decided(request)
        return request

    def decide(self, **fields: object) -> Intent:
        """Record what the step is about to do, before its first change."""
        self.intent = dataclasses.replace(
            self.intent,
            decided=True,
            time_ms=self.ctx.settings.now_ms(),
            **fields,  # type: ignore[arg-type]
        )
        model_lock.record(self.writer, self.intent)
        return self.intent

    def commit(self, write: Callable[[], None], *, doing: str, done: str) -> None:
        """The step's one decisive write; before it nothing changed, after it the step is
        completed by whoever finds it interrupted. `doing`/`done` name it for messages
        ("moving champion to version 4" / "moved champion to version 4")."""
        try:
            write()
        except MissingPermission:
            raise
        except BackendError as error:
            raise PromotionInterrupted(
                f"The server stopped answering while {doing} ({_clause(error)}), so it is not "
                f"known whether that happened. {_next_step(self)}",
                done=(),
                remaining=doing,
            ) from error
        self.committed = True
        self.done.append(done)

    def finish(self) -> tuple[AuditEvent, ...]:
        """Write the rest of the step (request state, audit events); interrupted -> says so."""
        try:
            return _finish(
                self.ctx, self.writer, self.intent, self.done, self.model, dict(self._read)
            )
        except BackendError as error:
            raise PromotionInterrupted(
                f"The server stopped answering half way ({_clause(error)}): the app "
                f"{', '.join(self.done)}, but could not record the rest. {_next_step(self)}",
                done=tuple(self.done),
                remaining="the request's state and the audit events",
            ) from error


def _next_step(step: _Step) -> str:
    minutes = step.ctx.settings.lease_ms / 60_000
    return (
        f"The next promotion action on {step.name} once {minutes:g} minute(s) have passed "
        f"(or `mlops-desktop promote repair {step.name}` then) checks the registry and "
        "completes or undoes the step."
    )


def _clause(error: BaseException) -> str:
    """An error's sentence, fit to sit inside another one."""
    return str(error).strip().rstrip(".?!")


def _run_step(
    ctx: PromotionContext,
    model_name: str,
    op: str,
    body: Callable[[_Step], PromotionOutcome],
    state: TaskState | None,
    *,
    request_id: str = "",
    alias: str = "",
    version: str = "",
) -> PromotionOutcome:
    writer = ctx.writer
    if state is not None:
        state.check()
    intent = Intent(
        nonce=model_lock.new_nonce(),
        op=op,
        actor=ctx.actor,
        time_ms=ctx.settings.now_ms(),
        model_name=model_name,
        request_id=request_id,
        alias=alias,
        version=version,
    )
    try:
        held = model_lock.acquire(ctx.tracking, writer, intent, ctx.settings)
    except MissingPermission as error:
        raise _permission_refusal(error, op, ctx) from None
    step = _Step(ctx, writer, held)
    try:
        step.repairs = [_repair(ctx, writer, interrupted) for interrupted in held.interrupted]
        if step.repairs:
            step.model = ctx.tracking.get_registered_model(model_name)
        outcome = body(step)
    except PromotionInterrupted:
        raise  # its intent stays: the record of what it did, for the repair
    except MissingPermission as error:
        _release_quietly(writer, step.intent)
        raise _permission_refusal(error, op, ctx) from None
    except BaseException:
        if not step.committed:
            _release_quietly(writer, step.intent)
        raise
    try:
        model_lock.release(writer, step.intent)
    except BackendError as error:
        return dataclasses.replace(
            outcome,
            message=f"{outcome.message} Its lock could not be removed ({error}); the next "
            "step removes it once its lease has passed.",
        )
    return outcome


def _release_quietly(writer: RegistryWriter, intent: Intent) -> None:
    """Remove the lock of a step that changed nothing; a failure leaves a claim that the
    next step finds stale and drops, so it is not worth a second error."""
    with contextlib.suppress(BackendError):
        model_lock.release(writer, intent)


_OP_WORDS = {
    "request": "request",
    "approve": "approval",
    "reject": "rejection",
    "rollback": "rollback",
    "repair": "repair",
}


def _permission_refusal(
    error: MissingPermission, op: str, ctx: PromotionContext
) -> PromotionPermissionDenied:
    return PromotionPermissionDenied(
        f"You lack {error.permission} on model {error.model_name}: your "
        f"{_OP_WORDS.get(op, op)} was not recorded and nothing was changed. Ask an "
        f"administrator of {ctx.tracking.location} to grant you {error.permission} on "
        f"{error.model_name}.",
        permission=error.permission,
        model_name=error.model_name,
    )


def _outcome(
    step: _Step,
    action: str,
    request: PromotionRequest | None,
    events: Sequence[AuditEvent],
    *,
    applied: bool,
    message: str,
) -> PromotionOutcome:
    intent = step.intent
    message = message if not step.repairs else f"{message} {' '.join(step.repairs)}".strip()
    if applied:
        message += _confirm_alias(step)
    return PromotionOutcome(
        action=action,
        model_name=intent.model_name,
        alias=intent.alias,
        request=request,
        version=intent.version,
        previous_version=intent.from_version,
        applied=applied,
        events=tuple(events),
        repairs=tuple(step.repairs),
        message=message,
    )


def _confirm_alias(step: _Step) -> str:
    """Re-read the alias after the step: a sentence when someone moved it meanwhile."""
    intent = step.intent
    try:
        now = step.ctx.tracking.get_registered_model(intent.model_name).aliases.get(intent.alias)
    except BackendError:
        return ""
    if (now or "") == intent.version:
        return ""
    where = f"version {now}" if now else "no version"
    return (
        f" Note: {intent.alias} is on {where} now: it was changed outside the promotion "
        "workflow meanwhile."
    )


# -- finishing and repairing -----------------------------------------------------------------


def _finish(
    ctx: PromotionContext,
    writer: RegistryWriter,
    intent: Intent,
    done: list[str],
    model: RegisteredModel | None = None,
    versions: Mapping[str, ModelVersion] | None = None,
) -> tuple[AuditEvent, ...]:
    """Everything a step writes after its commit write, each part only when it is missing:
    run by the step itself, and again by whoever completes it after an interruption.

    The step passes the model and versions it read under the lock (their audit and request
    tags cannot have changed since); a repair passes nothing, so they are read afresh.
    """
    if intent.op == "approve":
        _mark_request(writer, intent, PromotionState.APPLIED, done, versions or {})
    elif intent.op == "rollback" and intent.request_id and intent.from_version:
        _mark_request(writer, intent, PromotionState.ROLLED_BACK, done, versions or {})
    if model is None:
        model = ctx.tracking.get_registered_model(intent.model_name)
    return _append_missing_events(writer, model, intent, done)


def _mark_request(
    writer: RegistryWriter,
    intent: Intent,
    new_state: PromotionState,
    done: list[str],
    versions: Mapping[str, ModelVersion],
) -> None:
    number = intent.version if new_state is PromotionState.APPLIED else intent.from_version
    version = versions.get(number)
    if version is None:
        try:
            version = writer.get_model_version(intent.model_name, number)
        except NotFound:
            return  # the version was deleted since: nothing left to mark
    request = promotion.request_on(version, intent.request_id) if intent.request_id else None
    if request is None or request.state is new_state:
        return
    if new_state is PromotionState.APPLIED:
        overrides = {
            key[len(OVERRIDE_DETAIL_PREFIX) :]: value
            for key, value in intent.details.items()
            if key.startswith(OVERRIDE_DETAIL_PREFIX)
        }
        updated = dataclasses.replace(
            request,
            state=new_state,
            updated_ms=intent.time_ms,
            decided_by=intent.actor,
            decision_comment=intent.comment,
            overrides=overrides,
            previous_version=intent.from_version,
        )
    else:
        updated = dataclasses.replace(request, state=new_state, updated_ms=intent.time_ms)
    writer.set_model_version_tag(
        intent.model_name,
        number,
        promotion.request_tag_key(intent.request_id),
        promotion.request_tag_value(updated),
    )
    done.append(f"marked request {intent.request_id} {new_state.value}")


def _event_specs(intent: Intent) -> list[tuple[str, str, str, dict[str, str]]]:
    """(action, version, comment, details) of the audit events a step appends."""
    base = {"intent": intent.nonce}
    if intent.request_id:
        base["request_id"] = intent.request_id
    if intent.op == "request":
        return [("requested", intent.version, intent.comment, base)]
    if intent.op == "reject":
        return [("rejected", intent.version, intent.comment, base)]
    if intent.op == "approve":
        return [
            ("approved", intent.version, intent.comment, {**intent.details, **base}),
            ("applied", intent.version, "", {**base, "previous_version": intent.from_version}),
        ]
    if intent.op == "rollback":
        return [("rolled_back", intent.version, intent.comment, {**intent.details, **base})]
    return []


def _append_missing_events(
    writer: RegistryWriter, model: RegisteredModel, intent: Intent, done: list[str]
) -> tuple[AuditEvent, ...]:
    present = {e.action for e in audit.read_chain(model) if e.details.get("intent") == intent.nonce}
    appended: list[AuditEvent] = []
    for action, version, comment, details in _event_specs(intent):
        if action in present:
            continue
        event = audit.next_event(
            model,
            time_ms=intent.time_ms,
            actor=intent.actor,
            action=action,
            version=version,
            alias=intent.alias,
            comment=comment,
            details=details,
        )
        key = audit.audit_tag_key(event.seq)
        value = audit.event_to_json(event)
        writer.set_registered_model_tag(intent.model_name, key, value)
        model = dataclasses.replace(model, tags={**model.tags, key: value})
        appended.append(event)
        done.append(f"recorded the audit event {action}")
    return tuple(appended)


def _commit_happened(tracking: TrackingBackend, writer: RegistryWriter, intent: Intent) -> bool:
    """Whether an interrupted step made its commit write (see the module docstring)."""
    if not intent.decided:
        return False
    if intent.op in ("approve", "rollback"):
        holder = tracking.get_registered_model(intent.model_name).aliases.get(intent.alias)
        return (holder or "") == intent.version
    if intent.op in ("request", "reject"):
        try:
            version = writer.get_model_version(intent.model_name, intent.version)
        except NotFound:
            return False
        request = promotion.request_on(version, intent.request_id)
        if request is None:
            return False
        if intent.op == "reject":
            return request.state is PromotionState.REJECTED and request.decided_by == intent.actor
        return True
    return False


def _repair(ctx: PromotionContext, writer: RegistryWriter, intent: Intent) -> str:
    """Complete an interrupted step whose commit write happened, else drop it; one sentence."""
    what, when = intent.summary(), utc_text(intent.time_ms)
    if _commit_happened(ctx.tracking, writer, intent):
        done: list[str] = []
        _finish(ctx, writer, intent, done)
        model_lock.release(writer, intent)
        wrote = ", ".join(done) if done else "found everything already recorded"
        return f"Completed {what}, interrupted at {when}: {wrote}."
    model_lock.release(writer, intent)
    if intent.op == "unknown":
        return f"Removed an unreadable lock tag {intent.tag_key} from {intent.model_name}."
    return (
        f"Dropped {what}, interrupted at {when} before it changed the registry: nothing was "
        "applied; do it again if it is still wanted."
    )


def _interrupted_steps(model: RegisteredModel, settings: FlowSettings) -> list[InterruptedStep]:
    now = settings.now_ms()
    steps = []
    for intent in model_lock.read_intents(model):
        stale = intent.stale(now, settings.lease_ms)
        if stale:
            sentence = (
                f"Interrupted: {intent.describe()}. The next promotion action on "
                f"{model.name} completes or undoes it."
            )
        else:
            sentence = f"In progress: {intent.describe()}."
        steps.append(
            InterruptedStep(
                op=intent.op,
                actor=intent.actor,
                request_id=intent.request_id,
                alias=intent.alias,
                from_version=intent.from_version,
                to_version=intent.version,
                time_ms=intent.time_ms,
                stale=stale,
                sentence=sentence,
            )
        )
    return steps


# -- helpers ---------------------------------------------------------------------------------


def _plan_rollback(model: RegisteredModel, alias: str) -> RollbackPlan:
    events = audit.read_chain(model)
    undo = audit.alias_undo(events, alias)
    current = model.aliases.get(alias)
    request_id = undo.undone.details.get("request_id", "") if undo.undone else ""
    problem = ""
    problems = audit.verify_model_chain(model)
    if problems:
        problem = (
            f"The audit chain of {model.name} is damaged, and a rollback would rely on it: "
            f"{problems[0]}"
        )
    elif undo.undone is None:
        problem = f"The audit chain of {model.name} records no promotion of {alias} to undo."
    elif current != undo.current:
        now = f"version {current}" if current else "no version"
        problem = (
            f"The registry gives {alias} to {now}, but the audit chain's last promotion gave "
            f"it to version {undo.current}: it was moved outside the promotion workflow, so a "
            "rollback cannot tell which version came before."
        )
    if problem:
        sentence = f"Rolling back {alias} of {model.name} is not possible now: {problem}"
    else:
        where = f"version {undo.target}" if undo.target else "no version (the alias is removed)"
        sentence = (
            f"Rolling back puts {alias} of {model.name} from version {current} back on {where}."
        )
    return RollbackPlan(model.name, alias, current, undo.target, request_id, problem, sentence)


def _request_or_refuse(version: ModelVersion, request_id: str) -> PromotionRequest:
    try:
        request = promotion.request_on(version, request_id)
    except ValueError as error:
        raise PromotionRefused(
            f"The tag of request {request_id} on {version.model_name} version "
            f"{version.version} is unreadable: {error}."
        ) from None
    if request is None:
        raise RequestNotFound(
            f"Version {version.version} of {version.model_name} has no promotion request "
            f"{request_id}."
        )
    return request


def _already_decided(request: PromotionRequest) -> AlreadyDecided:
    verb = {
        PromotionState.APPLIED: "approved",
        PromotionState.REJECTED: "rejected",
        PromotionState.ROLLED_BACK: "approved, then rolled back,",
    }.get(request.state, request.state.value)
    who = request.decided_by or "someone"
    when = utc_text(request.updated_ms) if request.updated_ms else "an unknown time"
    return AlreadyDecided(
        f"Request {request.request_id} (version {request.version} of {request.model_name} to "
        f"{request.alias}) was already {verb} by {who} at {when}.",
        state=request.state,
        decided_by=request.decided_by,
        decided_ms=request.updated_ms,
    )


def _version(tracking: TrackingBackend, model_name: str, number: str) -> ModelVersion:
    if isinstance(tracking, RegistryWriter):
        return tracking.get_model_version(model_name, number)
    for version in tracking.search_model_versions(model_name):
        if version.version == number:
            return version
    raise NotFound(f"Model {model_name} has no version {number}.")


def _same_person(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()
