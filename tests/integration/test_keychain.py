"""The session keychain is a real Secret Service that `keyring` reads and writes."""

from __future__ import annotations

import uuid

import keyring
import pytest
from keyring.backends import SecretService

from tests.harness.keychain import Keychain

pytestmark = pytest.mark.integration


def test_keyring_uses_the_secret_service(keychain: Keychain) -> None:
    assert isinstance(keyring.get_keyring(), SecretService.Keyring)
    assert keychain.bus_address.startswith("unix:path=")


def test_secret_round_trip(keychain: Keychain) -> None:
    service = f"mlops-desktop-test-{uuid.uuid4()}"
    assert keyring.get_password(service, "alice") is None

    keyring.set_password(service, "alice", "s3cret ünïcode")
    assert keyring.get_password(service, "alice") == "s3cret ünïcode"

    keyring.set_password(service, "alice", "rotated")
    assert keyring.get_password(service, "alice") == "rotated"

    keyring.delete_password(service, "alice")
    assert keyring.get_password(service, "alice") is None
