"""The password (or token) prompt shown when a connection has no secret or it was refused."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from mlops_desktop.domain.connections import AuthKind, Profile
from mlops_desktop.ui.widgets import plain

SECRET_NAMES = {
    AuthKind.BASIC: "Password",
    AuthKind.BEARER: "Token",
    AuthKind.DATABRICKS: "Access token",
    AuthKind.SLURM_JWT: "JWT",
}


def secret_name(auth: AuthKind) -> str:
    """What the secret of this sign-in is called in the user's words ("Password", "Token")."""
    return SECRET_NAMES.get(auth, "Secret")


class SecretPrompt(QDialog):
    """Asks for one profile's secret, saying why; `secret()` is what was typed."""

    def __init__(self, profile: Profile, reason: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        what = secret_name(profile.auth).lower()
        self.setWindowTitle(f"Sign in to {profile.name}")
        self.setMinimumWidth(460)
        self.reason = plain(reason)
        self.reason.setWordWrap(True)
        self.where = plain(
            f"The {what} is stored in the OS keychain for this connection, never in a file."
        )
        self.where.setObjectName("subtitle")
        self.where.setWordWrap(True)
        self.secret_edit = QLineEdit()
        self.secret_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret_edit.setObjectName("secretEdit")
        form = QFormLayout()
        if profile.username:
            form.addRow("User name", plain(profile.username))
        form.addRow(secret_name(profile.auth), self.secret_edit)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Sign in")
        ok.setEnabled(False)
        self.secret_edit.textChanged.connect(lambda text: ok.setEnabled(bool(text)))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.reason)
        layout.addLayout(form)
        layout.addWidget(self.where)
        layout.addWidget(buttons)

    def secret(self) -> str:
        return self.secret_edit.text()


def ask_secret(profile: Profile, reason: str, parent: QWidget | None = None) -> str | None:
    """Show the prompt modally; the typed secret, or None when the user cancelled."""
    prompt = SecretPrompt(profile, reason, parent)
    try:
        if prompt.exec() == QDialog.DialogCode.Accepted and prompt.secret():
            return prompt.secret()
        return None
    finally:
        prompt.secret_edit.clear()
        prompt.deleteLater()
