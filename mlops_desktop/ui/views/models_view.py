"""The Models view: registered models, their versions and aliases, and pending promotions.

Left, the registered models (name, number of versions, where their aliases point); right, the
selected model's description, its versions with champion and challenger marked, and the
promotion requests waiting for a decision.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mlops_desktop.domain.promotion import PromotionRequest
from mlops_desktop.domain.registry import ModelVersion
from mlops_desktop.services.registry import (
    VALIDATION_TAG,
    ModelOverview,
    load_registry,
    visible_model_tags,
    visible_tags,
)
from mlops_desktop.services.workspace import Workspace
from mlops_desktop.ui.context import UiContext
from mlops_desktop.ui.format import format_time_ms, short_id
from mlops_desktop.ui.views.base import View
from mlops_desktop.ui.widgets import EmptyState, plain

#: Row tint and text colour per alias; other aliases are marked in bold only.
ALIAS_COLOURS = {"champion": "#2e9d5b", "challenger": "#2f6fde"}
VALIDATION_COLOURS = {"passed": "#2e9d5b", "failed": "#d64545"}
PROBLEM_COLOUR = "#d64545"
DECISIONS_LATER = (
    "Approving and rejecting requests arrive with the promotion workflow (issue 6); "
    "this version only shows them."
)
MAX_VISIBLE_VERSIONS = 12
COLUMNS = ("Version", "Aliases", "Status", "Validation", "Source run", "Author", "Created", "Tags")


def alias_chips(overview: ModelOverview) -> str:
    """ "champion → v2 · challenger → v4", or a note that no alias is set."""
    if not overview.aliases:
        return "no aliases"
    return " · ".join(f"{alias} → v{version}" for alias, version in overview.aliases)


def describe_request(request: PromotionRequest, overview: ModelOverview) -> str:
    """ "alice asks to make version 4 champion (now version 2)"."""
    current = overview.model.aliases.get(request.alias)
    now = f" (now version {current})" if current and current != request.version else ""
    verb = "asks to make" if request.state.value == "requested" else "got approval to make"
    return f"{request.requester} {verb} version {request.version} {request.alias}{now}"


class RequestCard(QFrame):
    """One pending promotion request: who asked for what, when, why; decisions come later."""

    def __init__(
        self, request: PromotionRequest, overview: ModelOverview, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("requestCard")
        self.setStyleSheet(
            "QFrame#requestCard { border: 1px solid palette(mid); border-radius: 6px;"
            " background: palette(base); }"
        )
        self.request = request
        self.headline = plain(describe_request(request, overview))
        font = self.headline.font()
        font.setBold(True)
        self.headline.setFont(font)
        self.meta = plain(
            f"{request.state.value.capitalize()} {format_time_ms(request.created_ms)}"
            f" · request {request.request_id}"
        )
        self.meta.setObjectName("subtitle")
        self.comment = plain(f"“{request.comment}”" if request.comment else "No comment.")
        self.comment.setWordWrap(True)
        self.approve = QPushButton("Approve…")
        self.reject = QPushButton("Reject…")
        for button in (self.approve, self.reject):
            button.setEnabled(False)
            button.setToolTip(DECISIONS_LATER)
        text = QVBoxLayout()
        text.addWidget(self.headline)
        text.addWidget(self.meta)
        text.addWidget(self.comment)
        buttons = QVBoxLayout()
        buttons.addWidget(self.approve)
        buttons.addWidget(self.reject)
        buttons.addStretch(1)
        layout = QHBoxLayout(self)
        layout.addLayout(text, 1)
        layout.addLayout(buttons)


class ModelsView(View):
    view_id = "models"
    title = "Models"
    subtitle = (
        "Registered models, their versions and aliases, and the promotion requests waiting "
        "for a decision."
    )

    #: the registry finished loading: the number of registered models
    registry_loaded = Signal(int)
    #: the right-hand side now shows this model (its name)
    model_shown = Signal(str)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.overviews: list[ModelOverview] = []
        self.shown: ModelOverview | None = None

        self.models_list = QListWidget()
        self.models_list.setObjectName("modelsList")
        self.models_list.setAlternatingRowColors(True)
        self.models_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.models_list.setStyleSheet("QListWidget#modelsList::item { padding: 6px 4px; }")
        self.models_list.currentRowChanged.connect(self._on_models_list_current_row_changed)

        self.model_name = plain("")
        font = self.model_name.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.model_name.setFont(font)
        self.model_description = plain("")
        self.model_description.setWordWrap(True)
        self.model_description.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.model_meta = plain("")
        self.model_meta.setObjectName("subtitle")
        self.model_meta.setWordWrap(True)

        self.versions_table = QTableWidget(0, len(COLUMNS))
        self.versions_table.setObjectName("versionsTable")
        self.versions_table.setHorizontalHeaderLabels(COLUMNS)
        self.versions_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.versions_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.versions_table.setWordWrap(False)
        self.versions_table.verticalHeader().hide()
        header = self.versions_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)

        self.requests_box = QGroupBox("Pending requests")
        self.requests_layout = QVBoxLayout(self.requests_box)
        self.requests_note = plain(DECISIONS_LATER)
        self.requests_note.setObjectName("subtitle")
        self.requests_note.setWordWrap(True)
        self.request_cards: list[RequestCard] = []
        self.no_requests = plain("No promotion request is waiting for this model.")
        self.problems = plain("")
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet(f"color: {PROBLEM_COLOUR};")
        self.problems.hide()
        self.requests_layout.addWidget(self.no_requests)
        self.requests_layout.addWidget(self.requests_note)

        self.version_details = plain("")
        self.version_details.setObjectName("versionDetails")
        self.version_details.setWordWrap(True)
        self.version_details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.version_box = QGroupBox("Selected version")
        QVBoxLayout(self.version_box).addWidget(self.version_details)
        self.versions_table.currentCellChanged.connect(self._on_versions_table_current_cell_changed)

        details = QWidget()
        details_layout = QVBoxLayout(details)
        details_layout.setContentsMargins(12, 0, 0, 0)
        details_layout.addWidget(self.model_name)
        details_layout.addWidget(self.model_description)
        details_layout.addWidget(self.model_meta)
        details_layout.addWidget(self.problems)
        details_layout.addSpacing(4)
        details_layout.addWidget(self.requests_box)
        versions_title = plain("Versions")
        bold = versions_title.font()
        bold.setBold(True)
        versions_title.setFont(bold)
        details_layout.addSpacing(4)
        details_layout.addWidget(versions_title)
        details_layout.addWidget(self.versions_table)
        details_layout.addWidget(self.version_box)
        details_layout.addStretch(1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.models_list)
        self.splitter.addWidget(details)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([280, 1020])
        self.splitter.setChildrenCollapsible(False)

        self.placeholder = EmptyState(
            "Loading the model registry…", "Reading registered models and their versions."
        )
        self.pages = QStackedWidget()
        self.pages.addWidget(self.placeholder)
        self.pages.addWidget(self.splitter)
        self.body.addWidget(self.pages, 1)

    # -- loading ---------------------------------------------------------------------------
    def load(self, workspace: Workspace) -> None:
        self.placeholder.set_text(
            "Loading the model registry…", "Reading registered models and their versions."
        )
        self.pages.setCurrentWidget(self.placeholder)
        self.tasks.run(
            load_registry,
            workspace.tracking,
            on_done=self._on_registry_loaded,
            on_error=self._on_registry_failed,
            description="Loading models",
        )

    def _on_registry_failed(self, error: Exception) -> None:
        self.placeholder.set_text(
            "The model registry could not be read", "See the message above, then Retry."
        )
        self.show_error(error, "load the registry")

    def _on_registry_loaded(self, overviews: list[ModelOverview]) -> None:
        shown = self.current_model_name()
        self.overviews = overviews
        self.models_list.blockSignals(True)
        self.models_list.clear()
        for overview in overviews:
            count = len(overview.versions)
            item = QListWidgetItem(
                f"{overview.name}\n{count} version{'s' if count != 1 else ''}"
                f" · {alias_chips(overview)}"
            )
            item.setData(Qt.ItemDataRole.UserRole, overview.name)
            item.setToolTip(overview.model.description or overview.name)
            self.models_list.addItem(item)
        self.models_list.blockSignals(False)
        # Wide enough for the longest "N versions · alias → vN" line, within reason.
        wanted = self.models_list.sizeHintForColumn(0) + 2 * self.models_list.frameWidth() + 24
        self.models_list.setMinimumWidth(min(max(wanted, 220), 460))
        if overviews:
            names = [o.name for o in overviews]
            self.models_list.setCurrentRow(names.index(shown) if shown in names else 0)
            self.pages.setCurrentWidget(self.splitter)
        else:
            self.placeholder.set_text(
                "No registered models",
                "Register a model version from a run (in MLflow, or with the retraining "
                "workflow) and it appears here with its aliases and promotion requests.",
            )
        self.registry_loaded.emit(len(overviews))
        self.mark_ready()

    # -- showing one model -----------------------------------------------------------------
    def current_model_name(self) -> str | None:
        item = self.models_list.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def _on_models_list_current_row_changed(self, row: int) -> None:
        if 0 <= row < len(self.overviews):
            self.show_model(self.overviews[row])

    def show_model(self, overview: ModelOverview) -> None:
        model = overview.model
        self.model_name.setText(model.name)
        self.model_description.setText(model.description or "No description.")
        meta = [f"{len(overview.versions)} versions", alias_chips(overview)]
        meta += [
            f"{key}: {value}" for key, value in sorted(visible_model_tags(overview.model).items())
        ]
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
        self.shown = overview
        self._fill_versions(overview.versions)
        self._fill_requests(overview)
        self.model_shown.emit(model.name)

    def _fill_versions(self, versions: tuple[ModelVersion, ...]) -> None:
        table = self.versions_table
        table.setRowCount(len(versions))
        for row, version in enumerate(versions):
            tags = visible_tags(version)
            validation = tags.pop(VALIDATION_TAG, "–")
            cells = (
                version.version,
                ", ".join(version.aliases),
                version.status,
                validation,
                short_id(version.run_id),
                version.user or "–",
                format_time_ms(version.creation_time_ms),
                " · ".join(f"{key}={value}" for key, value in tags.items()),
            )
            colour = next((ALIAS_COLOURS[a] for a in version.aliases if a in ALIAS_COLOURS), None)
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(version_tooltip(version))
                if version.aliases:
                    font = QFont(item.font())
                    font.setBold(column in (0, 1))
                    item.setFont(font)
                if colour is not None:
                    tint = QColor(colour)
                    tint.setAlpha(48)
                    item.setBackground(tint)
                    if column == 1:
                        item.setForeground(QColor(colour))
                if column == 3 and validation in VALIDATION_COLOURS:
                    item.setForeground(QColor(VALIDATION_COLOURS[validation]))
                if column == 4:
                    item.setToolTip(f"Run {version.run_id}\nSource {version.source}")
                table.setItem(row, column, item)
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
            # Details of that version, but no selection colour over its alias tint.
            table.clearSelection()
        else:
            self.version_details.setText("This model has no versions yet.")

    def _on_versions_table_current_cell_changed(self, row: int, *_: int) -> None:
        overview = self.shown
        if overview is None or not 0 <= row < len(overview.versions):
            return
        version = overview.versions[row]
        self.version_box.setTitle(f"Version {version.version}")
        self.version_details.setText(version_details(version))

    def _fill_requests(self, overview: ModelOverview) -> None:
        for card in self.request_cards:
            self.requests_layout.removeWidget(card)
            card.deleteLater()
        self.request_cards = [RequestCard(r, overview) for r in overview.pending]
        for position, card in enumerate(self.request_cards):
            self.requests_layout.insertWidget(position, card)
        self.requests_box.setTitle(f"Pending requests ({len(overview.pending)})")
        self.no_requests.setVisible(not overview.pending)
        self.requests_note.setVisible(bool(overview.pending))


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
