"""The Connections view: connection profiles, testing them, and the workspaces open now.

Above, the active workspace with a few numbers. Left, the profiles (the embedded demo
first), each in its colour with its label, kind and URL; right, the selected profile's
settings and its last test result. Add and Edit open `ProfileDialog`; Test, Connect and
every file or keychain access run on a worker. A refused or missing secret is asked for
again through `ctx.prompts` and the connection retried; connecting to a profile that is
already open only switches to it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from mlops_desktop.backends.errors import AuthenticationFailed, BackendError
from mlops_desktop.backends.secrets import KeychainStatus, KeychainUnavailable, SecretVault
from mlops_desktop.domain.connections import ConnectionReport, Profile, ProfileKind
from mlops_desktop.services.connections import open_workspace, test_connection
from mlops_desktop.services.profile_rules import REMOTE_KINDS
from mlops_desktop.services.profiles import ProfileStore
from mlops_desktop.services.summary import WorkspaceSummary, summarize_workspace
from mlops_desktop.services.tasks import TaskState
from mlops_desktop.services.workspace import Workspace, open_demo_workspace
from mlops_desktop.ui.context import DEMO_COLOUR, DEMO_KEY, UiContext, workspace_key
from mlops_desktop.ui.profile_dialog import (
    AUTH_LABELS,
    KIND_LABELS,
    URL_LABELS,
    ProfileDialog,
    forget_secret,
    store_secret,
)
from mlops_desktop.ui.profile_list import (
    ROLE_COLOUR,
    ROLE_DETAIL,
    ROLE_KEY,
    ROLE_LABEL,
    ROLE_STATE,
    ProfileListDelegate,
    profile_detail,
)
from mlops_desktop.ui.secret_prompt import secret_name
from mlops_desktop.ui.views.base import View, describe_error
from mlops_desktop.ui.widgets import StatTile, TonePanel, plain

KIND_LABELS_OF_WORKSPACES = {
    "demo": "Embedded demo workspace (local MLflow store)",
    "local": "Local MLflow store",
    "mlflow": "MLflow tracking server",
    "bundle": "Offline bundle (read-only)",
}
DEMO_NAME = "Demo workspace"


def human_size(size: int | None) -> str:
    if size is None:
        return "on the server"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{int(value)} B"
        value /= 1024
    return f"{value:.1f} GB"


# -- worker tasks: each one call of the store or the vault, off the GUI thread ------------------


def _load_profiles(store: ProfileStore, *, state: TaskState) -> list[Profile]:
    return store.load()


def _remove_profile(store: ProfileStore, profile_id: str, *, state: TaskState) -> Profile:
    return store.remove(profile_id)


def _duplicate_profile(store: ProfileStore, profile_id: str, *, state: TaskState) -> Profile:
    return store.duplicate(profile_id)


def _export_profiles(store: ProfileStore, path: Path, *, state: TaskState) -> int:
    return store.export(path)


def _import_profiles(store: ProfileStore, path: Path, *, state: TaskState) -> list[Profile]:
    return store.import_file(path)


def _keychain_status(vault: SecretVault, *, state: TaskState) -> KeychainStatus:
    return vault.status()


def _secret_place(vault: SecretVault, profile_id: str, *, state: TaskState) -> str:
    """ "session", "keychain" or "none": where the profile's secret is kept, if anywhere."""
    if vault.has_session_secret(profile_id):
        return "session"
    return "keychain" if vault.get(profile_id) is not None else "none"


def _test_profile(profile: Profile, vault: SecretVault, *, state: TaskState) -> ConnectionReport:
    """Test with the stored secret; a keychain that cannot be read is a failed test."""
    secret: str | None = None
    if profile.needs_secret:
        try:
            secret = vault.get(profile.profile_id)
        except KeychainUnavailable as error:
            return ConnectionReport(ok=False, message=str(error), failure=error.failure)
    return test_connection(profile, secret, state)


@dataclass
class TestOutcome:
    """The last test (or failed connect) of one profile: running, or its report and when."""

    report: ConnectionReport | None  # None while the test runs
    at: float
    action: str = "Test"  # "Test" or "Connect": what the report is the result of


