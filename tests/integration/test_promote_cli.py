"""`mlops-desktop promote ...` run as a user would, against real MLflow servers.

The CLI runs in a subprocess with the session's XDG dirs and keychain, on connection profiles
it added itself. On a server without sign-in the actor is the OS user, so each call sets
LOGNAME to play alice, bob or carol; on the basic-auth server it is the profile's user.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from mlops_desktop.backends.mlflow_rest import MlflowRestBackend
from mlops_desktop.services import promotion_flow as flow
from tests.harness.keychain import Keychain
from tests.harness.mlflow_servers import MlflowAuthServer, MlflowServer
from tests.harness.promotion_seed import SeededModel, seed_model

pytestmark = pytest.mark.integration


def cli(
    *args: str, user: str = "alice", stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LOGNAME": user, "USER": user}
    return subprocess.run(
        [sys.executable, "-m", "mlops_desktop", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        stdin=None if stdin is not None else subprocess.DEVNULL,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def refused(result: subprocess.CompletedProcess[str]) -> str:
    """A refusal: exit 1 and one sentence on standard error."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mlops-desktop: "), result.stderr
    return lines[0]


@pytest.fixture
def profile(mlflow_server: MlflowServer) -> Iterator[str]:
    name = f"promo-{uuid.uuid4().hex[:6]}"
    ok(cli("connections", "add", name, "--kind", "mlflow", "--url", mlflow_server.url))
    yield name
    cli("connections", "remove", name)


@pytest.fixture
def seeded(mlflow_server: MlflowServer, tmp_path: Path) -> SeededModel:
    return seed_model(mlflow_server.url, tmp_path)


def _promote(profile: str, seeded: SeededModel, *args: str) -> list[str]:
    return ["promote", *args, "--profile", profile, "--gates", str(seeded.gates_dir)]


@pytest.mark.parametrize(
    "action", ["request", "approve", "reject", "rollback", "status", "history", "inbox", "repair"]
)
def test_every_promote_command_has_help(action: str) -> None:
    assert ok(cli("promote", action, "--help")).startswith("usage: mlops-desktop promote")


def test_the_whole_cycle_from_the_command_line(profile: str, seeded: SeededModel) -> None:
    name = seeded.name

    def run(*args: str, user: str) -> subprocess.CompletedProcess[str]:
        return cli(*_promote(profile, seeded, *args), user=user)

    made = json.loads(
        ok(run("request", name, "2", "champion", "--comment", "AUC +2", "--json", user="alice"))
    )
    request_id = made["request"]["request_id"]
    assert made["action"] == "requested" and made["request"]["requester"] == "alice"

    status = json.loads(ok(run("status", name, "--json", user="bob")))
    (pending,) = status["pending"]
    assert pending["request_id"] == request_id and pending["gates"]["all_passed"]
    assert status["aliases"] == {"champion": "1"}
    text = ok(run("status", name, user="bob"))
    assert "every gate passes" in text and "passed        compare:val_auc" in text
    inbox = ok(run("inbox", user="bob"))
    assert request_id in inbox
    mine = json.loads(
        ok(run("inbox", "--json", user="alice"))
    )  # her own requests: not hers to decide
    assert not [r for r in mine if r["model"] == name]

    sentence = refused(run("approve", request_id, user="alice"))
    assert "You requested this promotion" in sentence and "another person must approve" in sentence

    approved = ok(run("approve", request_id, "--comment", "Gates pass.", user="bob"))
    assert approved.strip() == (f"Approved: version 2 of {name} is now champion (was version 1).")
    again = refused(run("approve", request_id, "--model", name, user="carol"))
    assert f"Request {request_id}" in again and "already approved by bob at" in again

    history = json.loads(ok(run("history", name, "--json", user="carol")))
    assert history["intact"] and [e["action"] for e in history["events"]] == [
        "requested",
        "approved",
        "applied",
    ]
    applied_at = datetime.fromtimestamp(history["events"][-1]["time_ms"] / 1000 + 1, UTC)
    held = ok(
        run("history", name, "--at", applied_at.isoformat(), "--alias", "champion", user="carol")
    )
    assert held.startswith(f"Version 2 held champion of {name} at ")

    rolled = ok(run("rollback", name, "champion", "--comment", "INC-9", user="carol"))
    assert rolled.strip() == (
        f"Rolled back: champion of {name} is on version 1 again (it was on version 2)."
    )
    table = ok(run("history", name, user="carol"))
    assert "rolled_back" in table and f"The audit chain of {name} is intact (4 events)." in table


