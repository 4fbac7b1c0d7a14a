"""The Models view: your inbox of promotion requests, the registered models, versions, lineage.

Top, the inbox: every pending request across all models that the current user may decide
(not their own), with Approve and Reject enabled in one click when every gate passes.
Left, the registered models with a search box (name, tags, description). Right, the selected
model's description and tags, and three tabs: Versions (status, validation, source run, alias
chips, tags, author, created; request a promotion, roll an alias back), Lineage (run ->
version -> the periods it held each alias, from the audit chain) and Requests.

Every action runs on a worker through `services.promotion_flow`; its outcome is shown as a
sentence, and the registry is read again afterwards so the view shows what the server says.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mlops_desktop.domain.promotion import PromotionRequest, PromotionState
from mlops_desktop.domain.registry import ModelVersion
from mlops_desktop.services.inbox import (
    Inbox,
    InboxEntry,
    RollbackChoice,
    load_rollback_choices,
    my_applied_requests,
    open_inbox,
    request_states,
    same_person,
)
from mlops_desktop.services.lineage import VersionLineage, model_lineage
from mlops_desktop.services.promotion import read_requests
from mlops_desktop.services.promotion_flow import (
    PromotionContext,
    PromotionOutcome,
    approve_request,
    reject_request,
    request_promotion,
    rollback_alias,
)
from mlops_desktop.services.registry import (
    VALIDATION_TAG,
    ModelOverview,
    load_registry,
    visible_model_tags,
    visible_tags,
)
from mlops_desktop.services.workspace import Workspace
from mlops_desktop.ui.approval_page import ApprovalPage
from mlops_desktop.ui.context import UiContext
from mlops_desktop.ui.format import format_time_ms, short_id
from mlops_desktop.ui.notifications import notifier_for
from mlops_desktop.ui.promotion_dialogs import CommentDialog, RequestPromotionDialog
from mlops_desktop.ui.registry_widgets import (
    AliasChips,
    RequestCard,
    alias_colour,
    describe_request,
    rollback_label,
)
from mlops_desktop.ui.views.base import View, describe_error
from mlops_desktop.ui.widgets import EmptyState, TonePanel, plain

VALIDATION_COLOURS = {"passed": "#2e9d5b", "failed": "#d64545"}
PROBLEM_COLOUR = "#d64545"
LINK_COLOUR = "#2f6fde"
STATE_COLOURS = {
    "requested": "#2f6fde",
    "approved": "#2e9d5b",
    "rejected": "#d64545",
    "applied": "#2e9d5b",
    "rolled_back": "#c98a00",
}
MAX_VISIBLE_VERSIONS = 12
COLUMNS = ("Version", "Aliases", "Status", "Validation", "Source run", "Author", "Created", "Tags")
REQUEST_COLUMNS = ("Requested", "Version", "Alias", "By", "State", "Comment")


def alias_chips(overview: ModelOverview) -> str:
    """ "champion → v2 · challenger → v4", or a note that no alias is set."""
    if not overview.aliases:
        return "no aliases"
    return " · ".join(f"{alias} → v{version}" for alias, version in overview.aliases)


def model_matches(overview: ModelOverview, text: str) -> bool:
    """Whether every word of the search text is in the model's name, description or tags."""
    haystack = " ".join(
        [
            overview.name,
            overview.model.description,
            *(f"{k}={v} {k}: {v}" for k, v in visible_model_tags(overview.model).items()),
            *(alias for alias, _ in overview.aliases),
        ]
    ).lower()
    return all(word in haystack for word in text.lower().split())


