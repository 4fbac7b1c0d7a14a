"""The Audit trail view: a model's hash-chained promotion events, their integrity, alias history.

Per model: a vertical timeline of the audit events (and the same events as a table with their
hashes), a badge saying whether the chain verifies, the question "which version held alias A
at time T", answered from the chain by `services.audit.alias_holder_at` (pure and cheap, so it
runs on the GUI thread), and "Export report…", which writes the model's audit report as PDF or
HTML on a worker (`services.audit_report`, `ui.report_pdf`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import QDateTime, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateTimeEdit,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from mlops_desktop.domain.promotion import AuditEvent
from mlops_desktop.services.audit import alias_holder_at
from mlops_desktop.services.registry import ModelOverview, load_registry
from mlops_desktop.services.workspace import Workspace
from mlops_desktop.ui.audit_timeline import AuditTimeline
from mlops_desktop.ui.context import UiContext
from mlops_desktop.ui.format import format_time_ms
from mlops_desktop.ui.report_pdf import export_audit_report, is_html_path
from mlops_desktop.ui.views.base import View, describe_error
from mlops_desktop.ui.widgets import EmptyState, TonePanel, plain

INTACT_COLOUR = "#2e9d5b"
BROKEN_COLOUR = "#d64545"
NEUTRAL_COLOUR = "#7a808a"
WARNING_COLOUR = "#c98a00"
ACTION_COLOURS = {
    "requested": "#2f6fde",
    "approved": "#2e9d5b",
    "rejected": "#d64545",
    "applied": "#2e9d5b",
    "rolled_back": "#c98a00",
}
COLUMNS = ("#", "Time", "Actor", "Action", "Version", "Alias", "Comment", "Hash")
HASH_CHARS = 12
REPORT_FILTERS = {"PDF document (*.pdf)": ".pdf", "HTML page (*.html)": ".html"}


def report_file_name(model_name: str, now: dt.datetime) -> str:
    """ "churn-classifier-audit-2026-11-29.pdf": a name that sorts by model, then date."""
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in model_name)
    return f"{safe}-audit-{now:%Y-%m-%d}.pdf"


def badge_text(overview: ModelOverview) -> tuple[str, str]:
    """The integrity badge's text and colour."""
    chain = overview.audit
    if not chain.intact:
        count = len(chain.problems)
        heading = f"Chain broken: {count} problem{'s' if count != 1 else ''} found"
        return heading + "\n" + "\n".join(f"• {p}" for p in chain.problems), BROKEN_COLOUR
    if not chain.events:
        return "No audit events recorded for this model yet", NEUTRAL_COLOUR
    return f"Chain intact: {len(chain.events)} events verified", INTACT_COLOUR


def event_tooltip(event: AuditEvent) -> str:
    return f"Event {event.seq}\nHash {event.hash}\nPrevious {event.prev_hash}"