class ConnectionsView(View):
    view_id = "connections"
    title = "Connections"
    subtitle = "Tracking servers, clusters and metrics stores this window talks to."

    profiles_loaded = Signal(list)  #: the saved Profiles now listed (the demo not included)
    test_finished = Signal(object)  #: the ConnectionReport of a test, now shown
    connect_failed = Signal(str)  #: a sentence saying why a connection did not open
    keychain_checked = Signal(object)  #: the KeychainStatus the banner now reflects
    notice_shown = Signal(str)  #: a sentence reporting what an action did

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._profiles: dict[str, Profile] = {}
        self._tests: dict[str, TestOutcome] = {}
        self._connecting: set[str] = set()
        self._summaries: dict[str, tuple[Workspace, WorkspaceSummary]] = {}
        self._keychain: KeychainStatus | None = None
        self._secret_places: dict[str, str] = {}  # profile id -> "keychain", "session", "none"
        self._named: str | None = None  # the profile `open_named` is opening, if any
        self._started = False
        self._profiles_ready = self._keychain_ready = self._summary_ready = False
        self.dialog: ProfileDialog | None = None

        self.keychain_banner = TonePanel("keychainBanner")
        self.keychain_banner.hide()
        self.body.addWidget(self.keychain_banner)
        self.body.addWidget(self._build_active_card())
        self.body.addLayout(self._build_toolbar())
        self.notice = plain("")
        self.notice.setObjectName("subtitle")
        self.notice.setWordWrap(True)
        self.notice.hide()
        self.body.addWidget(self.notice)

        self.profile_list = QListWidget()
        self.profile_list.setObjectName("profileList")
        self.profile_list.setItemDelegate(ProfileListDelegate(self.profile_list))
        self.profile_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.profile_list.setMouseTracking(True)
        self.profile_list.setSpacing(1)
        self.profile_list.currentItemChanged.connect(self._on_profile_list_current_changed)
        self.profile_list.itemDoubleClicked.connect(self._on_profile_list_double_clicked)
        self.storage_note = plain(f"Profiles: {ctx.paths.profiles_file}")
        self.storage_note.setObjectName("subtitle")
        self.storage_note.setWordWrap(True)
        self.storage_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        left = QWidget()
        left_column = QVBoxLayout(left)
        left_column.setContentsMargins(0, 0, 0, 0)
        left_column.addWidget(self.profile_list, 1)
        left_column.addWidget(self.storage_note)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self._build_details())
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([460, 800])
        self.splitter.setChildrenCollapsible(False)
        self.body.addWidget(self.splitter, 1)
        ctx.open_workspaces_changed.connect(self._on_ctx_open_workspaces_changed)
        self._fill_list()

    # -- construction ------------------------------------------------------------------------
    def _build_active_card(self) -> QFrame:
        self.card = QFrame()
        self.card.setObjectName("activeCard")
        self.card.setFrameShape(QFrame.Shape.StyledPanel)
        caption = plain("ACTIVE WORKSPACE")
        caption.setObjectName("caption")
        self.card_title = plain("Opening workspace…")
        font = self.card_title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.card_title.setFont(font)
        self.details = QGridLayout()
        self.details.setColumnStretch(1, 1)
        self.details.setColumnStretch(3, 1)
        self.details.setHorizontalSpacing(12)
        self._detail_labels: dict[str, QLabel] = {}
        keys = ("Kind", "Location", "Size on disk", "Monitoring", "Jobs", "Open now")
        for number, key in enumerate(keys):
            row, column = number % 3, (number // 3) * 2
            name = plain(key)
            name.setObjectName("caption")
            value = plain("–")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.details.addWidget(name, row, column, Qt.AlignmentFlag.AlignTop)
            self.details.addWidget(value, row, column + 1, Qt.AlignmentFlag.AlignTop)
            self._detail_labels[key] = value
        self.tile_experiments = StatTile("experiments")
        self.tile_runs = StatTile("runs")
        self.tile_models = StatTile("registered models")
        text = QVBoxLayout()
        text.addWidget(caption)
        text.addWidget(self.card_title)
        text.addLayout(self.details)
        tiles = QHBoxLayout()
        for tile in (self.tile_experiments, self.tile_runs, self.tile_models):
            tile.setMinimumWidth(130)
            tiles.addWidget(tile)
        row_layout = QHBoxLayout(self.card)
        row_layout.addLayout(text, 1)
        row_layout.addLayout(tiles)
        self._colour_card(DEMO_COLOUR)
        return self.card

    def _colour_card(self, colour: str) -> None:
        self.card.setStyleSheet(
            f"QFrame#activeCard {{ border: 1px solid palette(mid); border-left: 6px solid {colour};"
            " border-radius: 4px; }"
        )

    def _build_toolbar(self) -> QHBoxLayout:
        row = QHBoxLayout()

        def button(text: str, tip: str, slot: object) -> QPushButton:
            widget = QPushButton(text)
            widget.setToolTip(tip)
            widget.clicked.connect(slot)
            row.addWidget(widget)
            return widget

        self.add_button = button("Add…", "A new connection profile", self._on_add_clicked)
        self.edit_button = button("Edit…", "Change the selected profile", self._on_edit_clicked)
        self.duplicate_button = button(
            "Duplicate", "A copy of the selected profile", self._on_duplicate_clicked
        )
        self.remove_button = button(
            "Remove…", "Delete the profile and its secret", self._on_remove_clicked
        )
        row.addSpacing(16)
        self.test_button = button(
            "Test", "Check the server answers and accepts the credentials", self._on_test_clicked
        )
        self.connect_button = button(
            "Connect", "Open it as the active workspace", self._on_connect_clicked
        )
        self.connect_button.setDefault(True)
        row.addStretch(1)
        self.export_button = button(
            "Export…", "Write the profiles to a file, without secrets", self._on_export_clicked
        )
        self.import_button = button(
            "Import…", "Add the profiles of an exported file", self._on_import_clicked
        )
        return row

    def _build_details(self) -> QWidget:
        panel = QWidget()
        column = QVBoxLayout(panel)
        column.setContentsMargins(12, 0, 0, 0)
        self.detail_title = plain("")
        font = self.detail_title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.detail_title.setFont(font)
        self.detail_form = QFormLayout()
        self.detail_form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        self.detail_form.setHorizontalSpacing(16)
        self._rows: dict[str, QLabel] = {}
        for key in (
            "Kind",
            "URL",
            "Sign-in",
            "Secret",
            "TLS",
            "Proxy",
            "Timeouts",
            "Namespace",
            "Description",
            "Status",
        ):
            value = plain("")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.detail_form.addRow(plain(key), value)
            self._rows[key] = value
        self.result_panel = TonePanel("testResult")
        self.result_panel.hide()
        column.addWidget(self.detail_title)
        column.addLayout(self.detail_form)
        column.addSpacing(8)
        column.addWidget(self.result_panel)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(panel)
        return scroll

    # -- lifecycle ---------------------------------------------------------------------------
    def activate(self) -> None:
        if not self._started:
            self._started = True
            self.reload_profiles()
            self.check_keychain()
        super().activate()

    def reload(self) -> None:
        self._summaries.clear()
        self.reload_profiles()
        self.check_keychain()
        super().reload()

    def load(self, workspace: Workspace) -> None:
        self._summary_ready = False
        self._show_active(workspace)
        cached = self._summaries.get(workspace_key(workspace))
        if cached is not None and cached[0] is workspace:
            self._on_summary_loaded(workspace, cached[1])
            return
        self.tasks.run(
            summarize_workspace,
            workspace.tracking,
            on_done=partial(self._on_summary_loaded, workspace),
            on_error=self._on_summary_failed,
            description=f"Reading {workspace.label}",
            slot="summary",
        )

    def _maybe_ready(self) -> None:
        """Ready once the profiles, the keychain check and the active workspace are shown."""
        parts = (self._profiles_ready, self._keychain_ready, self._summary_ready)
        if all(parts) and not self.is_ready:
            super().mark_ready()

    def mark_ready(self) -> None:
        # The base class calls this after a workspace error too: that part is done, then.
        self._summary_ready = True
        self._maybe_ready()

    # -- the active workspace ----------------------------------------------------------------
    def _show_active(self, workspace: Workspace) -> None:
        self.card_title.setText(workspace.label)
        self._colour_card(workspace.colour or DEMO_COLOUR)
        profile = self._profiles.get(workspace.profile_id)
        kind = KIND_LABELS_OF_WORKSPACES.get(workspace.kind, workspace.kind)
        self._detail_labels["Kind"].setText(
            f"{kind} · {profile.label}" if profile and profile.label else kind
        )
        self._detail_labels["Location"].setText(workspace.location)
        self._detail_labels["Size on disk"].setText("…")
        self._detail_labels["Monitoring"].setText(
            workspace.metrics.label if workspace.metrics else "none"
        )
        self._detail_labels["Jobs"].setText(workspace.jobs.label if workspace.jobs else "none")
        self._show_open_count()
        for tile in (self.tile_experiments, self.tile_runs, self.tile_models):
            tile.set_value("…")

    def _show_open_count(self) -> None:
        names = [ws.label for ws in self.ctx.open_workspaces.values()]
        self._detail_labels["Open now"].setText(", ".join(names) or "none")

    def _on_summary_loaded(self, workspace: Workspace, summary: WorkspaceSummary) -> None:
        self._summaries[workspace_key(workspace)] = (workspace, summary)
        if workspace is not self.ctx.workspace:
            return
        self._detail_labels["Size on disk"].setText(human_size(summary.size_bytes))
        self.tile_experiments.set_value(f"{len(summary.experiments):,}")
        self.tile_runs.set_value(f"{summary.run_count:,}")
        self.tile_models.set_value(f"{len(summary.models):,}")
        self._summary_ready = True
        self._maybe_ready()

    def _on_summary_failed(self, error: Exception) -> None:
        self._summary_ready = True
        for tile in (self.tile_experiments, self.tile_runs, self.tile_models):
            tile.set_value("–")
        self.show_error(error, "read the workspace")

    def _on_ctx_open_workspaces_changed(self) -> None:
        self._show_open_count()
        self._fill_list()

    def _on_ctx_workspace_changed(self, workspace: Workspace) -> None:
        super()._on_ctx_workspace_changed(workspace)
        self._refresh_states()
        self._update_buttons()

    # -- the keychain ------------------------------------------------------------------------
    def check_keychain(self) -> None:
        """Ask (on a worker) whether secrets can go to the keychain; show the banner if not."""
        self._keychain_ready = False
        self.tasks.run(
            _keychain_status,
            self.ctx.vault,
            on_done=self._on_keychain_checked,
            on_error=self._on_keychain_check_failed,
            description="Checking the OS keychain",
            slot="keychain",
        )

    def _on_keychain_checked(self, status: KeychainStatus) -> None:
        self._keychain = status
        self._update_storage_note()
        if status.usable:
            self.keychain_banner.hide()
        else:
            self.keychain_banner.show_text(
                "warning",
                "Secrets cannot be saved: the OS keychain is not usable.",
                f"{status.reason} A password or token you enter can still be kept for this "
                "session only (in memory, until you quit) if you choose so; it is never written "
                "to a file.",
            )
        self._keychain_ready = True
        self.keychain_checked.emit(status)
        self._maybe_ready()

    def _on_keychain_check_failed(self, error: Exception) -> None:
        self._on_keychain_checked(
            KeychainStatus(False, "unknown", describe_error(error, "check the OS keychain"))
        )

    def _update_storage_note(self) -> None:
        status = self._keychain
        if status is None:
            where = "in the OS keychain"
        elif status.usable:
            where = f"in the OS keychain ({status.backend})"
        else:
            where = "for this session only, if you choose so (no usable keychain)"
        first = (
            "Double-click a connection to connect."
            if self._profiles
            else "No connection profiles yet: Add… creates one, Import… reads a team's file."
        )
        self.storage_note.setText(
            f"{first} Profiles are saved in {self.ctx.paths.profiles_file}, never with a "
            f"secret; secrets are kept {where}."
        )

    # -- the profile list --------------------------------------------------------------------
    def reload_profiles(self, select: str | None = None) -> None:
        """Read the profiles file on a worker; `select` is the key to select afterwards."""
        self._profiles_ready = False
        self.tasks.run(
            _load_profiles,
            self.ctx.profiles,
            on_done=partial(self._on_profiles_loaded, select),
            on_error=self._on_profiles_failed,
            description="Reading the connection profiles",
            slot="profiles",
        )

    def _on_profiles_loaded(self, select: str | None, profiles: list[Profile]) -> None:
        self._profiles = {profile.profile_id: profile for profile in profiles}
        self._update_storage_note()
        self._fill_list(select)
        self._profiles_ready = True
        self.profiles_loaded.emit(profiles)
        self._maybe_ready()

    def _on_profiles_failed(self, error: Exception) -> None:
        # A corrupt file was kept aside by the store: say where, and list what is left.
        self.banner.show_error(describe_error(error, "read the connection profiles"))
        self._on_profiles_loaded(None, [])

    def _fill_list(self, select: str | None = None) -> None:
        keep = select or self.selected_key()
        self.profile_list.blockSignals(True)
        self.profile_list.clear()
        demo = QListWidgetItem(DEMO_NAME)
        demo.setData(ROLE_KEY, DEMO_KEY)
        demo.setData(ROLE_COLOUR, DEMO_COLOUR)
        demo.setData(ROLE_LABEL, "demo")
        demo.setData(ROLE_DETAIL, f"Embedded local MLflow store · {self.ctx.paths.demo_dir}")
        demo.setToolTip("Seeded example data: every view works without a server")
        self.profile_list.addItem(demo)
        for profile in self._profiles.values():
            item = QListWidgetItem(profile.name)
            item.setData(ROLE_KEY, profile.profile_id)
            item.setData(ROLE_COLOUR, profile.colour)
            item.setData(ROLE_LABEL, profile.label)
            item.setData(ROLE_DETAIL, profile_detail(profile))
            item.setToolTip(profile.description or profile_detail(profile))
            self.profile_list.addItem(item)
        self._refresh_states()
        row = next(
            (r for r in range(self.profile_list.count()) if self._key_at(r) == keep),
            0,
        )
        self.profile_list.setCurrentRow(row)
        self.profile_list.blockSignals(False)
        self._show_selected()

    def _refresh_states(self) -> None:
        active = self.ctx.active_key
        for row in range(self.profile_list.count()):
            item = self.profile_list.item(row)
            key = str(item.data(ROLE_KEY))
            state = ""
            if key in self._connecting:
                state = "connecting…"
            elif key == active:
                state = "active"
            elif key in self.ctx.open_workspaces:
                state = "open"
            item.setData(ROLE_STATE, state)
        self._show_selected()

    def _key_at(self, row: int) -> str:
        item = self.profile_list.item(row)
        return str(item.data(ROLE_KEY)) if item is not None else ""

    def selected_key(self) -> str | None:
        item = self.profile_list.currentItem()
        return str(item.data(ROLE_KEY)) if item is not None else None

    def selected_profile(self) -> Profile | None:
        key = self.selected_key()
        return self._profiles.get(key) if key else None

    def select(self, name_or_key: str) -> None:
        """Select the demo (its key or name) or a profile by id or name."""
        for row in range(self.profile_list.count()):
            item = self.profile_list.item(row)
            if name_or_key in (item.data(ROLE_KEY), item.text()):
                self.profile_list.setCurrentRow(row)
                return
        raise KeyError(f"no connection {name_or_key!r} is listed")

    def listed_names(self) -> list[str]:
        return [self.profile_list.item(r).text() for r in range(self.profile_list.count())]

    def _on_profile_list_current_changed(self, *_items: object) -> None:
        self._show_selected()

    def _on_profile_list_double_clicked(self, item: QListWidgetItem) -> None:
        self.connect_key(str(item.data(ROLE_KEY)))

    # -- the details of the selection --------------------------------------------------------
    def _show_selected(self) -> None:
        key = self.selected_key()
        profile = self._profiles.get(key) if key else None
        if key == DEMO_KEY:
            self._show_demo_details()
        elif profile is not None:
            self._show_profile_details(profile)
        self._show_test_outcome(key)
        self._update_buttons()

    def _set_rows(self, values: dict[str, str]) -> None:
        for key, label in self._rows.items():
            text = values.get(key, "")
            label.setText(text)
            self.detail_form.setRowVisible(label, bool(text))

    def _status_text(self, key: str) -> str:
        if key in self._connecting:
            return "connecting…"
        if key == self.ctx.active_key:
            return "active: every view shows it"
        if key in self.ctx.open_workspaces:
            return "open: switch to it with Connect or the switcher at the top right"
        return "not connected"

    def _show_demo_details(self) -> None:
        self.detail_title.setText(DEMO_NAME)
        self._set_rows(
            {
                "Kind": "Embedded demo workspace (local MLflow store)",
                "URL": str(self.ctx.paths.demo_dir),
                "Sign-in": "none: it is a folder on this computer",
                "Description": "Seeded example data (a sweep, a registered model, monitoring "
                "series), so every view has something true to show without a server.",
                "Status": self._status_text(DEMO_KEY),
            }
        )
        self._set_caption("URL", "Folder")

    def _show_profile_details(self, profile: Profile) -> None:
        title = f"{profile.name}  ·  {profile.label}" if profile.label else profile.name
        self.detail_title.setText(title)
        remote = profile.kind in REMOTE_KINDS
        sign_in = AUTH_LABELS[profile.auth]
        if profile.username:
            sign_in += f", as {profile.username}"
        tls = ""
        if remote:
            tls = "certificate verified" if profile.tls.verify else "⚠ certificate NOT verified"
            if profile.tls.ca_bundle:
                tls += f" with CA bundle {profile.tls.ca_bundle}"
            if profile.tls.client_cert:
                tls += f"; client certificate {profile.tls.client_cert}"
        values = {
            "Kind": KIND_LABELS[profile.kind],
            "URL": profile.url or "–",
            "Sign-in": sign_in if profile.kind is not ProfileKind.LOCAL else "",
            "Secret": (
                f"{secret_name(profile.auth)}: looking in the keychain…"
                if profile.needs_secret
                else ""
            ),
            "TLS": tls,
            "Proxy": (profile.proxy or "from the environment") if remote else "",
            "Timeouts": (
                f"connect {profile.connect_timeout_s:g} s, read {profile.read_timeout_s:g} s"
                if remote
                else ""
            ),
            "Namespace": ", ".join(
                part
                for part in (
                    profile.namespace,
                    f"kubeconfig context {profile.kube_context}" if profile.kube_context else "",
                )
                if part
            ),
            "Description": profile.description,
            "Status": self._status_text(profile.profile_id),
        }
        self._set_rows(values)
        self._set_caption("URL", URL_LABELS[profile.kind])
        place = self._secret_places.get(profile.profile_id)
        if place is not None:
            self._on_secret_place_found(profile, place)
        elif profile.needs_secret:
            self.tasks.run(
                _secret_place,
                self.ctx.vault,
                profile.profile_id,
                on_done=partial(self._on_secret_place_found, profile),
                on_error=partial(self._on_secret_place_failed, profile),
                description="Looking for the secret in the keychain",
                slot="secret-place",
            )

    def _set_caption(self, row: str, text: str) -> None:
        caption = self.detail_form.labelForField(self._rows[row])
        if isinstance(caption, QLabel):
            caption.setText(text)

    def _on_secret_place_found(self, profile: Profile, place: str) -> None:
        self._secret_places[profile.profile_id] = place
        if self.selected_key() != profile.profile_id:
            return
        what = secret_name(profile.auth)
        text = {
            "keychain": f"{what}: in the OS keychain",
            "session": f"{what}: kept for this session only (in memory)",
            "none": f"{what}: not saved; you will be asked for it when you connect",
        }[place]
        self._rows["Secret"].setText(text)

    def _on_secret_place_failed(self, profile: Profile, error: Exception) -> None:
        if self.selected_key() == profile.profile_id:
            self._rows["Secret"].setText(f"{secret_name(profile.auth)}: unknown ({error})")

    def _show_test_outcome(self, key: str | None) -> None:
        outcome = self._tests.get(key or "")
        if outcome is None:
            self.result_panel.hide()
            return
        when = time.strftime("%H:%M:%S", time.localtime(outcome.at))
        report = outcome.report
        if report is None:
            self.result_panel.show_text("", "Testing the connection…", f"Started at {when}")
        elif report.ok:
            facts = [
                f"server version {report.server_version}" if report.server_version else "",
                f"signed in as {report.user}" if report.user else "",
                f"round trip {report.round_trip_ms:.0f} ms"
                if report.round_trip_ms is not None
                else "",
                f"tested at {when}",
            ]
            self.result_panel.show_text("ok", report.message, " · ".join(f for f in facts if f))
        else:
            self.result_panel.show_text(
                "failed",
                report.message,
                f"{outcome.action} failed at {when} ({report.failure or 'other'})",
            )

    def _update_buttons(self) -> None:
        key = self.selected_key()
        is_profile = key is not None and key in self._profiles
        for button in (self.edit_button, self.duplicate_button, self.remove_button):
            button.setEnabled(is_profile)
        testing = key in self._tests and self._tests[key or ""].report is None
        self.test_button.setEnabled(is_profile and not testing)
        self.connect_button.setEnabled(key is not None and key not in self._connecting)
        active = key is not None and key == self.ctx.active_key
        opened = key is not None and key in self.ctx.open_workspaces
        self.connect_button.setText("Active" if active else "Switch to" if opened else "Connect")
        if active:
            self.connect_button.setEnabled(False)

    def show_notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))
        self.notice_shown.emit(text)

    # -- add, edit, duplicate, remove --------------------------------------------------------
    def add_profile(self) -> ProfileDialog:
        """Open the dialog for a new profile (non-modal to the caller) and return it."""
        return self._open_dialog(None)

    def edit_profile(self, key: str) -> ProfileDialog:
        return self._open_dialog(self._profiles[key])

    def _open_dialog(self, profile: Profile | None) -> ProfileDialog:
        others = [p.name for p in self._profiles.values() if profile is None or p is not profile]
        dialog = ProfileDialog(self.ctx, others, profile, parent=self)
        dialog.profile_saved.connect(partial(self._on_dialog_profile_saved, dialog))
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()
        return dialog

    def _on_dialog_profile_saved(self, dialog: ProfileDialog, profile: Profile) -> None:
        notice = dialog.notice
        key = profile.profile_id
        self._tests.pop(key, None)
        self._secret_places.pop(key, None)
        self._profiles[key] = profile
        if key in self.ctx.open_workspaces:
            if key == self.ctx.active_key:
                notice = " ".join(filter(None, [notice, f"Reconnecting to {profile.name}…"]))
                self.connect_profile(profile, reopen=True)
            else:
                self.ctx.close_workspace(key)
                notice = " ".join(
                    filter(None, [notice, f"{profile.name} was closed: connect again to use it."])
                )
        if notice:
            self.show_notice(notice)
        self.reload_profiles(select=key)

    def _on_add_clicked(self) -> None:
        self.add_profile()

    def _on_edit_clicked(self) -> None:
        key = self.selected_key()
        if key in self._profiles:
            self.edit_profile(key)

    def _on_duplicate_clicked(self) -> None:
        profile = self.selected_profile()
        if profile is None:
            return
        self.tasks.run(
            _duplicate_profile,
            self.ctx.profiles,
            profile.profile_id,
            on_done=self._on_profile_duplicated,
            on_error=lambda error: self.show_notice(describe_error(error, f"copy {profile.name}")),
            description=f"Copying {profile.name}",
            slot="duplicate",
        )

    def _on_profile_duplicated(self, copy: Profile) -> None:
        secret = f" It has no {secret_name(copy.auth).lower()} yet: Edit it to add one." * (
            copy.needs_secret
        )
        self.show_notice(f"Copied as {copy.name!r}.{secret}")
        self.reload_profiles(select=copy.profile_id)

    def _on_remove_clicked(self) -> None:
        profile = self.selected_profile()
        if profile is not None:
            self.remove_profile(profile.profile_id)

    def remove_profile(self, key: str) -> None:
        """Ask, then delete the profile from the file and its secret from the keychain."""
        profile = self._profiles[key]
        secret = (
            f" Its {secret_name(profile.auth).lower()} is deleted from the keychain too."
            if profile.needs_secret
            else ""
        )
        if not self.ctx.prompts.confirm(
            "Remove connection",
            f"Remove the connection {profile.name!r}?{secret} This cannot be undone "
            "(export it first to keep a copy).",
            "Remove",
        ):
            return
        self.tasks.run(
            _remove_profile,
            self.ctx.profiles,
            key,
            on_done=self._on_profile_removed,
            on_error=lambda error: self.show_notice(
                describe_error(error, f"remove {profile.name}")
            ),
            description=f"Removing {profile.name}",
            slot="remove",
        )

    def _on_profile_removed(self, profile: Profile) -> None:
        key = profile.profile_id
        for cache in (self._tests, self._secret_places, self._profiles):
            cache.pop(key, None)
        self.ctx.close_workspace(key)
        self._fill_list()
        self.tasks.run(
            forget_secret,
            self.ctx.vault,
            key,
            on_done=lambda _: self._on_secret_forgotten(profile, None),
            on_error=partial(self._on_secret_forgotten, profile),
            description="Deleting the secret from the keychain",
            slot=f"forget:{key}",
        )

    def _on_secret_forgotten(self, profile: Profile, error: Exception | None) -> None:
        if error is None:
            self.show_notice(f"Removed {profile.name!r}.")
        else:
            self.show_notice(
                f"Removed {profile.name!r}, but its secret could not be deleted from the "
                f"keychain: {error}"
            )
        self.reload_profiles()

    # -- export and import -------------------------------------------------------------------
    def _on_export_clicked(self) -> None:
        path = self.ctx.prompts.choose_export_file()
        if path is not None:
            self.export_profiles(path)

    def export_profiles(self, path: Path) -> None:
        self.tasks.run(
            _export_profiles,
            self.ctx.profiles,
            path,
            on_done=lambda count: self.show_notice(
                f"Exported {count} connection{'s' * (count != 1)} to {path}, without secrets."
            ),
            on_error=lambda error: self.show_notice(describe_error(error, f"export to {path}")),
            description="Exporting the connection profiles",
            slot="export",
        )

    def _on_import_clicked(self) -> None:
        path = self.ctx.prompts.choose_import_file()
        if path is not None:
            self.import_profiles(path)

    def import_profiles(self, path: Path) -> None:
        self.tasks.run(
            _import_profiles,
            self.ctx.profiles,
            path,
            on_done=self._on_profiles_imported,
            on_error=lambda error: self.show_notice(describe_error(error, f"import {path}")),
            description="Importing connection profiles",
            slot="import",
        )

    def _on_profiles_imported(self, imported: list[Profile]) -> None:
        names = ", ".join(profile.name for profile in imported)
        secrets = any(profile.needs_secret for profile in imported)
        self.show_notice(
            f"Imported {len(imported)} connection{'s' * (len(imported) != 1)}: {names}."
            + (" Secrets are not shared: you will be asked for them when you connect." * secrets)
        )
        self.reload_profiles(select=imported[0].profile_id if imported else None)

    # -- test --------------------------------------------------------------------------------
    def _on_test_clicked(self) -> None:
        key = self.selected_key()
        if key in self._profiles:
            self.test_profile(key)

    def test_profile(self, key: str) -> None:
        """Test the profile on a worker with its stored secret; the result shows when back."""
        profile = self._profiles[key]
        self._tests[key] = TestOutcome(None, time.time())
        self._show_selected()
        self.tasks.run(
            _test_profile,
            profile,
            self.ctx.vault,
            on_done=partial(self._on_test_done, key),
            on_error=partial(self._on_test_error, key),
            on_cancelled=partial(self._on_test_cancelled, key),
            description=f"Testing {profile.name}",
            slot=f"test:{key}",
        )

    def _on_test_done(self, key: str, report: ConnectionReport) -> None:
        self._tests[key] = TestOutcome(report, time.time())
        if self.selected_key() == key:
            self._show_selected()
        self.test_finished.emit(report)

    def _on_test_error(self, key: str, error: Exception) -> None:
        failure = error.failure if isinstance(error, BackendError) else "other"
        self._on_test_done(
            key,
            ConnectionReport(
                ok=False, message=describe_error(error, "test the connection"), failure=failure
            ),
        )

    def _on_test_cancelled(self, key: str) -> None:
        self._tests.pop(key, None)
        self._show_selected()

    # -- connect -----------------------------------------------------------------------------
    def _on_connect_clicked(self) -> None:
        key = self.selected_key()
        if key is not None:
            self.connect_key(key)

    def connect_key(self, key: str) -> None:
        """Make the demo or a profile the active workspace: at once if it is open already."""
        if self.ctx.switch_to(key):
            return
        if key in self._connecting:
            return
        if key == DEMO_KEY:
            self._start_connecting(DEMO_KEY, DEMO_NAME)
            self.tasks.run(
                open_demo_workspace,
                self.ctx.paths,
                on_done=partial(self._on_workspace_opened, DEMO_KEY),
                on_error=partial(self._on_demo_failed),
                on_cancelled=partial(self._stop_connecting, DEMO_KEY),
                description="Opening the demo workspace",
                slot=f"connect:{DEMO_KEY}",
            )
            return
        self.connect_profile(self._profiles[key])

    def connect_profile(self, profile: Profile, reopen: bool = False) -> None:
        """Open `profile` on a worker; a missing or refused secret is asked for again.

        An open profile is only switched to, unless `reopen` (its settings changed).
        """
        if not reopen and self.ctx.switch_to(profile.profile_id):
            return
        self._profiles.setdefault(profile.profile_id, profile)
        self._start_connecting(profile.profile_id, profile.name)
        self.tasks.run(
            open_workspace,
            profile,
            self.ctx.vault,
            on_done=partial(self._on_workspace_opened, profile.profile_id),
            on_error=partial(self._on_connect_error, profile),
            on_cancelled=partial(self._stop_connecting, profile.profile_id),
            description=f"Connecting to {profile.name}",
            slot=f"connect:{profile.profile_id}",
        )

    def _start_connecting(self, key: str, name: str) -> None:
        self._connecting.add(key)
        self.show_notice(f"Connecting to {name}…")
        self._refresh_states()

    def _stop_connecting(self, key: str) -> None:
        self._connecting.discard(key)
        self._refresh_states()

    def _on_workspace_opened(self, key: str, workspace: Workspace) -> None:
        if key == self._named:
            self._named = None
        self._stop_connecting(key)
        self.show_notice(f"Connected to {workspace.label}.")
        self.ctx.set_workspace(workspace)

    def _on_demo_failed(self, error: Exception) -> None:
        self._stop_connecting(DEMO_KEY)
        self._connect_failed(DEMO_KEY, error, "open the demo workspace")

    def _on_connect_error(self, profile: Profile, error: Exception) -> None:
        key = profile.profile_id
        asks_secret = isinstance(error, AuthenticationFailed | KeychainUnavailable)
        if asks_secret and profile.needs_secret:
            secret = self.ctx.prompts.ask_secret(profile, str(error))
            if secret:
                self._save_secret_then_connect(profile, secret, session_only=False)
                return
        self._stop_connecting(key)
        self._connect_failed(key, error, f"connect to {profile.name}")

    def _save_secret_then_connect(self, profile: Profile, secret: str, session_only: bool) -> None:
        self._secret_places.pop(profile.profile_id, None)
        self.tasks.run(
            store_secret,
            self.ctx.vault,
            profile.profile_id,
            secret,
            session_only,
            on_done=lambda _: self._retry_connect(profile),
            on_error=partial(self._on_prompted_secret_not_saved, profile, secret),
            description="Storing the secret in the OS keychain",
            slot=f"secret:{profile.profile_id}",
        )

    def _on_prompted_secret_not_saved(
        self, profile: Profile, secret: str, error: Exception
    ) -> None:
        if isinstance(error, KeychainUnavailable) and self.ctx.prompts.keep_secret_for_session(
            profile, str(error)
        ):
            self._save_secret_then_connect(profile, secret, session_only=True)
            return
        self._stop_connecting(profile.profile_id)
        self._connect_failed(profile.profile_id, error, f"store the secret of {profile.name}")

    def _retry_connect(self, profile: Profile) -> None:
        self._connecting.discard(profile.profile_id)
        self.connect_profile(profile, reopen=True)

    def _connect_failed(self, key: str, error: Exception, doing: str) -> None:
        message = describe_error(error, doing)
        failure = error.failure if isinstance(error, BackendError) else "other"
        report = ConnectionReport(ok=False, message=message, failure=failure)
        self._tests[key] = TestOutcome(report, time.time(), action="Connect")
        self.show_notice("")
        if self.selected_key() == key:
            self._show_selected()
        self.connect_failed.emit(message)
        if key == self._named:
            self._named = None
            self.ctx.workspace_failed.emit(message)

    def open_named(self, name: str) -> None:
        """Connect to the profile called `name` (for `--profile`): read the file, then open."""
        self.tasks.run(
            _load_profiles,
            self.ctx.profiles,
            on_done=partial(self._on_named_profiles_loaded, name),
            on_error=lambda error: self.ctx.workspace_failed.emit(
                describe_error(error, "read the connection profiles")
            ),
            description="Reading the connection profiles",
            slot="open-named",
        )

    def _on_named_profiles_loaded(self, name: str, profiles: list[Profile]) -> None:
        found = [p for p in profiles if name in (p.name, p.profile_id)] or [
            p for p in profiles if p.name.casefold() == name.casefold()
        ]
        if not found:
            known = ", ".join(repr(p.name) for p in profiles) or "none saved yet"
            self.ctx.workspace_failed.emit(
                f"There is no connection named {name!r} (connections: {known})."
            )
            return
        self._named = found[0].profile_id
        self.connect_profile(found[0])
