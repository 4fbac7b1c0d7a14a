"""The questions the window asks mid-task: a secret, a confirmation, a file to read or write.

Views and dialogs ask through `ctx.prompts` instead of opening message boxes themselves, so a
test hands the context a `Prompts` subclass with scripted answers and drives whole flows
(connect, re-prompt, keychain fallback, remove) without a modal dialog blocking it.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QWidget

from mlops_desktop.domain.connections import Profile
from mlops_desktop.ui.secret_prompt import ask_secret

PROFILE_FILES = "Connection profiles (*.json *.toml);;All files (*)"


class Prompts:
    """Modal Qt dialogs; every method returns the user's answer (None or False for cancel)."""

    def _parent(self) -> QWidget | None:
        return QApplication.activeWindow()

    def ask_secret(self, profile: Profile, reason: str) -> str | None:
        """The secret for `profile`, typed again; `reason` says why it is asked for."""
        return ask_secret(profile, reason, self._parent())

    def keep_secret_for_session(self, profile: Profile, reason: str) -> bool:
        """The keychain refused the secret: keep it in memory until the app quits?"""
        answer = QMessageBox.question(
            self._parent(),
            "Keychain unavailable",
            f"The secret of {profile.name!r} cannot be stored in the OS keychain: {reason}\n\n"
            "Keep it for this session only? It stays in memory until you quit, and is never "
            "written to a file. Otherwise you will be asked for it when you connect.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.Yes,
        )
        return answer == QMessageBox.StandardButton.Yes

    def confirm(self, title: str, question: str, action: str) -> bool:
        """Ask before something that cannot be undone; `action` labels the yes-button."""
        box = QMessageBox(
            QMessageBox.Icon.Warning, title, question, QMessageBox.StandardButton.Cancel
        )
        box.setParent(self._parent(), box.windowFlags())
        yes = box.addButton(action, QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is yes

    def choose_export_file(self) -> Path | None:
        path, _ = QFileDialog.getSaveFileName(
            self._parent(), "Export connections", "connections.json", PROFILE_FILES
        )
        return Path(path) if path else None

    def choose_import_file(self) -> Path | None:
        path, _ = QFileDialog.getOpenFileName(
            self._parent(), "Import connections", "", PROFILE_FILES
        )
        return Path(path) if path else None

    def choose_file(self, title: str, filter_text: str = "All files (*)") -> Path | None:
        path, _ = QFileDialog.getOpenFileName(self._parent(), title, "", filter_text)
        return Path(path) if path else None

    def choose_folder(self, title: str) -> Path | None:
        path = QFileDialog.getExistingDirectory(self._parent(), title)
        return Path(path) if path else None