class ModelsView(View):
    view_id = "models"
    title = "Models"
    subtitle = (
        "Your inbox of promotion requests, the registered models, their versions, aliases "
        "and lineage."
    )

    #: the registry finished loading: the number of registered models
    registry_loaded = Signal(int)
    #: the right-hand side now shows this model (its name)
    model_shown = Signal(str)
    #: the user asked to open this run (its id) in the Experiments view
    run_open_requested = Signal(str)
    #: the inbox now holds this many requests awaiting the current user
    inbox_changed = Signal(int)
    #: a fresh inbox arrived from the server (its Inbox), or None when it could not be read
    inbox_loaded = Signal(object)
    #: a promotion action ended: its PromotionOutcome, or the exception that refused it
    action_finished = Signal(object)
    #: the rollback previews of the shown model arrived (alias -> RollbackChoice)
    rollback_choices_loaded = Signal(dict)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.overviews: list[ModelOverview] = []
        self.shown: ModelOverview | None = None
        self.lineage: list[VersionLineage] = []
        #: alias -> the Lineage row of the period its current holder is in
        self._current_period_items: dict[str, QTreeWidgetItem] = {}
        #: the engine's context (who acts, where the gates are): set once the inbox loaded
        self.promotion: PromotionContext | None = None
        self.inbox: Inbox | None = None
        self.rollback_choices: dict[str, RollbackChoice] = {}
        self.rollback_alias = ""
        self.approval_page: ApprovalPage | None = None
        #: the requests announced as awaiting the user (their toasts close once decided)
        self._announced: set[str] = set()
        self._states_for: Workspace | None = None
        #: request id -> state at the previous load, to notice the user's applied requests
        self._seen_states: dict[str, PromotionState] | None = None

        self._build_inbox()
        left = self._build_models_list()
        details = self._build_details()

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(details)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([300, 1000])
        self.splitter.setChildrenCollapsible(False)

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.inbox_box)
        layout.addWidget(self.outcome)
        layout.addWidget(self.splitter, 1)
        self.content = content

        self.placeholder = EmptyState(
            "Loading the model registry…", "Reading registered models and their versions."
        )
        self.pages = QStackedWidget()
        self.pages.addWidget(self.placeholder)
        self.pages.addWidget(content)
        self.body.addWidget(self.pages, 1)

    # -- construction ----------------------------------------------------------------------
    def _build_inbox(self) -> None:
        self.inbox_box = QFrame()
        self.inbox_box.setObjectName("inbox")
        self.inbox_box.setStyleSheet(
            "QFrame#inbox { border: 1px solid palette(mid); border-radius: 8px;"
            " background: palette(alternate-base); }"
        )
        self.inbox_title = plain("Your inbox")
        font = self.inbox_title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.inbox_title.setFont(font)
        self.inbox_note = plain("")
        self.inbox_note.setObjectName("subtitle")
        self.inbox_note.setWordWrap(True)
        self.inbox_cards: list[RequestCard] = []
        self.inbox_layout = QVBoxLayout()
        self.inbox_layout.setSpacing(6)
        layout = QVBoxLayout(self.inbox_box)
        layout.setContentsMargins(12, 8, 12, 10)
        header = QHBoxLayout()
        header.addWidget(self.inbox_title)
        header.addStretch(1)
        layout.addLayout(header)
        layout.addWidget(self.inbox_note)
        layout.addLayout(self.inbox_layout)
        self.outcome = TonePanel("actionOutcome")
        self.outcome.hide()

    def _build_models_list(self) -> QWidget:
        self.search = QLineEdit()
        self.search.setObjectName("modelSearch")
        self.search.setPlaceholderText("Search models by name, tag or description")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._on_search_text_changed)
        self.models_list = QListWidget()
        self.models_list.setObjectName("modelsList")
        self.models_list.setAlternatingRowColors(True)
        self.models_list.setWordWrap(True)
        self.models_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.models_list.setStyleSheet("QListWidget#modelsList::item { padding: 6px 4px; }")
        self.models_list.currentItemChanged.connect(self._on_models_list_current_item_changed)
        self.no_match = plain("No model matches the search.")
        self.no_match.setObjectName("subtitle")
        self.no_match.hide()
        left = QWidget()
        layout = QVBoxLayout(left)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addWidget(self.models_list, 1)
        layout.addWidget(self.no_match)
        return left

    def _build_details(self) -> QWidget:
        self.model_name = plain("")
        font = self.model_name.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.model_name.setFont(font)
        self.model_description = plain("")
        self.model_description.setWordWrap(True)
        self.model_description.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.model_tags = plain("")
        self.model_tags.setObjectName("modelTags")
        self.model_tags.setWordWrap(True)
        self.model_meta = plain("")
        self.model_meta.setObjectName("subtitle")
        self.model_meta.setWordWrap(True)
        self.problems = plain("")
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet(f"color: {PROBLEM_COLOUR};")
        self.problems.hide()

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self._build_versions_tab(), "Versions")
        self.tabs.addTab(self._build_lineage_tab(), "Lineage")
        self.tabs.addTab(self._build_requests_tab(), "Requests")

        details = QWidget()
        layout = QVBoxLayout(details)
        layout.setContentsMargins(12, 0, 0, 0)
        layout.addWidget(self.model_name)
        layout.addWidget(self.model_description)
        layout.addWidget(self.model_tags)
        layout.addWidget(self.model_meta)
        layout.addWidget(self.problems)
        layout.addWidget(self.tabs, 1)
        return details

    def _build_versions_tab(self) -> QWidget:
        self.request_button = QPushButton("Request promotion…")
        self.request_button.setObjectName("requestPromotion")
        self.request_button.setToolTip("Ask for the selected version to get an alias")
        self.rollback_button = QPushButton("Roll back…")
        self.rollback_button.setObjectName("rollbackButton")
        self.rollback_button.setEnabled(False)
        self.request_button.clicked.connect(self._on_request_button_clicked)
        self.rollback_button.clicked.connect(self._on_rollback_button_clicked)
        toolbar = QHBoxLayout()
        toolbar.addWidget(self.request_button)
        toolbar.addWidget(self.rollback_button)
        toolbar.addStretch(1)

        self.versions_table = QTableWidget(0, len(COLUMNS))
        self.versions_table.setObjectName("versionsTable")
        self.versions_table.setHorizontalHeaderLabels(COLUMNS)
        self.versions_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.versions_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.versions_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.versions_table.setWordWrap(False)
        self.versions_table.verticalHeader().hide()
        header = self.versions_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.versions_table.currentCellChanged.connect(self._on_versions_table_current_cell_changed)
        self.versions_table.cellClicked.connect(self._on_versions_table_cell_clicked)
        self.alias_widgets: dict[str, AliasChips] = {}

        self.version_details = plain("")
        self.version_details.setObjectName("versionDetails")
        self.version_details.setWordWrap(True)
        self.version_details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.version_title = plain("Selected version")
        bold = self.version_title.font()
        bold.setBold(True)
        self.version_title.setFont(bold)

        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addLayout(toolbar)
        layout.addWidget(self.versions_table)
        layout.addSpacing(4)
        layout.addWidget(self.version_title)
        layout.addWidget(self.version_details)
        layout.addStretch(1)
        return tab

    def _build_lineage_tab(self) -> QWidget:
        self.lineage_tree = QTreeWidget()
        self.lineage_tree.setObjectName("lineageTree")
        self.lineage_tree.setHeaderLabels(("Lineage", "When", "By", "Note"))
        self.lineage_tree.setAlternatingRowColors(True)
        self.lineage_tree.setUniformRowHeights(True)
        header = self.lineage_tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.lineage_note = plain(
            "Each version with the run that produced it, and every period it held an alias, "
            "as the audit chain records them."
        )
        self.lineage_note.setObjectName("subtitle")
        self.lineage_note.setWordWrap(True)
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addWidget(self.lineage_note)
        layout.addWidget(self.lineage_tree, 1)
        return tab

    def _build_requests_tab(self) -> QWidget:
        self.request_cards: list[RequestCard] = []
        self.requests_layout = QVBoxLayout()
        self.requests_layout.setSpacing(6)
        self.no_requests = plain("No promotion request is waiting for this model.")
        self.no_requests.setObjectName("subtitle")
        self.history_table = QTableWidget(0, len(REQUEST_COLUMNS))
        self.history_table.setObjectName("requestHistory")
        self.history_table.setHorizontalHeaderLabels(REQUEST_COLUMNS)
        self.history_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.history_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.history_table.verticalHeader().hide()
        self.history_table.setWordWrap(False)
        header = self.history_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        pending_title = plain("Waiting for a decision")
        history_title = plain("Every request of this model")
        for title in (pending_title, history_title):
            font = title.font()
            font.setBold(True)
            title.setFont(font)
        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addWidget(pending_title)
        layout.addLayout(self.requests_layout)
        layout.addWidget(self.no_requests)
        layout.addSpacing(8)
        layout.addWidget(history_title)
        layout.addWidget(self.history_table, 1)
        return inner

    # -- loading ---------------------------------------------------------------------------
    def load(self, workspace: Workspace) -> None:
        self.placeholder.set_text(
            "Loading the model registry…", "Reading registered models and their versions."
        )
        self.pages.setCurrentWidget(self.placeholder)
        if workspace is not self._states_for:
            # Another server: nothing of the previous one's requests or user carries over.
            self._seen_states, self._states_for = None, workspace
            self.promotion, self.inbox = None, None
        self.tasks.run(
            load_registry,
            workspace.tracking,
            on_done=self._on_registry_loaded,
            on_error=self._on_registry_failed,
            description="Loading models",
        )
        self.load_inbox(workspace)

    def load_inbox(self, workspace: Workspace) -> None:
        """Who am I on this workspace, and which requests await me (gates checked)."""
        self.inbox_title.setText("Your inbox")
        self.inbox_note.setText("Looking for requests awaiting you…")
        self.tasks.run(
            open_inbox,
            self.ctx.paths,
            self.ctx.profiles,
            workspace,
            on_done=self._on_inbox_loaded,
            on_error=self._on_inbox_failed,
            description="Checking your inbox",
            slot="inbox",
        )

    def _on_registry_failed(self, error: Exception) -> None:
        self.placeholder.set_text(
            "The model registry could not be read", "See the message above, then Retry."
        )
        self.show_error(error, "load the registry")

    def _on_registry_loaded(self, overviews: list[ModelOverview]) -> None:
        shown = self.current_model_name()
        self.overviews = overviews
        self._fill_models_list(shown)
        if overviews:
            self.pages.setCurrentWidget(self.content)
        else:
            self.placeholder.set_text(
                "No registered models",
                "Register a model version from a run (in MLflow, or with the retraining "
                "workflow) and it appears here with its aliases and promotion requests.",
            )
        self._fill_inbox()
        self._notice_applied_requests()
        self.registry_loaded.emit(len(overviews))
        self.mark_ready()

    # -- the models list -------------------------------------------------------------------
    def _fill_models_list(self, keep: str | None) -> None:
        self.models_list.blockSignals(True)
        self.models_list.clear()
        for overview in self.overviews:
            count = len(overview.versions)
            lines = [
                overview.name,
                f"{count} version{'s' if count != 1 else ''} · {alias_chips(overview)}",
            ]
            tags = visible_model_tags(overview.model)
            if tags:
                lines.append(" · ".join(f"{k}: {v}" for k, v in tags.items()))
            if overview.pending:
                count = len(overview.pending)
                lines.append(f"{count} request{'s' if count != 1 else ''} pending")
            item = QListWidgetItem("\n".join(lines))
            item.setData(Qt.ItemDataRole.UserRole, overview.name)
            item.setToolTip(overview.model.description or overview.name)
            self.models_list.addItem(item)
        self.models_list.blockSignals(False)
        self._apply_search()
        names = [o.name for o in self.overviews]
        if names:
            row = names.index(keep) if keep in names else self._first_visible_row()
            self.models_list.setCurrentRow(row)
            if self.shown is None or self.models_list.currentRow() == row:
                self.show_model(self.overviews[row])

    def _first_visible_row(self) -> int:
        return next(
            (r for r in range(self.models_list.count()) if not self.models_list.item(r).isHidden()),
            0,
        )

    def _on_search_text_changed(self, _text: str) -> None:
        self._apply_search()

    def _apply_search(self) -> None:
        text = self.search.text().strip()
        visible = 0
        for row, overview in enumerate(self.overviews):
            match = not text or model_matches(overview, text)
            self.models_list.item(row).setHidden(not match)
            visible += match
        self.no_match.setVisible(bool(self.overviews) and visible == 0)
        current = self.models_list.currentItem()
        if visible and (current is None or current.isHidden()):
            self.models_list.setCurrentRow(self._first_visible_row())

    def current_model_name(self) -> str | None:
        item = self.models_list.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def _on_models_list_current_item_changed(
        self, item: QListWidgetItem | None, _previous: object
    ) -> None:
        if item is None:
            return
        name = item.data(Qt.ItemDataRole.UserRole)
        overview = next((o for o in self.overviews if o.name == name), None)
        if overview is not None:
            self.show_model(overview)

    def select_model(self, name: str) -> bool:
        """Show the model called `name`; False when the registry has none of that name."""
        names = [o.name for o in self.overviews]
        if name not in names:
            return False
        self.search.clear()
        self.models_list.setCurrentRow(names.index(name))
        return True

    # -- showing one model -----------------------------------------------------------------
    def show_model(self, overview: ModelOverview) -> None:
        model = overview.model
        self.shown = overview
        self.model_name.setText(model.name)
        self.model_description.setText(model.description or "No description.")
        tags = visible_model_tags(model)
        self.model_tags.setText(
            "Tags: " + " · ".join(f"{k}: {v}" for k, v in tags.items()) if tags else "No tags."
        )
        meta = [f"{len(overview.versions)} versions", alias_chips(overview)]
        chain = overview.audit
        if not chain.events and chain.intact:
            meta.append("audit trail: no events yet")
        elif chain.intact:
            meta.append(f"audit chain intact ({len(chain.events)} events)")
        self.model_meta.setText(" · ".join(meta))
        problems = [*overview.alias_mismatches, *overview.request_problems]
        if not chain.intact:
            problems.insert(0, "The audit chain is broken: see the Audit trail view.")
        self.problems.setText("\n".join(problems))
        self.problems.setVisible(bool(problems))
        self._fill_versions(overview)
        self._fill_lineage(overview)
        self._fill_requests(overview)
        self._load_rollback_choices(overview)
        self.model_shown.emit(model.name)

    def _fill_versions(self, overview: ModelOverview) -> None:
        versions = overview.versions
        table = self.versions_table
        table.clearContents()
        table.setRowCount(len(versions))
        self.alias_widgets = {}
        for row, version in enumerate(versions):
            tags = visible_tags(version)
            validation = tags.pop(VALIDATION_TAG, "–")
            cells = (
                version.version,
                "",  # the alias chips are a widget over the cell
                version.status,
                validation,
                short_id(version.run_id),
                version.user or "–",
                format_time_ms(version.creation_time_ms),
                " · ".join(f"{key}={value}" for key, value in tags.items()),
            )
            colour = alias_colour(version.aliases[0]) if version.aliases else None
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(version_tooltip(version))
                if version.aliases and column == 0:
                    font = QFont(item.font())
                    font.setBold(True)
                    item.setFont(font)
                if colour is not None:
                    tint = QColor(colour)
                    tint.setAlpha(40)
                    item.setBackground(tint)
                if column == 1:
                    # Sorting and accessibility read the text; the chips draw it.
                    item.setData(Qt.ItemDataRole.UserRole, ", ".join(version.aliases))
                if column == 3 and validation in VALIDATION_COLOURS:
                    item.setForeground(QColor(VALIDATION_COLOURS[validation]))
                if column == 4 and version.run_id:
                    font = QFont(item.font())
                    font.setUnderline(True)
                    item.setFont(font)
                    item.setForeground(QColor(LINK_COLOUR))
                    item.setToolTip(
                        f"Run {version.run_id}\nSource {version.source}\n"
                        "Click to open the run in the Experiments view"
                    )
                table.setItem(row, column, item)
            if version.aliases:
                chips = AliasChips(version.aliases)
                chips.rollback_requested.connect(self._on_alias_chips_rollback_requested)
                chips.history_requested.connect(self._on_alias_chips_history_requested)
                table.setCellWidget(row, 1, chips)
                for alias in version.aliases:
                    self.alias_widgets[alias] = chips
        table.resizeColumnsToContents()
        # As tall as its rows (up to MAX_VISIBLE_VERSIONS), so nothing floats below them.
        visible = max(1, min(len(versions), MAX_VISIBLE_VERSIONS))
        height = table.horizontalHeader().height() + 2 * table.frameWidth()
        height += (
            sum(table.rowHeight(r) for r in range(visible))
            or table.verticalHeader().defaultSectionSize()
        )
        table.setFixedHeight(height)
        marked = next((r for r, v in enumerate(versions) if v.aliases), 0)
        if versions:
            table.setCurrentCell(marked, 0)
            table.clearSelection()
        else:
            self.version_title.setText("No version")
            self.version_details.setText("This model has no versions yet.")
        workspace = self.ctx.workspace
        read_only = workspace is not None and workspace.read_only
        self.request_button.setEnabled(bool(versions) and not read_only)
        self.request_button.setToolTip(
            "This workspace is read-only: promotions happen on a server"
            if read_only
            else "Ask for the selected version to get an alias"
        )

    def version_aliases(self) -> list[str]:
        """The alias text of each row of the versions table (for tests and accessibility)."""
        table = self.versions_table
        items = [table.item(row, 1) for row in range(table.rowCount())]
        return [str(item.data(Qt.ItemDataRole.UserRole) or "") if item else "" for item in items]

    def selected_version(self) -> ModelVersion | None:
        overview, row = self.shown, self.versions_table.currentRow()
        if overview is None or not 0 <= row < len(overview.versions):
            return None
        return overview.versions[row]

    def _on_versions_table_current_cell_changed(self, row: int, *_: int) -> None:
        overview = self.shown
        if overview is None or not 0 <= row < len(overview.versions):
            return
        version = overview.versions[row]
        self.version_title.setText(f"Version {version.version}")
        self.version_details.setText(version_details(version))

    def _on_versions_table_cell_clicked(self, row: int, column: int) -> None:
        overview = self.shown
        if overview is None or column != COLUMNS.index("Source run"):
            return
        if 0 <= row < len(overview.versions) and overview.versions[row].run_id:
            self.run_open_requested.emit(overview.versions[row].run_id)

    def _on_alias_chips_history_requested(self, alias: str) -> None:
        """Show the Lineage tab at the period in which the alias's current holder got it."""
        self.tabs.setCurrentIndex(1)
        item = self._current_period_items.get(alias)
        if item is not None:
            self.lineage_tree.setCurrentItem(item)
            self.lineage_tree.scrollToItem(item)

    def _load_rollback_choices(self, overview: ModelOverview) -> None:
        """Ask the engine what a rollback of each alias would restore (labels the buttons)."""
        self.rollback_choices = {}
        self._update_rollback_button()
        workspace = self.ctx.workspace
        if workspace is None or not overview.aliases:
            return
        self.tasks.run(
            load_rollback_choices,
            workspace.tracking,
            overview.name,
            [alias for alias, _ in overview.aliases],
            on_done=lambda choices: self._on_rollback_choices_loaded(overview.name, choices),
            on_error=self._on_rollback_choices_failed,
            description=f"Reading the alias history of {overview.name}",
            slot="rollback-choices",
        )

    def _on_rollback_choices_loaded(
        self, model_name: str, choices: dict[str, RollbackChoice]
    ) -> None:
        if self.shown is None or self.shown.name != model_name:
            return
        self.rollback_choices = choices
        for chips in set(self.alias_widgets.values()):
            chips.set_rollback_choices(choices)
        self._update_rollback_button()
        self.rollback_choices_loaded.emit(choices)

    def _on_rollback_choices_failed(self, error: Exception) -> None:
        self.rollback_button.setToolTip(describe_error(error, "read what a rollback would do"))

    def _update_rollback_button(self) -> None:
        """ "Roll back champion to version 2…": the first alias (champion first) the engine
        would roll back now."""
        overview = self.shown
        choice = None
        if overview is not None:
            choice = next(
                (
                    self.rollback_choices[a]
                    for a, _ in overview.aliases
                    if a in self.rollback_choices and self.rollback_choices[a].possible
                ),
                None,
            )
        self.rollback_alias = choice.alias if choice else ""
        if choice is not None:
            self.rollback_button.setText(f"{rollback_label(choice)}…")
            self.rollback_button.setToolTip(choice.sentence)
        else:
            self.rollback_button.setText("Roll back…")
            reasons = [c.sentence for c in self.rollback_choices.values()]
            self.rollback_button.setToolTip(
                "\n".join(reasons) or "No alias of this model has a promotion to undo."
            )
        self.rollback_button.setEnabled(choice is not None and self.promotion is not None)

    def _on_rollback_button_clicked(self) -> None:
        if self.rollback_alias:
            self._confirm_rollback(self.rollback_alias)

    def _on_alias_chips_rollback_requested(self, alias: str) -> None:
        self._confirm_rollback(alias)

    def _confirm_rollback(self, alias: str) -> None:
        choice = self.rollback_choices.get(alias)
        if self.shown is None or choice is None or not choice.possible:
            return
        dialog = CommentDialog(
            f"Roll back {alias}",
            f"{choice.sentence} The rollback is recorded in the audit chain.",
            rollback_label(choice),
            label="Why (required)",
            required=True,
            placeholder="Why: the incident, the ticket, what you saw.",
            parent=self,
        )
        if dialog.exec() == CommentDialog.DialogCode.Accepted:
            self.rollback(alias, dialog.comment())

    def rollback(self, alias: str, comment: str) -> None:
        """Give `alias` of the shown model back to the version that held it before."""
        if self.shown is None or self.promotion is None:
            return
        self._run_action(
            f"Rolling {alias} of {self.shown.name} back…",
            "roll the alias back",
            rollback_alias,
            self.promotion,
            self.shown.name,
            alias,
            comment,
        )

    # -- requests and decisions ------------------------------------------------------------
    def _on_request_button_clicked(self) -> None:
        version = self.selected_version()
        if self.shown is None or version is None:
            return
        names = [a for a in self.shown.alias_names] or ["champion", "challenger"]
        dialog = RequestPromotionDialog(
            self.shown.name, version.version, names, dict(self.shown.model.aliases), self
        )
        if dialog.exec() == RequestPromotionDialog.DialogCode.Accepted:
            self.request_promotion(version.version, dialog.chosen_alias(), dialog.comment())

    def request_promotion(self, version: str, alias: str, comment: str) -> None:
        """Ask for `version` of the shown model to get `alias` (someone else approves)."""
        if self.shown is None or self.promotion is None:
            return
        self._run_action(
            f"Requesting {alias} for version {version}…",
            "request the promotion",
            request_promotion,
            self.promotion,
            self.shown.name,
            version,
            alias,
            comment,
        )

    def approve(self, request: PromotionRequest, comment: str = "") -> None:
        """The one-click approval of the inbox: every gate passed, the alias moves now."""
        if self.promotion is None:
            return
        self._run_action(
            f"Approving {request.model_name} version {request.version} as {request.alias}…",
            "approve the request",
            approve_request,
            self.promotion,
            request.request_id,
            comment,
            {},
            request.model_name,
        )

    def reject(self, request: PromotionRequest, comment: str) -> None:
        if self.promotion is None:
            return
        self._run_action(
            f"Rejecting the request for {request.model_name} version {request.version}…",
            "reject the request",
            reject_request,
            self.promotion,
            request.request_id,
            comment,
            request.model_name,
        )

    def _on_card_reject_requested(self, request: PromotionRequest) -> None:
        own = self.promotion is not None and same_person(request.requester, self.promotion.actor)
        verb = "Withdraw" if own else "Reject"
        what = describe_request(request, self._overview_of(request.model_name))
        dialog = CommentDialog(
            f"{verb} the request",
            f"{verb} the request: {what}?",
            verb,
            label="Why (required)",
            required=True,
            placeholder="Why not: the requester and the audit trail read this.",
            parent=self,
        )
        if dialog.exec() == CommentDialog.DialogCode.Accepted:
            self.reject(request, dialog.comment())

    def _on_card_review_requested(self, request: PromotionRequest) -> None:
        self.review(request)

    def review(self, request: PromotionRequest) -> ApprovalPage | None:
        """Open the approval page of `request` (window-modal); returns it for the caller."""
        overview = self._overview_of(request.model_name)
        if overview is None or self.promotion is None:
            return None
        page = ApprovalPage(self.promotion, overview, request, self.ctx.activity, self)
        page.decided.connect(self._on_approval_page_decided)
        page.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.approval_page = page
        page.start()
        page.open()
        return page

    def _on_approval_page_decided(self, result: object) -> None:
        if isinstance(result, PromotionOutcome):
            self._on_action_done(result)
        elif isinstance(result, Exception):
            self._on_action_failed(result, "decide the request")

    def _run_action(self, doing: str, failing: str, fn: object, *args: object) -> None:
        """Run one promotion use case on a worker; show its sentence; read the registry again."""
        self.outcome.show_text("", doing)
        for card in [*self.inbox_cards, *self.request_cards]:
            card.approve.setEnabled(False)
            card.reject.setEnabled(False)
        self.tasks.run(
            fn,  # type: ignore[arg-type]
            *args,
            on_done=self._on_action_done,
            on_error=lambda error: self._on_action_failed(error, failing),
            description=doing.rstrip("…"),
            slot="action",
        )

    def _on_action_done(self, outcome: PromotionOutcome) -> None:
        details = " ".join(outcome.repairs)
        self.outcome.show_text("ok", outcome.message, details)
        if outcome.applied:
            notifier_for(self).notify(
                "Promotion applied",
                outcome.message,
                kind="ok",
                key=f"applied:{outcome.model_name}:{outcome.alias}:{outcome.version}:"
                f"{outcome.events[-1].seq if outcome.events else ''}",
            )
        self.action_finished.emit(outcome)
        self.reload()

    def _on_action_failed(self, error: Exception, doing: str) -> None:
        self.outcome.show_text("failed", describe_error(error, doing), "Nothing else was changed.")
        self.action_finished.emit(error)
        self.reload()

    def _overview_of(self, model_name: str) -> ModelOverview | None:
        return next((o for o in self.overviews if o.name == model_name), None)

    # -- lineage ---------------------------------------------------------------------------
    def _fill_lineage(self, overview: ModelOverview) -> None:
        self.lineage = model_lineage(overview)
        self._current_period_items = {}
        tree = self.lineage_tree
        tree.clear()
        for entry in self.lineage:
            version = entry.version
            aliases = f" · now {', '.join(version.aliases)}" if version.aliases else ""
            top = QTreeWidgetItem(
                [
                    f"Run {short_id(version.run_id)} → version {version.version}{aliases}",
                    format_time_ms(version.creation_time_ms),
                    version.user or "–",
                    version.description,
                ]
            )
            top.setToolTip(0, f"Run {version.run_id}\nSource {version.source}")
            if version.aliases:
                font = top.font(0)
                font.setBold(True)
                top.setFont(0, font)
            for request in entry.requests:
                child = QTreeWidgetItem(
                    [
                        f"request: {request.alias} ({request.state.value.replace('_', ' ')})",
                        format_time_ms(request.created_ms),
                        request.requester,
                        request.comment,
                    ]
                )
                child.setForeground(0, QColor(STATE_COLOURS.get(request.state.value, "#7a808a")))
                top.addChild(child)
            for period in entry.periods:
                until = "now" if period.end_ms is None else format_time_ms(period.end_ms)
                child = QTreeWidgetItem(
                    [
                        f"held {period.alias} until {until}",
                        format_time_ms(period.start_ms),
                        f"{period.actor} ({period.action.replace('_', ' ')})",
                        period.comment,
                    ]
                )
                child.setData(0, Qt.ItemDataRole.UserRole, period.alias)
                if period.current:
                    self._current_period_items[period.alias] = child
                child.setForeground(0, QColor(alias_colour(period.alias)))
                top.addChild(child)
            tree.addTopLevelItem(top)
            top.setExpanded(bool(entry.periods or entry.requests))

    # -- requests --------------------------------------------------------------------------
    def _fill_requests(self, overview: ModelOverview) -> None:
        for card in self.request_cards:
            self.requests_layout.removeWidget(card)
            card.deleteLater()
        self.request_cards = [RequestCard(r, overview) for r in overview.pending]
        for card in self.request_cards:
            self._connect_card(card)
            self.requests_layout.addWidget(card)
        self.tabs.setTabText(2, f"Requests ({len(overview.pending)})")
        self.no_requests.setVisible(not overview.pending)
        everything = list(reversed(read_requests(overview.versions)))
        table = self.history_table
        table.setRowCount(len(everything))
        for row, request in enumerate(everything):
            cells = (
                format_time_ms(request.created_ms),
                request.version,
                request.alias,
                request.requester,
                request.state.value.replace("_", " "),
                request.comment,
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 4:
                    item.setForeground(QColor(STATE_COLOURS.get(request.state.value, "#7a808a")))
                if column == 5:
                    item.setToolTip(request.comment)
                table.setItem(row, column, item)

    # -- the inbox -------------------------------------------------------------------------
    def _on_inbox_loaded(self, loaded: tuple[PromotionContext, Inbox]) -> None:
        self.promotion, self.inbox = loaded
        self._fill_inbox()
        self._update_rollback_button()
        self._notice_applied_requests()
        awaiting = {entry.request.request_id for entry in self.inbox.entries}
        for request_id in self._announced - awaiting:
            notifier_for(self).dismiss(f"awaits:{request_id}")
        self._announced = awaiting
        for entry in self.inbox.entries:
            request = entry.request
            overview = self._overview_of(request.model_name)
            notifier_for(self).notify(
                "A promotion request awaits you",
                f"{request.model_name}: {describe_request(request, overview)}.",
                key=f"awaits:{request.request_id}",
            )
        self.inbox_loaded.emit(self.inbox)

    def _on_inbox_failed(self, error: Exception) -> None:
        self.promotion, self.inbox = None, None
        self.inbox_title.setText("Your inbox")
        self.inbox_note.setText(describe_error(error, "find the requests awaiting you"))
        self.inbox_note.setStyleSheet(f"color: {PROBLEM_COLOUR};")
        self._update_rollback_button()
        self.inbox_changed.emit(0)
        self.inbox_loaded.emit(None)

    def _entry_of(self, request: PromotionRequest) -> InboxEntry | None:
        if self.inbox is None:
            return None
        return next(
            (e for e in self.inbox.entries if e.request.request_id == request.request_id), None
        )

    def _connect_card(self, card: RequestCard) -> None:
        card.review_requested.connect(self._on_card_review_requested)
        card.approve_requested.connect(self.approve)
        card.reject_requested.connect(self._on_card_reject_requested)
        user = self.promotion.actor if self.promotion is not None else ""
        card.review.setEnabled(self.promotion is not None)
        if self.promotion is None:
            card.gates.setText("Checking who you are and the gates…")
        else:
            card.set_entry(self._entry_of(card.request), user)

    def _fill_inbox(self) -> None:
        """One card per request awaiting the current user, across every model."""
        for card in self.inbox_cards:
            self.inbox_layout.removeWidget(card)
            card.deleteLater()
        self.inbox_cards = []
        if self.inbox is None:
            return
        self.inbox_note.setStyleSheet("")
        for entry in self.inbox.entries:
            card = RequestCard(
                entry.request, self._overview_of(entry.request.model_name), show_model=True
            )
            self._connect_card(card)
            self.inbox_cards.append(card)
            self.inbox_layout.addWidget(card)
        count = len(self.inbox.entries)
        self.inbox_title.setText(f"Your inbox ({count})" if count else "Your inbox")
        user = self.inbox.user or "you"
        self.inbox_note.setText(
            f"Requests awaiting a decision by {user}; your own requests wait for someone else."
            if count
            else f"Nothing awaits a decision by {user}."
        )
        # The per-model cards learn the gates too.
        for card in self.request_cards:
            card.set_entry(self._entry_of(card.request), self.inbox.user)
        self.inbox_changed.emit(count)

    def _notice_applied_requests(self) -> None:
        """Tell the user when one of their requests was applied since the previous look."""
        if self.promotion is None or not self.overviews:
            return
        before = self._seen_states
        self._seen_states = request_states(self.overviews)
        if before is None:
            return
        for request in my_applied_requests(before, self.overviews, self.promotion.actor):
            notifier_for(self).notify(
                "Promotion applied",
                f"{request.model_name} version {request.version} is now {request.alias}"
                + (f" (approved by {request.decided_by})." if request.decided_by else "."),
                kind="ok",
                key=f"applied-request:{request.request_id}",
            )


def version_details(version: ModelVersion) -> str:
    """What the "Selected version" box says: description, provenance, every visible tag."""
    aliases = f" · {', '.join(version.aliases)}" if version.aliases else ""
    lines = [
        f"{version.model_name} version {version.version}{aliases} · {version.status}",
        version.description or "No description.",
        f"Created {format_time_ms(version.creation_time_ms)} by {version.user or 'unknown'}"
        f" · last updated {format_time_ms(version.last_updated_time_ms)}",
        f"Run {version.run_id}",
        f"Source {version.source}",
    ]
    tags = visible_tags(version)
    lines.append("Tags: " + ", ".join(f"{k}={v}" for k, v in tags.items()) if tags else "No tags.")
    return "\n".join(lines)


def version_tooltip(version: ModelVersion) -> str:
    lines = [f"{version.model_name} version {version.version}"]
    if version.description:
        lines.append(version.description)
    if version.last_updated_time_ms:
        lines.append(f"Last updated {format_time_ms(version.last_updated_time_ms)}")
    return "\n".join(lines)
