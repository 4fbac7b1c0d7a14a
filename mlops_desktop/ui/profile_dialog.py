"""The add/edit dialog of a connection profile: fields per kind, inline checks, saving.

The rules (what is required, which sign-ins a kind accepts) come from
`services.profile_rules`; this module only shows them. Accepting saves the profile through
`ProfileStore` and the secret through `SecretVault`, both on a worker; when the keychain
cannot be used the user chooses between a session-only secret and none.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor, QIcon
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from mlops_desktop.backends.errors import BackendError
from mlops_desktop.domain.connections import AuthKind, Profile, ProfileKind, TlsOptions
from mlops_desktop.services.profile_rules import (
    AUTH_KINDS,
    AUTH_WITH_USERNAME,
    REMOTE_KINDS,
    Problem,
    find_problems,
    find_warnings,
    without_unused_fields,
)
from mlops_desktop.services.profiles import new_profile_id
from mlops_desktop.services.tasks import TaskState
from mlops_desktop.ui.context import UiContext
from mlops_desktop.ui.secret_prompt import secret_name
from mlops_desktop.ui.tasks import TaskRunner
from mlops_desktop.ui.views.base import describe_error
from mlops_desktop.ui.widgets import colour_dot, plain

if TYPE_CHECKING:
    from mlops_desktop.backends.secrets import SecretVault
    from mlops_desktop.services.profiles import ProfileStore

log = logging.getLogger(__name__)

KIND_LABELS = {
    ProfileKind.MLFLOW: "MLflow tracking server",
    ProfileKind.LOCAL: "Local MLflow store",
    ProfileKind.RAY: "Ray cluster",
    ProfileKind.KUBERNETES: "Kubernetes",
    ProfileKind.SLURM: "Slurm (slurmrestd)",
    ProfileKind.PROMETHEUS: "Prometheus",
}
URL_LABELS = {
    ProfileKind.MLFLOW: "Server URL",
    ProfileKind.LOCAL: "Store folder",
    ProfileKind.RAY: "Dashboard URL",
    ProfileKind.KUBERNETES: "API server URL",
    ProfileKind.SLURM: "slurmrestd URL",
    ProfileKind.PROMETHEUS: "Prometheus URL",
}
URL_PLACEHOLDERS = {
    ProfileKind.MLFLOW: "https://mlflow.example.com",
    ProfileKind.LOCAL: "/path/to/folder/with/mlflow.db",
    ProfileKind.RAY: "http://head-node:8265",
    ProfileKind.KUBERNETES: "https://kubernetes.example.com:6443",
    ProfileKind.SLURM: "http://slurm.example.com:6820",
    ProfileKind.PROMETHEUS: "http://prometheus.example.com:9090",
}
AUTH_LABELS = {
    AuthKind.NONE: "None",
    AuthKind.BASIC: "User name and password",
    AuthKind.BEARER: "Bearer token",
    AuthKind.DATABRICKS: "Databricks personal access token",
    AuthKind.SLURM_JWT: "Slurm user name and JWT",
}
#: Presets so that prod is never mistaken for dev: (label, colour).
COLOUR_PRESETS = (("dev", "#2e9d5b"), ("staging", "#c77700"), ("prod", "#d64545"))
WARNING_COLOUR = "#b26a00"
ERROR_COLOUR = "#c62828"
PEM_FILES = "PEM files (*.pem *.crt *.cer *.key);;All files (*)"


def _save_profile(store: ProfileStore, profile: Profile, *, state: TaskState) -> Profile:
    store.save(profile)
    return profile


def store_secret(
    vault: SecretVault, profile_id: str, secret: str, session_only: bool, *, state: TaskState
) -> None:
    """The task that stores a secret (the keychain takes ~0.4 s: never on the GUI thread)."""
    vault.set(profile_id, secret, session_only=session_only)


def forget_secret(vault: SecretVault, profile_id: str, *, state: TaskState) -> None:
    """The task that deletes a secret from memory and from the keychain."""
    vault.delete(profile_id)


def _field_note(colour: str) -> QLabel:
    note = plain("")
    note.setWordWrap(True)
    note.setStyleSheet(f"color: {colour};")
    note.hide()
    return note


class ProfileDialog(QDialog):
    """Add a profile (`profile=None`) or edit one; `profile_saved` fires once it is stored."""

    profile_saved = Signal(object)  #: the Profile, stored (its secret too, unless refused)
    save_failed = Signal(str)  #: a sentence saying why the profile could not be saved

    def __init__(
        self,
        ctx: UiContext,
        other_names: Iterable[str],
        profile: Profile | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.tasks = TaskRunner(ctx.activity, self)
        self.editing = profile is not None
        self._original = profile
        self._profile_id = profile.profile_id if profile else new_profile_id()
        self._other_names = tuple(other_names)
        self._touched: set[str] = set()
        self._colour = COLOUR_PRESETS[0][1]
        self._saved: Profile | None = None
        self.notice = ""  # what the caller should tell the user after saving (or "")
        self.setWindowTitle(f"Edit {profile.name}" if profile else "New connection")
        self.setMinimumSize(600, 560)
        self.resize(660, 820)

        self._errors: dict[str, QLabel] = {}
        self._warnings: dict[str, QLabel] = {}
        self._holders: dict[str, QWidget] = {}  # field -> its form row's widget
        self._inputs: dict[str, QWidget] = {}  # field -> the widget the user edits
        self._captions: list[QLabel] = []
        content = QWidget()
        column = QVBoxLayout(content)
        column.addWidget(self._build_connection_group())
        column.addWidget(self._build_sign_in_group())
        column.addWidget(self._build_network_group())
        column.addWidget(self._build_appearance_group())
        column.addStretch(1)
        # One caption width for every group, so that the fields line up down the dialog.
        width = max(caption.sizeHint().width() for caption in self._captions)
        for caption in self._captions:
            caption.setMinimumWidth(width)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(content)

        self.status = plain("")
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

        self._fill(profile)
        #: The profile fields whose problems an edit of each widget reveals.
        self._fields_of: dict[QObject, tuple[str, ...]] = {
            self.name_edit: ("name",),
            self.url_edit: ("url",),
            self.username_edit: ("username",),
            self.ca_edit: ("ca_bundle",),
            self.cert_edit: ("client_cert",),
            self.key_edit: ("client_key", "client_cert"),
            self.proxy_edit: ("proxy",),
            self.label_edit: ("label",),
            self.namespace_edit: ("namespace",),
            self.context_edit: ("kube_context", "url"),
            self.verify_check: ("verify",),
            self.connect_timeout: ("connect_timeout_s",),
            self.read_timeout: ("read_timeout_s",),
        }
        for edit in (
            self.name_edit,
            self.url_edit,
            self.username_edit,
            self.ca_edit,
            self.cert_edit,
            self.key_edit,
            self.proxy_edit,
            self.label_edit,
            self.namespace_edit,
            self.context_edit,
        ):
            edit.textChanged.connect(self._on_field_edited)
        self.kind_combo.currentIndexChanged.connect(self._on_kind_combo_changed)
        self.auth_combo.currentIndexChanged.connect(self._on_auth_combo_changed)
        self.verify_check.toggled.connect(self._on_field_edited)
        self.connect_timeout.valueChanged.connect(self._on_field_edited)
        self.read_timeout.valueChanged.connect(self._on_field_edited)
        self._update_fields()

    # -- construction ----------------------------------------------------------------------
    def _row(self, form: QFormLayout, label: str, field: str, widget: QWidget) -> QLabel:
        """A form row whose field carries its own error (and warning) note below it."""
        holder = QWidget()
        stack = QVBoxLayout(holder)
        stack.setContentsMargins(0, 0, 0, 0)
        stack.setSpacing(2)
        stack.addWidget(widget)
        self._holders[field] = holder
        self._inputs[field] = widget
        self._errors[field] = _field_note(ERROR_COLOUR)
        self._warnings[field] = _field_note(WARNING_COLOUR)
        stack.addWidget(self._errors[field])
        stack.addWidget(self._warnings[field])
        caption = QLabel(label)
        self._captions.append(caption)
        form.addRow(caption, holder)
        return caption

    def _with_button(self, edit: QLineEdit, text: str, slot: object) -> QWidget:
        holder = QWidget()
        row = QHBoxLayout(holder)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(edit, 1)
        button = QPushButton(text)
        button.clicked.connect(slot)
        row.addWidget(button)
        return holder

    def _build_connection_group(self) -> QGroupBox:
        group = QGroupBox("Connection")
        self.connection_form = form = QFormLayout(group)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("e.g. prod-tracking")
        self._row(form, "Name", "name", self.name_edit)
        self.kind_combo = QComboBox()
        for kind, text in KIND_LABELS.items():
            self.kind_combo.addItem(text, kind)
        self._row(form, "Kind", "kind", self.kind_combo)
        self.url_edit = QLineEdit()
        self.url_browse = self._with_button(self.url_edit, "Browse…", self._on_url_browse_clicked)
        self.url_caption = self._row(form, "Server URL", "url", self.url_browse)
        self.namespace_edit = QLineEdit()
        self.namespace_edit.setPlaceholderText("default")
        self._row(form, "Namespace", "namespace", self.namespace_edit)
        self.context_edit = QLineEdit()
        self.context_edit.setPlaceholderText("a context of ~/.kube/config, instead of URL + token")
        self._row(form, "Kubeconfig context", "kube_context", self.context_edit)
        return group

    def _build_sign_in_group(self) -> QGroupBox:
        self.sign_in_group = group = QGroupBox("Sign-in")
        self.sign_in_form = form = QFormLayout(group)
        self.auth_combo = QComboBox()
        self._row(form, "Method", "auth", self.auth_combo)
        self.username_edit = QLineEdit()
        self._row(form, "User name", "username", self.username_edit)
        self.secret_edit = QLineEdit()
        self.secret_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret_edit.setObjectName("secretEdit")
        self.secret_caption = self._row(form, "Password", "secret", self.secret_edit)
        self.secret_hint = plain("")
        self.secret_hint.setObjectName("subtitle")
        self.secret_hint.setWordWrap(True)
        form.addRow("", self.secret_hint)
        return group

    def _build_network_group(self) -> QGroupBox:
        self.network_group = group = QGroupBox("TLS and network")
        form = QFormLayout(group)
        self.verify_check = QCheckBox("Verify the server's certificate")
        self._row(form, "TLS", "verify", self.verify_check)
        self.ca_edit = QLineEdit()
        self.ca_edit.setPlaceholderText("system certificates")
        self._row(
            form,
            "CA bundle",
            "ca_bundle",
            self._with_button(self.ca_edit, "Browse…", lambda: self._pick_pem(self.ca_edit)),
        )
        self.cert_edit = QLineEdit()
        self.cert_edit.setPlaceholderText("none")
        self._row(
            form,
            "Client certificate",
            "client_cert",
            self._with_button(self.cert_edit, "Browse…", lambda: self._pick_pem(self.cert_edit)),
        )
        self.key_edit = QLineEdit()
        self.key_edit.setPlaceholderText("in the certificate file")
        self._row(
            form,
            "Client key",
            "client_key",
            self._with_button(self.key_edit, "Browse…", lambda: self._pick_pem(self.key_edit)),
        )
        self.proxy_edit = QLineEdit()
        self.proxy_edit.setPlaceholderText("from the environment (HTTPS_PROXY)")
        self._row(form, "Proxy", "proxy", self.proxy_edit)
        self.connect_timeout = self._seconds_box()
        self._row(form, "Connect timeout", "connect_timeout_s", self.connect_timeout)
        self.read_timeout = self._seconds_box()
        self._row(form, "Read timeout", "read_timeout_s", self.read_timeout)
        return group

    def _seconds_box(self) -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        box.setRange(0.5, 3600.0)
        box.setDecimals(1)
        box.setSuffix(" s")
        box.setSingleStep(1.0)
        return box

    def _build_appearance_group(self) -> QGroupBox:
        group = QGroupBox("Appearance")
        form = QFormLayout(group)
        presets = QWidget()
        row = QHBoxLayout(presets)
        row.setContentsMargins(0, 0, 0, 0)
        self.preset_buttons: dict[str, QPushButton] = {}
        for label, colour in COLOUR_PRESETS:
            button = QPushButton(colour_dot(colour, 14), label)
            button.setCheckable(True)
            button.setToolTip(f"{colour}, labelled {label!r}")
            button.clicked.connect(lambda _=False, c=colour, t=label: self._on_preset_clicked(c, t))
            self.preset_buttons[colour] = button
            row.addWidget(button)
        self.other_colour = QPushButton("Other…")
        self.other_colour.clicked.connect(self._on_other_colour_clicked)
        row.addWidget(self.other_colour)
        row.addStretch(1)
        self._row(form, "Colour", "colour", presets)
        self.label_edit = QLineEdit()
        self.label_edit.setPlaceholderText("e.g. prod, staging, dev")
        self.label_edit.setMaxLength(24)
        self._row(form, "Label", "label", self.label_edit)
        self.description_edit = QPlainTextEdit()
        self.description_edit.setPlaceholderText("What this connection is for (optional)")
        self.description_edit.setFixedHeight(64)
        self._row(form, "Description", "description", self.description_edit)
        return group

    def _fill(self, profile: Profile | None) -> None:
        profile = profile or Profile(profile_id=self._profile_id, name="", kind=ProfileKind.MLFLOW)
        self.name_edit.setText(profile.name)
        self.kind_combo.setCurrentIndex(self.kind_combo.findData(profile.kind))
        self._refill_auth_choices(profile.kind, profile.auth)
        self.url_edit.setText(profile.url)
        self.username_edit.setText(profile.username)
        self.verify_check.setChecked(profile.tls.verify)
        self.ca_edit.setText(profile.tls.ca_bundle)
        self.cert_edit.setText(profile.tls.client_cert)
        self.key_edit.setText(profile.tls.client_key)
        self.proxy_edit.setText(profile.proxy)
        self.connect_timeout.setValue(profile.connect_timeout_s)
        self.read_timeout.setValue(profile.read_timeout_s)
        self.label_edit.setText(profile.label)
        self.namespace_edit.setText(profile.namespace)
        self.context_edit.setText(profile.kube_context)
        self.description_edit.setPlainText(profile.description)
        self.set_colour(profile.colour)

    # -- what the fields say -----------------------------------------------------------------
    @property
    def kind(self) -> ProfileKind:
        return ProfileKind(self.kind_combo.currentData())

    @property
    def auth(self) -> AuthKind:
        data = self.auth_combo.currentData()
        return AuthKind(data) if data is not None else AuthKind.NONE

    @property
    def colour(self) -> str:
        return self._colour

    def profile(self) -> Profile:
        """The profile the fields describe, with what its kind does not use cleared."""
        return without_unused_fields(
            Profile(
                profile_id=self._profile_id,
                name=self.name_edit.text(),
                kind=self.kind,
                url=self.url_edit.text(),
                auth=self.auth,
                username=self.username_edit.text(),
                tls=TlsOptions(
                    verify=self.verify_check.isChecked(),
                    ca_bundle=self.ca_edit.text().strip(),
                    client_cert=self.cert_edit.text().strip(),
                    client_key=self.key_edit.text().strip(),
                ),
                proxy=self.proxy_edit.text(),
                connect_timeout_s=self.connect_timeout.value(),
                read_timeout_s=self.read_timeout.value(),
                colour=self._colour,
                label=self.label_edit.text(),
                namespace=self.namespace_edit.text(),
                kube_context=self.context_edit.text(),
                description=self.description_edit.toPlainText(),
            )
        )

    def secret(self) -> str:
        """The secret typed in the dialog; empty means none (or, when editing, keep it)."""
        return self.secret_edit.text() if self.profile().needs_secret else ""

    def problems(self) -> list[Problem]:
        return find_problems(self.profile(), self._other_names)

    # -- setters for callers and tests -------------------------------------------------------
    def set_kind(self, kind: ProfileKind) -> None:
        self.kind_combo.setCurrentIndex(self.kind_combo.findData(kind))

    def set_auth(self, auth: AuthKind) -> None:
        index = self.auth_combo.findData(auth)
        if index < 0:
            raise ValueError(f"{KIND_LABELS[self.kind]} does not offer {AUTH_LABELS[auth]}")
        self.auth_combo.setCurrentIndex(index)

    def set_colour(self, colour: str) -> None:
        self._colour = QColor(colour).name() if QColor(colour).isValid() else colour
        for preset, button in self.preset_buttons.items():
            button.setChecked(preset == self._colour)
        custom = self._colour not in self.preset_buttons
        self.other_colour.setIcon(colour_dot(self._colour, 14) if custom else QIcon())
        self.other_colour.setText(f"Other ({self._colour})…" if custom else "Other…")

    # -- reacting to edits -------------------------------------------------------------------
    def _refill_auth_choices(self, kind: ProfileKind, wanted: AuthKind | None = None) -> None:
        current = wanted or self.auth
        self.auth_combo.blockSignals(True)
        self.auth_combo.clear()
        for auth in AUTH_KINDS[kind]:
            self.auth_combo.addItem(AUTH_LABELS[auth], auth)
        index = self.auth_combo.findData(current)
        self.auth_combo.setCurrentIndex(max(0, index))
        self.auth_combo.blockSignals(False)

    def _on_kind_combo_changed(self, _index: int) -> None:
        self._refill_auth_choices(self.kind)
        self._touched.add("kind")
        self._update_fields()

    def _on_auth_combo_changed(self, _index: int) -> None:
        self._touched.add("auth")
        self._update_fields()

    def _on_field_edited(self, *_args: object) -> None:
        self._touched.update(self._fields_of.get(self.sender(), ()))
        self._update_fields()

    def _on_preset_clicked(self, colour: str, label: str) -> None:
        preset_labels = {text for text, _ in COLOUR_PRESETS}
        if self.label_edit.text().strip() in preset_labels | {""}:
            self.label_edit.setText(label)
        self.set_colour(colour)

    def _on_other_colour_clicked(self) -> None:
        chosen = QColorDialog.getColor(QColor(self._colour), self, "Connection colour")
        if chosen.isValid():
            self.set_colour(chosen.name())
        else:
            self.set_colour(self._colour)  # re-check the current preset button

    def _on_url_browse_clicked(self) -> None:
        folder = self.ctx.prompts.choose_folder("Folder of the local MLflow store")
        if folder is not None:
            self.url_edit.setText(str(folder))
            self._touched.add("url")
            self._update_fields()

    def _pick_pem(self, edit: QLineEdit) -> None:
        path = self.ctx.prompts.choose_file("Choose a PEM file", PEM_FILES)
        if path is not None:
            edit.setText(str(path))
            self._update_fields()

    def _update_fields(self) -> None:
        """Show the rows this kind and sign-in use, and the notes for touched fields."""
        kind, auth = self.kind, self.auth
        self.url_caption.setText(URL_LABELS[kind])
        self.url_edit.setPlaceholderText(URL_PLACEHOLDERS[kind])
        browse = self.url_browse.findChild(QPushButton)
        if browse is not None:
            browse.setVisible(kind is ProfileKind.LOCAL)
        kubernetes = kind is ProfileKind.KUBERNETES
        self.connection_form.setRowVisible(self._holders["namespace"], kubernetes)
        self.connection_form.setRowVisible(self._holders["kube_context"], kubernetes)
        self.sign_in_group.setVisible(kind is not ProfileKind.LOCAL)
        self.network_group.setVisible(kind in REMOTE_KINDS)
        self.sign_in_form.setRowVisible(self._holders["username"], auth in AUTH_WITH_USERNAME)
        needs_secret = auth is not AuthKind.NONE
        self.sign_in_form.setRowVisible(self._holders["secret"], needs_secret)
        self.sign_in_form.setRowVisible(self.secret_hint, needs_secret)
        what = secret_name(auth)
        self.secret_caption.setText(what)
        if self.editing:
            self.secret_edit.setPlaceholderText(f"leave empty to keep the stored {what.lower()}")
        else:
            self.secret_edit.setPlaceholderText("")
        self.secret_hint.setText(
            f"The {what.lower()} is stored in the OS keychain, never in the profile file."
        )
        self._show_notes()

    def _show_notes(self) -> None:
        profile = self.profile()
        errors = {
            problem.field: problem.message
            for problem in reversed(find_problems(profile, self._other_names))
        }
        warnings = {problem.field: problem.message for problem in find_warnings(profile)}
        for field, note in self._errors.items():
            text = errors.get(field, "") if field in self._touched else ""
            note.setText(text)
            note.setVisible(bool(text))
        for field, note in self._warnings.items():
            text = warnings.get(field, "")
            note.setText(f"⚠ {text}" if text else "")
            note.setVisible(bool(text))

    # -- saving ------------------------------------------------------------------------------
    def accept(self) -> None:
        """Check the fields; if they are fine, save on a worker and close when stored."""
        problems = self.problems()
        if problems:
            self._touched.update(problem.field for problem in problems)
            self._show_notes()
            unplaced = [p.message for p in problems if p.field not in self._errors]
            self.status.setText(
                " ".join(unplaced) or "Fix the fields marked in red to save this connection."
            )
            self.status.setStyleSheet(f"color: {ERROR_COLOUR};")
            first = self._inputs.get(problems[0].field)
            if first is not None:
                first.setFocus()
            return
        profile = self.profile()
        self._set_busy(True, f"Saving {profile.name}…")
        self.tasks.run(
            _save_profile,
            self.ctx.profiles,
            profile,
            on_done=self._on_profile_stored,
            on_error=self._on_save_failed,
            description=f"Saving the connection {profile.name}",
            slot="save",
        )

    def _on_profile_stored(self, profile: Profile) -> None:
        self._saved = profile
        secret = self.secret()
        if profile.needs_secret and secret:
            self._set_busy(True, "Storing the secret in the OS keychain…")
            self.tasks.run(
                store_secret,
                self.ctx.vault,
                profile.profile_id,
                secret,
                False,
                on_done=lambda _: self._finish(),
                on_error=self._on_secret_failed,
                description="Storing the secret in the keychain",
                slot="secret",
            )
        elif not profile.needs_secret and self._original is not None:
            if self._original.needs_secret:
                # The sign-in was removed: a secret left behind would only be a liability.
                self.tasks.run(
                    forget_secret,
                    self.ctx.vault,
                    profile.profile_id,
                    on_done=lambda _: self._finish(),
                    on_error=self._on_secret_failed,
                    description="Removing the secret from the keychain",
                    slot="secret",
                )
            else:
                self._finish()
        else:
            self._finish()

    def _on_secret_failed(self, error: Exception) -> None:
        from mlops_desktop.backends.secrets import KeychainUnavailable

        profile = self._saved
        assert profile is not None
        if isinstance(error, KeychainUnavailable) and self.secret():
            if self.ctx.prompts.keep_secret_for_session(profile, str(error)):
                self.tasks.run(
                    store_secret,
                    self.ctx.vault,
                    profile.profile_id,
                    self.secret(),
                    True,
                    on_done=lambda _: self._finish(
                        "The secret is kept for this session only: you will be asked for it "
                        "again after a restart."
                    ),
                    on_error=self._on_save_failed,
                    description="Keeping the secret for this session",
                    slot="secret",
                )
                return
            self._finish(
                f"{profile.name} was saved without its secret: you will be asked for it when "
                "you connect."
            )
            return
        self._finish(describe_error(error, f"store the secret of {profile.name}"))

    def _on_save_failed(self, error: Exception) -> None:
        message = describe_error(error, "save the connection")
        if not isinstance(error, BackendError):
            log.error("saving a connection failed", exc_info=error)
        self._set_busy(False, message)
        self.status.setStyleSheet(f"color: {ERROR_COLOUR};")
        self.save_failed.emit(message)

    def _finish(self, notice: str = "") -> None:
        self.notice = notice
        self.secret_edit.clear()
        self._set_busy(False, "")
        assert self._saved is not None
        self.profile_saved.emit(self._saved)
        super().accept()

    def _set_busy(self, busy: bool, message: str) -> None:
        self.status.setStyleSheet("")
        self.status.setText(message)
        self.buttons.setEnabled(not busy)
        scroll = self.findChild(QScrollArea)
        if scroll is not None:
            scroll.setEnabled(not busy)

    def done(self, result: int) -> None:
        self.tasks.shutdown()
        super().done(result)

    def saved_profile(self) -> Profile | None:
        return self._saved
