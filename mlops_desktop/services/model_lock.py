"""One promotion step at a time per model, across every client of a server: the model lock.

MLflow has no compare-and-set: setting a tag overwrites it. So a step claims the model by
writing a tag only it uses, `mlops.promotion.lock.<nonce>`, then reads the model back:

- it sees no other live claim: it holds the lock. Any other claimer wrote its tag after this
  read (the server's store orders writes and reads), so that claimer's own read-back sees this
  claim, and it steps back. Two clients can never both hold the lock.
- it sees another live claim: it removes its own, waits a random moment and tries again, until
  `FlowSettings.wait_s` has passed (`ModelBusy`). Two claimers that see each other both step
  back; the random waits make one of them first the next time.

The claim's value is the step's *intent* (JSON, `Intent`): what it is about to do, written
before its first change, so a step cut short (server stopped, app killed) leaves a record of
itself. A claim older than `lease_ms` is such an interrupted step: no longer a lock, but work
for the next step on the model, which completes or undoes it first (services/promotion_flow).
The lease is measured with the clients' clocks, which must agree within a fraction of it
(two minutes by default, against steps that last about a second).

The tags live on the registered model, under `mlops.promotion.` so no view lists them as the
team's tags; setting and deleting a registered-model tag needs only EDIT on basic-auth servers.
"""

from __future__ import annotations

import json
import random
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from mlops_desktop.backends.errors import BackendError
from mlops_desktop.backends.registry_writer import RegistryWriter
from mlops_desktop.backends.tracking import TrackingBackend
from mlops_desktop.domain.promotion import TAG_PREFIX
from mlops_desktop.domain.registry import RegisteredModel

LOCK_TAG_PREFIX = f"{TAG_PREFIX}lock."
DEFAULT_LEASE_MS = 120_000
DEFAULT_WAIT_S = 30.0


def wall_clock_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class FlowSettings:
    """How patient the promotion steps are; tests shorten the lease to repair at once."""

    #: A claim older than this is an interrupted step, completed or undone by the next one.
    lease_ms: int = DEFAULT_LEASE_MS
    #: How long a step waits while another step holds the model.
    wait_s: float = DEFAULT_WAIT_S
    now_ms: Callable[[], int] = wall_clock_ms
    sleep: Callable[[float], None] = time.sleep


class ModelBusy(BackendError):
    """Another promotion step held the model for longer than the step could wait."""


@dataclass(frozen=True)
class Intent:
    """What a step is doing to a model, stored as its lock so an interruption is visible."""

    nonce: str  # the lock's own id (lowercase hex)
    op: str  # "request", "approve", "reject", "rollback"
    actor: str
    time_ms: int  # when the step decided; its audit events carry this time
    model_name: str
    request_id: str = ""
    alias: str = ""
    version: str = ""  # the version the alias moves to ("" for a removal or not decided yet)
    from_version: str = ""  # the version that held the alias before
    comment: str = ""
    #: False until the step has checked everything and is about to change the registry.
    decided: bool = False
    #: Facts for the step's audit events (overrides, gate results, the undone request).
    details: Mapping[str, str] = field(default_factory=dict)

    @property
    def tag_key(self) -> str:
        return lock_tag_key(self.nonce)

    def stale(self, now_ms: int, lease_ms: int) -> bool:
        return now_ms - self.time_ms > lease_ms

    def summary(self) -> str:
        """ "bob's approval of request 3fa2c1 (version 4 to champion)"."""
        who = f"{self.actor}'s"
        if self.op == "request":
            return f"{who} request of version {self.version} for {self.alias}"
        if self.op == "approve":
            target = f" (version {self.version} to {self.alias})" if self.version else ""
            return f"{who} approval of request {self.request_id}{target}"
        if self.op == "reject":
            return f"{who} rejection of request {self.request_id}"
        if self.op == "rollback":
            if not self.decided:
                return f"{who} rollback of {self.alias}"
            target = f"version {self.version}" if self.version else "no version"
            return f"{who} rollback of {self.alias} to {target}"
        return f"{who} {self.op} step"

    def describe(self) -> str:
        """ "bob approving request 3fa2c1 (version 4 to champion) since 2026-11-28 10:01 UTC"."""
        what = {
            "request": f"requesting version {self.version} for {self.alias}",
            "approve": f"approving request {self.request_id}",
            "reject": f"rejecting request {self.request_id}",
            "rollback": f"rolling {self.alias} back",
            "repair": "completing interrupted steps",
        }.get(self.op, self.op)
        if self.op == "approve" and self.version:
            what += f" (version {self.version} to {self.alias})"
        if self.op == "rollback" and self.decided:
            what += f" to {'version ' + self.version if self.version else 'no version'}"
        return f"{self.actor} {what} since {utc_text(self.time_ms)}"


def lock_tag_key(nonce: str) -> str:
    return f"{LOCK_TAG_PREFIX}{nonce}"


def new_nonce() -> str:
    return secrets.token_hex(6)


def intent_to_json(intent: Intent) -> str:
    fields: dict[str, Any] = {
        "op": intent.op,
        "actor": intent.actor,
        "time_ms": intent.time_ms,
        "request_id": intent.request_id,
        "alias": intent.alias,
        "version": intent.version,
        "from_version": intent.from_version,
        "comment": intent.comment,
        "decided": intent.decided,
        "details": dict(intent.details),
    }
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False)


