"""`mlops-desktop connections ...` run as a user would, and a scan for leaked secrets.

The CLI runs in a subprocess with the session's XDG dirs and keychain: what it writes is what
the app writes. The scan then reads every file the app could have written to (config, data,
cache, state and log dirs, the exported profiles) for the secrets' bytes.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from mlops_desktop.backends.secrets import SERVICE_NAME, SecretVault
from mlops_desktop.services.paths import AppPaths
from tests.harness.environment import SessionDirs
from tests.harness.keychain import Keychain
from tests.harness.mlflow_servers import MlflowAuthServer, free_port

pytestmark = pytest.mark.integration


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlops_desktop", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),  # the session's XDG dirs and keychain bus
        stdin=None if stdin is not None else subprocess.DEVNULL,
    )


def listed() -> dict[str, dict[str, object]]:
    result = cli("connections", "list", "--json")
    assert result.returncode == 0, result.stderr
    return {entry["name"]: entry for entry in json.loads(result.stdout)}


@pytest.fixture
def names() -> Iterator[list[str]]:
    """Profile names a test adds; removed (with their secrets) afterwards."""
    added: list[str] = []
    yield added
    for name in added:
        cli("connections", "remove", name)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


@pytest.mark.parametrize(
    "command",
    [
        ["connections"],
        ["connections", "list"],
        ["connections", "add"],
        ["connections", "test"],
        ["connections", "remove"],
        ["connections", "set-secret"],
        ["connections", "export"],
        ["connections", "import"],
    ],
)
def test_every_connections_command_has_help(command: list[str]) -> None:
    result = cli(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: mlops-desktop")


def test_a_secret_is_never_taken_from_the_command_line() -> None:
    result = cli(
        "connections", "add", "x", "--kind", "mlflow", "--url", "http://h", "--secret", "pw"
    )
    assert result.returncode == 2
    assert "unrecognized arguments: --secret" in result.stderr


def test_add_list_test_export_remove_a_basic_auth_profile(
    mlflow_auth_server: MlflowAuthServer,
    keychain: Keychain,
    names: list[str],
    tmp_path: Path,
) -> None:
    server = mlflow_auth_server
    name = unique("staging")
    names.append(name)
    added = cli(
        "connections", "add", name,
        "--kind", "mlflow", "--url", server.url,
        "--auth", "basic", "--username", server.admin_username,
        "--label", "staging", "--colour", "#e0a030", "--secret-stdin",
        stdin=server.admin_password + "\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == (
        f"Added connection {name!r} (mlflow, {server.url}); its secret is in the OS keychain."
    )
    entry = listed()[name]
    assert (entry["kind"], entry["auth"], entry["username"]) == ("mlflow", "basic", "admin")
    assert (entry["label"], entry["colour"]) == ("staging", "#e0a030")
    assert keyring.get_password(SERVICE_NAME, str(entry["profile_id"])) == (
        server.admin_password  # the trailing newline is the shell's, not the password's
    )
    table = cli("connections", "list")
    assert name in table.stdout and "NAME" in table.stdout

    tested = cli("connections", "test", name)
    assert tested.returncode == 0, tested.stderr
    assert tested.stdout.startswith("Connected to MLflow ") and " as admin in " in tested.stdout
    via_profile = cli("--profile", name, "connections", "test", "--json")
    assert via_profile.returncode == 0, via_profile.stderr
    report = json.loads(via_profile.stdout)
    assert (report["ok"], report["user"], report["profile"]) == (True, "admin", name)

    exported = tmp_path / "team.json"
    result = cli("connections", "export", str(exported), name)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        f"Exported 1 connection(s) to {exported}, without their secrets."
    )
    document = json.loads(exported.read_text())
    assert [p["name"] for p in document["profiles"]] == [name]
    assert server.admin_password not in exported.read_text()

    removed = cli("connections", "remove", name)
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout.strip() == f"Removed connection {name!r}."
    assert name not in listed()
    assert keyring.get_password(SERVICE_NAME, str(entry["profile_id"])) is None

    imported = cli("connections", "import", str(exported))
    assert imported.returncode == 0, imported.stderr
    assert f"Imported 1 connection(s) from {exported}: {name!r}." in imported.stdout
    assert "set-secret" in imported.stdout
    failing = cli("connections", "test", name)
    assert failing.returncode == 1
    assert failing.stderr.strip() == (
        "mlops-desktop: The server asks for credentials (401), and no password is saved for "
        "this connection: enter it."
    )
    stored = cli("connections", "set-secret", name, "--secret-stdin", stdin=server.admin_password)
    assert stored.returncode == 0, stored.stderr
    assert cli("connections", "test", name).returncode == 0


def test_failures_are_one_sentence_on_stderr(keychain: Keychain, names: list[str]) -> None:
    port = free_port()
    name = unique("down")
    names.append(name)
    added = cli("connections", "add", name, "--kind", "mlflow", "--url", f"http://127.0.0.1:{port}")
    assert added.returncode == 0, added.stderr
    down = cli("connections", "test", name)
    assert (down.returncode, down.stdout) == (1, "")
    assert down.stderr == (
        f"mlops-desktop: 127.0.0.1 refused the connection on port {port}: is the server running?\n"
    )
    clash = cli("connections", "add", name.upper(), "--kind", "mlflow", "--url", "http://h:1")
    assert clash.returncode == 2
    assert clash.stderr == f"mlops-desktop: A connection named {name.upper()!r} already exists.\n"
    unknown = cli("connections", "test", "no-such-profile")
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("mlops-desktop: There is no connection named ")
    assert "Traceback" not in unknown.stderr
    no_tty = cli(
        "connections", "add", unique("x"), "--kind", "mlflow", "--url", "http://h:1",
        "--auth", "bearer",
    )  # fmt: skip
    assert no_tty.returncode == 2
    assert no_tty.stderr == (
        "mlops-desktop: No terminal to ask for the token of "
        f"{no_tty.args[5]!r}: pipe it in with --secret-stdin.\n"
    )
    bad_import = cli("connections", "import", "/nonexistent/profiles.json")
    assert bad_import.returncode == 1
    assert bad_import.stderr.startswith("mlops-desktop: Could not read /nonexistent/profiles.json")


# -- the secret scan ----------------------------------------------------------------------------


def _encodings(secret: str, username: str) -> list[bytes]:
    raw = secret.encode()
    basic = f"{username}:{secret}".encode()
    return [
        raw,
        secret.encode("utf-16-le"),
        base64.b64encode(raw),
        base64.urlsafe_b64encode(raw),
        base64.b64encode(basic),  # an Authorization: Basic header
        raw.hex().encode(),
    ]


def _files_under(*roots: Path) -> list[Path]:
    return sorted(
        path for root in roots if root.exists() for path in root.rglob("*") if path.is_file()
    )


def test_no_secret_reaches_any_file(
    mlflow_auth_server: MlflowAuthServer,
    keychain: Keychain,
    session_dirs: SessionDirs,
    names: list[str],
    tmp_path: Path,
) -> None:
    server = mlflow_auth_server
    cli_secret = f"cli-Secret-{secrets.token_hex(12)}"
    vault_secret = f"vault-Secret-{secrets.token_hex(12)}"

    # Through the CLI, as a user would; then used for a real sign-in (a 401 here).
    cli_name = unique("scan-cli")
    names.append(cli_name)
    added = cli(
        "connections", "add", cli_name, "--kind", "mlflow", "--url", server.url,
        "--auth", "basic", "--username", "scanner", "--secret-stdin",
        stdin=cli_secret,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert cli("connections", "test", cli_name).returncode == 1
    cli_id = str(listed()[cli_name]["profile_id"])

    # Through the vault, as the profile dialog does.
    vault_name = unique("scan-vault")
    names.append(vault_name)
    assert (
        cli("connections", "add", vault_name, "--kind", "mlflow", "--url", server.url).returncode
        == 0
    )
    vault_id = str(listed()[vault_name]["profile_id"])
    SecretVault().set(vault_id, vault_secret)

    exported = tmp_path / "exported.json"
    assert cli("connections", "export", str(exported)).returncode == 0

    assert keyring.get_password(SERVICE_NAME, cli_id) == cli_secret
    assert keyring.get_password(SERVICE_NAME, vault_id) == vault_secret

    paths = AppPaths.from_environment()
    roots = [
        session_dirs.config,
        session_dirs.data,  # gnome-keyring's own store is here too: encrypted
        session_dirs.cache,
        session_dirs.state,
        paths.log_dir,
    ]
    files = [*_files_under(*roots), exported]
    assert paths.profiles_file in files and len(files) > 3
    needles = _encodings(cli_secret, "scanner") + _encodings(vault_secret, "")
    assert not _leaks(files, needles), "\n".join(_leaks(files, needles))

    # The scan would see a leak: the control file holds one of each encoding.
    control = tmp_path / "control.bin"
    for needle in needles:
        control.write_bytes(b"prefix " + needle + b" suffix")
        assert _leaks([control], needles)


def _leaks(files: list[Path], needles: list[bytes]) -> list[str]:
    return [
        f"{path} holds {needle!r}"
        for path in files
        for needle in needles
        if needle in path.read_bytes()
    ]


def test_an_unknown_profile_stops_before_any_window_opens() -> None:
    result = cli("--profile", "no-such-profile", "screenshot", "--view", "jobs", "--out", "x.png")
    assert result.returncode == 1
    assert result.stderr.startswith("mlops-desktop: There is no connection named 'no-such-profile'")
    assert "Traceback" not in result.stderr