class AuditView(View):
    view_id = "audit"
    title = "Audit trail"
    subtitle = (
        "Every promotion request, decision and alias move, hash-chained so that an edited or "
        "removed event is detected."
    )

    #: the audit trails finished loading: the number of models
    trails_loaded = Signal(int)
    #: the view now shows this model's trail (its name)
    model_shown = Signal(str)
    #: an audit report was written: its path
    report_exported = Signal(str)
    #: writing an audit report failed: the sentence shown
    report_failed = Signal(str)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.overviews: list[ModelOverview] = []
        self.overview: ModelOverview | None = None

        self.model_combo = QComboBox()
        self.model_combo.setMinimumWidth(260)
        self.model_combo.currentIndexChanged.connect(self._on_model_combo_index_changed)
        self.badge = plain("")
        self.badge.setObjectName("chainBadge")
        self.badge.setWordWrap(True)
        self.mismatches = plain("")
        self.mismatches.setWordWrap(True)
        self.mismatches.setStyleSheet(f"color: {WARNING_COLOUR};")
        self.mismatches.hide()
        self.export_button = QPushButton("Export report…")
        self.export_button.setToolTip(
            "Write this model's audit report (chain status, alias history, every event) as "
            "PDF or HTML, for a compliance review"
        )
        self.export_button.clicked.connect(self._on_export_button_clicked)
        self.export_result = TonePanel("exportResult")
        self.export_result.hide()
        top = QHBoxLayout()
        top.addWidget(plain("Model"))
        top.addWidget(self.model_combo)
        top.addStretch(1)
        top.addWidget(self.export_button)

        self.timeline = AuditTimeline()
        self.timeline.selectionModel().currentRowChanged.connect(
            lambda current, _previous: self._on_event_picked(current.row())
        )

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("auditTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COLUMNS.index("Comment"), QHeaderView.ResizeMode.Stretch)
        self.table.currentCellChanged.connect(self._on_table_current_cell_changed)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.timeline, "Timeline")
        self.tabs.addTab(self.table, "Table with hashes")

        self.alias_combo = QComboBox()
        self.alias_combo.setMinimumWidth(160)
        self.alias_combo.currentIndexChanged.connect(self._on_alias_combo_index_changed)
        self.when_edit = QDateTimeEdit()
        self.when_edit.setCalendarPopup(True)
        self.when_edit.setDisplayFormat("yyyy-MM-dd HH:mm:ss")
        self.when_edit.setDateTime(QDateTime.currentDateTime())
        self.when_edit.dateTimeChanged.connect(self._on_when_edit_date_time_changed)
        self.answer = plain("")
        self.answer.setObjectName("aliasAnswer")
        self.answer.setWordWrap(True)
        font = self.answer.font()
        font.setBold(True)
        self.answer.setFont(font)
        hint = plain("Pick a row of the timeline to ask about the moment it happened.")
        hint.setObjectName("subtitle")
        question = QGroupBox("Which version held an alias at a given time?")
        row = QHBoxLayout()
        row.addWidget(plain("Alias"))
        row.addWidget(self.alias_combo)
        row.addSpacing(12)
        row.addWidget(plain("at"))
        row.addWidget(self.when_edit)
        row.addStretch(1)
        question_layout = QVBoxLayout(question)
        question_layout.addLayout(row)
        question_layout.addWidget(self.answer)
        question_layout.addWidget(hint)

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.badge)
        layout.addWidget(self.mismatches)
        layout.addWidget(self.export_result)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(question)

        self.placeholder = EmptyState("Loading audit trails…", "Reading every model's chain.")
        self.pages = QStackedWidget()
        self.pages.addWidget(self.placeholder)
        self.pages.addWidget(content)
        self.content = content
        self.body.addWidget(self.pages, 1)

    # -- loading ---------------------------------------------------------------------------
    def load(self, workspace: Workspace) -> None:
        self.placeholder.set_text("Loading audit trails…", "Reading every model's chain.")
        self.pages.setCurrentWidget(self.placeholder)
        self.tasks.run(
            load_registry,
            workspace.tracking,
            on_done=self._on_registry_loaded,
            on_error=self._on_registry_failed,
            description="Loading audit trails",
        )

    def _on_registry_failed(self, error: Exception) -> None:
        self.placeholder.set_text(
            "The audit trails could not be read", "See the message above, then Retry."
        )
        self.show_error(error, "load the audit trails")

    def _on_registry_loaded(self, overviews: list[ModelOverview]) -> None:
        shown = self.overview.name if self.overview is not None else None
        # Models with a trail first: that is what someone opening this view came for.
        self.overviews = sorted(overviews, key=lambda o: (not o.audit.events, o.name))
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for overview in self.overviews:
            count = len(overview.audit.events)
            flag = "" if overview.audit.intact else " — broken"
            self.model_combo.addItem(f"{overview.name}  ({count} events{flag})", overview.name)
        names = [o.name for o in self.overviews]
        self.model_combo.setCurrentIndex(names.index(shown) if shown in names else 0)
        self.model_combo.blockSignals(False)
        if self.overviews:
            self.show_model(self.overviews[self.model_combo.currentIndex()])
            self.pages.setCurrentWidget(self.content)
        else:
            self.placeholder.set_text(
                "No registered models",
                "Audit trails belong to registered models; this workspace has none yet.",
            )
        self.trails_loaded.emit(len(self.overviews))
        self.mark_ready()

    # -- one model -------------------------------------------------------------------------
    def _on_model_combo_index_changed(self, index: int) -> None:
        if 0 <= index < len(self.overviews):
            self.show_model(self.overviews[index])

    def show_model(self, overview: ModelOverview) -> None:
        self.overview = overview
        text, colour = badge_text(overview)
        self.badge.setText(text)
        self.badge.setStyleSheet(
            f"QLabel#chainBadge {{ color: white; background: {colour}; border-radius: 6px;"
            " padding: 6px 10px; font-weight: bold; }"
        )
        self.mismatches.setText("\n".join(overview.alias_mismatches))
        self.mismatches.setVisible(bool(overview.alias_mismatches))
        self._fill_table(overview.audit.events)
        self.timeline.set_events(overview.audit.events)
        self.export_button.setEnabled(True)
        self.alias_combo.blockSignals(True)
        self.alias_combo.clear()
        self.alias_combo.addItems(list(overview.alias_names))
        self.alias_combo.blockSignals(False)
        self.alias_combo.setEnabled(bool(overview.alias_names))
        self.when_edit.setDateTime(QDateTime.currentDateTime())
        self._answer()
        self.model_shown.emit(overview.name)

    def _fill_table(self, events: tuple[AuditEvent, ...]) -> None:
        self.table.setRowCount(len(events))
        for row, event in enumerate(events):
            cells = (
                str(event.seq),
                format_time_ms(event.time_ms),
                event.actor,
                event.action.replace("_", " "),
                event.version or "–",
                event.alias or "–",
                event.comment,
                event.hash[:HASH_CHARS],
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == COLUMNS.index("Action"):
                    item.setForeground(QColor(ACTION_COLOURS.get(event.action, NEUTRAL_COLOUR)))
                if column == COLUMNS.index("Hash"):
                    item.setToolTip(event_tooltip(event))
                    item.setFont(self._mono())
                elif column == COLUMNS.index("Comment"):
                    item.setToolTip(event.comment)
                self.table.setItem(row, column, item)
        if events:
            self.table.scrollToBottom()

    def _mono(self) -> QFont:
        font = QFont(self.table.font())
        font.setFamily("DejaVu Sans Mono")
        font.setStyleHint(QFont.StyleHint.Monospace)
        return font

    # -- the alias question ----------------------------------------------------------------
    def _on_table_current_cell_changed(self, row: int, *_: int) -> None:
        self._on_event_picked(row)

    def _on_event_picked(self, row: int) -> None:
        """A row of the timeline or the table: ask about the moment that event happened."""
        if self.overview is None or not 0 <= row < len(self.overview.audit.events):
            return
        event = self.overview.audit.events[row]
        if event.alias and event.alias in self.overview.alias_names:
            self.alias_combo.setCurrentText(event.alias)
        self.when_edit.setDateTime(QDateTime.fromMSecsSinceEpoch(event.time_ms))

    def _on_alias_combo_index_changed(self, _index: int) -> None:
        self._answer()

    def _on_when_edit_date_time_changed(self, _when: QDateTime) -> None:
        self._answer()

    def ask(self, alias: str, time_ms: int) -> str:
        """Set the question (alias, time) and return the answer the view shows."""
        self.alias_combo.setCurrentText(alias)
        self.when_edit.setDateTime(QDateTime.fromMSecsSinceEpoch(time_ms))
        self._answer()
        return self.answer.text()

    def _answer(self) -> None:
        overview = self.overview
        alias = self.alias_combo.currentText()
        if overview is None or not alias:
            self.answer.setText("This model has no alias to ask about.")
            return
        time_ms = self.when_edit.dateTime().toMSecsSinceEpoch()
        when = self.when_edit.text()
        holder = alias_holder_at(overview.audit.events, alias, time_ms)
        if holder is None:
            text = f"No version held “{alias}” on {when}, according to the audit chain."
        else:
            text = f"Version {holder} held “{alias}” on {when}, according to the audit chain."
        if not overview.audit.intact:
            text += " The chain is broken, so this answer may be wrong."
        self.answer.setText(text)

    # -- the report ------------------------------------------------------------------------
    def _on_export_button_clicked(self) -> None:
        if self.overview is None:
            return
        name = report_file_name(self.overview.name, dt.datetime.now())
        path, chosen = QFileDialog.getSaveFileName(
            self, "Export audit report", name, ";;".join(REPORT_FILTERS)
        )
        if path:
            target = Path(path)
            if target.suffix.lower() not in REPORT_FILTERS.values():
                target = target.with_suffix(REPORT_FILTERS.get(chosen, ".pdf"))
            self.export_report(target)

    def export_report(self, path: Path) -> None:
        """Write the shown model's report to `path`: PDF unless the name ends in .html."""
        workspace = self.ctx.workspace
        if self.overview is None or workspace is None:
            return
        kind = "HTML" if is_html_path(Path(path)) else "PDF"
        self.export_button.setEnabled(False)
        self.export_result.show_text(
            "", f"Writing the {kind} audit report of {self.overview.name}…"
        )
        self.tasks.run(
            export_audit_report,
            self.ctx.paths,
            self.ctx.profiles,
            workspace,
            self.overview.name,
            Path(path),
            on_done=lambda written: self._on_report_written(written, kind),
            on_error=self._on_report_failed,
            description=f"Exporting the audit report of {self.overview.name}",
            slot="report",
        )

    def _on_report_written(self, path: Path, kind: str) -> None:
        self.export_button.setEnabled(True)
        self.export_result.show_text(
            "ok", f"Wrote the {kind} audit report to {path}", "It reflects the server as of now."
        )
        self.report_exported.emit(str(path))

    def _on_report_failed(self, error: Exception) -> None:
        self.export_button.setEnabled(True)
        text = describe_error(error, "write the audit report")
        self.export_result.show_text("failed", text)
        self.report_failed.emit(text)