def intent_from_json(model_name: str, nonce: str, value: str) -> Intent:
    """Parse a lock tag's value; ValueError with a phrase when it is not an intent."""
    try:
        data: Any = json.loads(value)
    except json.JSONDecodeError as error:
        raise ValueError(f"it is not valid JSON ({error.msg})") from None
    if not isinstance(data, dict):
        raise ValueError("it is not a JSON object")
    time_ms = data.get("time_ms")
    if not isinstance(time_ms, int) or isinstance(time_ms, bool):
        raise ValueError("its time_ms is not an integer")
    texts = ("op", "actor", "request_id", "alias", "version", "from_version", "comment")
    for name in texts:
        if not isinstance(data.get(name, ""), str):
            raise ValueError(f"its {name} is not a string")
    details = data.get("details", {})
    if not isinstance(details, dict):
        raise ValueError("its details are not an object")
    return Intent(
        nonce=nonce,
        op=data.get("op", ""),
        actor=data.get("actor", ""),
        time_ms=time_ms,
        model_name=model_name,
        request_id=data.get("request_id", ""),
        alias=data.get("alias", ""),
        version=data.get("version", ""),
        from_version=data.get("from_version", ""),
        comment=data.get("comment", ""),
        decided=data.get("decided") is True,
        details={str(k): str(v) for k, v in details.items()},
    )


def read_intents(model: RegisteredModel) -> list[Intent]:
    """The claims on a model, oldest first. An unreadable one counts as an interrupted step
    of unknown kind (time 0, so stale at once): the next step removes it and says so."""
    intents = []
    for key, value in model.tags.items():
        if not key.startswith(LOCK_TAG_PREFIX):
            continue
        nonce = key[len(LOCK_TAG_PREFIX) :]
        try:
            intents.append(intent_from_json(model.name, nonce, value))
        except ValueError:
            intents.append(Intent(nonce, "unknown", "someone", 0, model.name))
    return sorted(intents, key=lambda i: (i.time_ms, i.nonce))


def describe_locks(model: RegisteredModel, now_ms: int, lease_ms: int) -> list[str]:
    """One sentence per unfinished step on the model, for the registry and status views."""
    sentences = []
    for intent in read_intents(model):
        if intent.stale(now_ms, lease_ms):
            sentences.append(
                f"A promotion step was interrupted: {intent.describe()}. The next promotion "
                f"action on {model.name} completes or undoes it."
            )
        else:
            sentences.append(f"A promotion step is in progress: {intent.describe()}.")
    return sentences


@dataclass(frozen=True)
class HeldLock:
    """The lock a step holds, the model as read right after taking it, and the claims
    of steps that were interrupted (to complete or undo before anything else)."""

    intent: Intent
    model: RegisteredModel
    interrupted: tuple[Intent, ...]


def acquire(
    tracking: TrackingBackend,
    writer: RegistryWriter,
    intent: Intent,
    settings: FlowSettings,
) -> HeldLock:
    """Take the lock of `intent.model_name` for `intent` (see the module docstring).

    Raises `ModelBusy` when another live claim stays for `settings.wait_s`, and whatever the
    backend raises for the write (a `MissingPermission` leaves nothing behind).
    """
    name = intent.model_name
    deadline = time.monotonic() + settings.wait_s
    attempt = 0
    while True:
        model = tracking.get_registered_model(name)
        now = settings.now_ms()
        blocking = [i for i in read_intents(model) if not i.stale(now, settings.lease_ms)]
        if not blocking:
            intent = replace(intent, time_ms=now)
            writer.set_registered_model_tag(name, intent.tag_key, intent_to_json(intent))
            model = tracking.get_registered_model(name)
            claims = read_intents(model)
            blocking = [
                i
                for i in claims
                if i.nonce != intent.nonce and not i.stale(settings.now_ms(), settings.lease_ms)
            ]
            if not blocking:
                interrupted = tuple(i for i in claims if i.nonce != intent.nonce)
                return HeldLock(intent, model, interrupted)
            writer.delete_registered_model_tag(name, intent.tag_key)
        if time.monotonic() >= deadline:
            first = blocking[0]
            raise ModelBusy(
                f"Another promotion step holds model {name}: {first.describe()}. Try again "
                "in a moment; if that step was cut short, the first promotion action from "
                f"{utc_text(first.time_ms + settings.lease_ms)} on completes or undoes it."
            )
        attempt += 1
        settings.sleep(random.uniform(0.02, min(1.0, 0.05 * 2**attempt)))


def record(writer: RegistryWriter, intent: Intent) -> None:
    """Store the step's decided intent in its lock, before its first change."""
    writer.set_registered_model_tag(intent.model_name, intent.tag_key, intent_to_json(intent))


def release(writer: RegistryWriter, intent: Intent) -> None:
    """Remove a claim: the step ended (or an interrupted step was completed or undone)."""
    writer.delete_registered_model_tag(intent.model_name, intent.tag_key)


def utc_text(ms: int) -> str:
    if ms <= 0:
        return "an unknown time"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