def test_an_override_from_the_command_line(profile: str, seeded: SeededModel) -> None:
    name = seeded.name

    def run(*args: str, user: str) -> subprocess.CompletedProcess[str]:
        return cli(*_promote(profile, seeded, *args), user=user)

    made = json.loads(
        ok(run("request", name, "3", "champion", "--comment", "best", "--json", user="alice"))
    )
    request_id = made["request"]["request_id"]
    blocked = refused(run("approve", request_id, user="bob"))
    assert "2 gate(s) failed" in blocked and "compare:latency_ms" in blocked
    outcome = json.loads(
        ok(
            run(
                "approve",
                request_id,
                "--override",
                "compare:latency_ms=Batch scoring only.",
                "--override",
                "tag:validation_status=Re-validated by hand.",
                "--json",
                user="bob",
            )
        )
    )
    assert outcome["applied"] and outcome["request"]["overrides"] == {
        "compare:latency_ms": "Batch scoring only.",
        "tag:validation_status": "Re-validated by hand.",
    }
    table = ok(run("history", name, user="bob"))
    assert "[OVERRIDE compare:latency_ms: Batch scoring only.; tag:validation_status" in table


def test_usage_mistakes_are_one_sentence(profile: str, seeded: SeededModel) -> None:
    args = _promote(profile, seeded, "history", seeded.name, "--at", "2026-01-01")
    assert "--at and --alias go together" in refused(cli(*args, user="bob"))
    unknown = refused(cli(*_promote(profile, seeded, "approve", "0123abcd"), user="bob"))
    assert "There is no promotion request 0123abcd in" in unknown
    assert cli("promote", "approve", "x", "--override", "no-reason").returncode == 2


def test_a_read_user_is_told_what_they_lack(
    mlflow_auth_server: MlflowAuthServer, keychain: Keychain, tmp_path: Path
) -> None:
    server = mlflow_auth_server
    seeded = seed_model(server.url, tmp_path, auth=server.admin_auth)
    password = "reader-password-123"
    reader, editor = f"rita-{uuid.uuid4().hex[:6]}", f"ed-{uuid.uuid4().hex[:6]}"
    for user in (reader, editor):
        reply = requests.post(
            f"{server.url}/api/2.0/mlflow/users/create",
            json={"username": user, "password": password},
            auth=server.admin_auth,
            timeout=30,
        )
        assert reply.status_code == 200, reply.text
    requests.post(
        f"{server.url}/api/3.0/mlflow/users/permissions/grant",
        json={
            "username": editor,
            "resource_type": "registered_model",
            "resource_id": seeded.name,
            "permission": "EDIT",
        },
        auth=server.admin_auth,
        timeout=30,
    ).raise_for_status()
    backend = MlflowRestBackend(server.url, "auth", auth=(editor, password))
    try:
        request = flow.request_promotion(
            flow.PromotionContext(backend, editor, seeded.gates_dir),
            seeded.name,
            "2",
            "champion",
            "x",
        ).request
    finally:
        backend.close()
    assert request is not None

    profile = f"reader-{uuid.uuid4().hex[:6]}"
    ok(
        cli(
            "connections", "add", profile, "--kind", "mlflow", "--url", server.url,
            "--auth", "basic", "--username", reader, "--secret-stdin",
            stdin=password,
        )
    )  # fmt: skip
    try:
        sentence = refused(
            cli("promote", "approve", request.request_id, "--profile", profile, user="someone")
        )
        assert sentence.startswith(f"mlops-desktop: You lack EDIT on model {seeded.name}")
        status = json.loads(
            ok(cli("promote", "status", seeded.name, "--json", "--profile", profile))
        )
        assert status["aliases"] == {"champion": "1"}
        assert status["pending"][0]["state"] == "requested"
        assert status["unfinished_steps"] == []
    finally:
        cli("connections", "remove", profile)
