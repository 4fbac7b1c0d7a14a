"""Scripted answers to the window's questions, and helpers shared by the connection UI tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import keyring
import requests
from keyring.backend import KeyringBackend

from mlops_desktop.domain.connections import Profile
from mlops_desktop.ui.prompts import Prompts
from tests.harness.mlflow_servers import MlflowAuthServer


@dataclass
class ScriptedPrompts(Prompts):
    """Answers from lists, recording every question; an unexpected question fails the test."""

    secrets: list[str | None] = field(default_factory=list)
    keep_for_session: list[bool] = field(default_factory=list)
    confirmations: list[bool] = field(default_factory=list)
    files: list[Path | None] = field(default_factory=list)
    asked: list[tuple[str, str, str]] = field(default_factory=list)  # (question, profile, text)

    def ask_secret(self, profile: Profile, reason: str) -> str | None:
        self.asked.append(("secret", profile.name, reason))
        assert self.secrets, f"unexpected secret prompt for {profile.name}: {reason}"
        return self.secrets.pop(0)

    def keep_secret_for_session(self, profile: Profile, reason: str) -> bool:
        self.asked.append(("session", profile.name, reason))
        assert self.keep_for_session, f"unexpected session-only question: {reason}"
        return self.keep_for_session.pop(0)

    def confirm(self, title: str, question: str, action: str) -> bool:
        self.asked.append(("confirm", title, question))
        assert self.confirmations, f"unexpected confirmation: {question}"
        return self.confirmations.pop(0)

    def choose_export_file(self) -> Path | None:
        return self._file("export")

    def choose_import_file(self) -> Path | None:
        return self._file("import")

    def choose_file(self, title: str, filter_text: str = "All files (*)") -> Path | None:
        return self._file(title)

    def choose_folder(self, title: str) -> Path | None:
        return self._file(title)

    def _file(self, what: str) -> Path | None:
        self.asked.append(("file", what, ""))
        assert self.files, f"unexpected file dialog: {what}"
        return self.files.pop(0)

    def questions(self, kind: str) -> list[tuple[str, str, str]]:
        return [entry for entry in self.asked if entry[0] == kind]


def files_holding(roots: list[Path], needle: bytes) -> list[Path]:
    """Every file under `roots` whose bytes contain `needle`."""
    found = []
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                try:
                    if needle in path.read_bytes():
                        found.append(path)
                except OSError:
                    continue
    return found


def create_user(server: MlflowAuthServer, prefix: str = "alice") -> tuple[str, str]:
    """A new user of the basic-auth server: (name, password)."""
    name, password = f"{prefix}-{uuid.uuid4().hex[:6]}", f"pw-{uuid.uuid4().hex}"
    _as_admin(server, "POST", "users/create", {"username": name, "password": password})
    return name, password


def change_password(server: MlflowAuthServer, user: str) -> str:
    """Give `user` a new password (as the admin): the old one is revoked. Returns the new one."""
    password = f"pw-{uuid.uuid4().hex}"
    _as_admin(server, "PATCH", "users/update-password", {"username": user, "password": password})
    return password


def _as_admin(server: MlflowAuthServer, method: str, path: str, body: dict[str, str]) -> None:
    reply = requests.request(
        method,
        f"{server.url}/api/2.0/mlflow/{path}",
        json=body,
        auth=server.admin_auth,
        timeout=10,
    )
    assert reply.status_code == 200, reply.text


def without_keychain() -> Iterator[None]:
    """Make `keyring` fail as with no OS keychain, and put the real one back afterwards."""
    from keyring.backends import fail

    original: KeyringBackend = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(original)
