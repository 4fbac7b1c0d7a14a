"""Secrets against the real Secret Service keychain, and what happens when there is none."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyring.errors import KeyringLocked

from mlops_desktop.backends.secrets import (
    SERVICE_NAME,
    KeychainUnavailable,
    KeyringSecretStore,
    SecretVault,
    keychain_status,
)
from tests.harness import components
from tests.harness.keychain import Keychain

pytestmark = pytest.mark.integration


def a_secret() -> str:
    return f"s3cret-ünï-{secrets.token_hex(8)}"


@pytest.fixture
def profile_id() -> Iterator[str]:
    profile_id = uuid.uuid4().hex
    yield profile_id
    # Nothing stored, or no keychain at all, is fine: the test did not leave a secret.
    with contextlib.suppress(Exception):
        keyring.delete_password(SERVICE_NAME, profile_id)


@pytest.fixture
def replaced_keyring() -> Iterator[None]:
    """Lets a test swap keyring's backend; the session's Secret Service comes back after."""
    previous = keyring.get_keyring()
    yield
    keyring.set_keyring(previous)


def test_the_session_keychain_is_usable(keychain: Keychain) -> None:
    status = keychain_status()
    assert status.usable, status.reason
    assert status.backend == "SecretService Keyring"
    assert status.reason == ""
    assert SecretVault().status() == status


def test_a_secret_set_through_the_vault_is_in_the_keychain(
    keychain: Keychain, profile_id: str
) -> None:
    vault = SecretVault()
    secret = a_secret()
    vault.set(profile_id, secret)
    assert keyring.get_password(SERVICE_NAME, profile_id) == secret
    assert SecretVault().get(profile_id) == secret  # another vault, same keychain

    vault.set(profile_id, "rotated")
    assert keyring.get_password(SERVICE_NAME, profile_id) == "rotated"

    vault.delete(profile_id)
    assert keyring.get_password(SERVICE_NAME, profile_id) is None
    assert vault.get(profile_id) is None
    vault.delete(profile_id)  # deleting nothing is fine


def test_a_session_only_secret_never_reaches_the_keychain(
    keychain: Keychain, profile_id: str
) -> None:
    vault = SecretVault()
    secret = a_secret()
    vault.set(profile_id, secret, session_only=True)
    assert vault.get(profile_id) == secret
    assert vault.has_session_secret(profile_id)
    assert keyring.get_password(SERVICE_NAME, profile_id) is None
    assert SecretVault().get(profile_id) is None  # gone with the session

    # Saving it to the keychain later replaces the session copy.
    vault.set(profile_id, "kept")
    assert not vault.has_session_secret(profile_id)
    assert vault.get(profile_id) == "kept" == keyring.get_password(SERVICE_NAME, profile_id)
    assert secret not in repr(vault.session)


def test_no_keychain_is_reported_and_session_only_still_works(
    keychain: Keychain, replaced_keyring: None, profile_id: str
) -> None:
    keyring.set_keyring(fail.Keyring())
    status = keychain_status()
    assert not status.usable
    assert status.reason.startswith("No OS keychain is available (")

    vault = SecretVault()
    secret = a_secret()
    with pytest.raises(KeychainUnavailable) as caught:
        vault.set(profile_id, secret)
    assert caught.value.failure == "keychain"
    assert secret not in str(caught.value)
    assert caught.value.__cause__ is None
    assert not vault.has_session_secret(profile_id)  # nothing was kept silently
    with pytest.raises(KeychainUnavailable):
        vault.get(profile_id)

    vault.set(profile_id, secret, session_only=True)
    assert vault.get(profile_id) == secret


class PlaintextKeyring(KeyringBackend):
    """Stands for keyrings.alt's file backends: secrets readable by anyone with the file."""

    # keyring registers every backend class it sees; with priority 0 this one is never
    # chosen (nor chained) by keyring's own detection, only by keyring.set_keyring.
    priority = 0  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.stored: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.stored.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.stored[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.stored.pop((service, username), None)


def test_a_plaintext_backend_is_refused(
    keychain: Keychain, replaced_keyring: None, profile_id: str
) -> None:
    plaintext = PlaintextKeyring()
    keyring.set_keyring(plaintext)
    status = keychain_status()
    assert not status.usable
    assert "stores secrets in plain text; refused" in status.reason
    with pytest.raises(KeychainUnavailable, match="plain text"):
        SecretVault().set(profile_id, a_secret())
    assert plaintext.stored == {}


class LockedKeyring(KeyringBackend):
    """A keychain whose unlock prompt the user dismissed."""

    priority = 0  # type: ignore[assignment]  # see PlaintextKeyring

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("Failed to unlock the collection!")

    set_password = delete_password = get_password  # type: ignore[assignment]


def test_a_locked_keychain_says_so(
    keychain: Keychain, replaced_keyring: None, profile_id: str
) -> None:
    keyring.set_keyring(LockedKeyring())
    status = keychain_status()
    assert not status.usable
    assert "is locked, or its unlock prompt was dismissed" in status.reason
    secret = a_secret()
    with pytest.raises(KeychainUnavailable, match="locked") as caught:
        KeyringSecretStore().set(profile_id, secret)
    assert secret not in str(caught.value)


@pytest.fixture
def locked_secret_service(
    keychain: Keychain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """A second session bus on which a gnome-keyring is D-Bus-activated, locked, with no one
    to answer its unlock prompt: what a headless login without --unlock gives."""
    dbus_daemon = components.command_path("dbus-daemon", "dbus-daemon")
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    (tmp_path / "data").mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY")
    }
    env.update({"XDG_RUNTIME_DIR": str(runtime), "XDG_DATA_HOME": str(tmp_path / "data")})
    with (tmp_path / "bus.log").open("wb") as log:
        bus = subprocess.Popen(
            [
                dbus_daemon,
                "--session",
                "--nofork",
                "--nopidfile",
                "--print-address=1",
                f"--address=unix:path={tmp_path / 'bus'}",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            env=env,
            start_new_session=True,  # the activated keyring daemon joins its process group
        )
    try:
        assert bus.stdout is not None
        address = bus.stdout.readline().decode().strip()
        assert address, (tmp_path / "bus.log").read_text()
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        yield
    finally:
        monkeypatch.undo()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(bus.pid, signal.SIGTERM)
        bus.wait(timeout=10)
        if bus.stdout is not None:
            bus.stdout.close()


def test_a_dismissed_unlock_prompt_of_a_real_keychain(
    locked_secret_service: None, profile_id: str
) -> None:
    status = keychain_status()
    assert not status.usable
    assert status.backend == "SecretService Keyring"
    assert "Prompt dismissed" in status.reason, status.reason
    vault = SecretVault()
    with pytest.raises(KeychainUnavailable, match="unlock prompt was dismissed"):
        vault.set(profile_id, a_secret())
    vault.set(profile_id, "for now", session_only=True)
    assert vault.get(profile_id) == "for now"
