"""The approval page: one promotion request, its gates with their evidence, the diff, the decision.

Top, the request (who asked, when, why) and where the alias points now. Then each gate of the
model with its outcome icon and the sentence that proves it (values and where they come from),
and the version diff (params, metrics and tags of the candidate against the current holder,
differences highlighted). Bottom, a comment and Approve / Reject; a failing gate replaces
Approve with "Override and approve…", which needs a written reason. The requester reads "You
cannot approve your own request" instead of an Approve button.

The gates and the diff load on workers when the page opens; the decision runs on a worker
through `services.promotion_flow`, and its outcome (applied, refused, already decided by
someone else) is shown as a sentence. `decided` tells the Models view to read the registry
again.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mlops_desktop.domain.promotion import PromotionRequest, PromotionState
from mlops_desktop.services.gates import GateReport, GateResult
from mlops_desktop.services.inbox import review_gates, same_person
from mlops_desktop.services.promotion_flow import (
    PromotionContext,
    PromotionOutcome,
    approve_request,
    reject_request,
)
from mlops_desktop.services.registry import ModelOverview
from mlops_desktop.services.version_diff import VersionDiff, load_version_diff
from mlops_desktop.ui.format import format_time_ms
from mlops_desktop.ui.promotion_dialogs import CommentDialog
from mlops_desktop.ui.tasks import ActivityMonitor, TaskRunner
from mlops_desktop.ui.views.base import describe_error
from mlops_desktop.ui.widgets import TonePanel, plain

#: Outcome -> (icon, colour) of a gate line.
GATE_LOOKS = {
    "passed": ("✔", "#2e9d5b"),
    "failed": ("✖", "#d64545"),
    "not_evaluated": ("?", "#b26a00"),
}
DIFF_COLUMNS = ("Kind", "Key", "Candidate", "Holder now")
DIFF_HIGHLIGHT = "#f4b400"


def gates_summary(results: Sequence[GateResult]) -> tuple[str, str]:
    """ "3 of 3 gates pass" and a colour; no gate at all is said plainly."""
    if not results:
        return "This model declares no gate for this alias: only the four-eyes rule applies.", (
            "#7a808a"
        )
    passed = sum(r.outcome.value == "passed" for r in results)
    failed = sum(r.outcome.value == "failed" for r in results)
    unknown = len(results) - passed - failed
    text = f"{passed} of {len(results)} gates pass"
    if failed:
        text += f", {failed} fail{'s' if failed == 1 else ''}"
    if unknown:
        text += f", {unknown} could not be checked"
    colour = GATE_LOOKS["passed"][1] if not failed else GATE_LOOKS["failed"][1]
    if not failed and unknown:
        colour = GATE_LOOKS["not_evaluated"][1]
    return text, colour


def every_gate_passed(report: GateReport | None) -> bool:
    """Strictly every gate PASSED: what a one-click approval from the inbox requires."""
    return report is not None and all(r.outcome.value == "passed" for r in report.results)


class GateRow(QFrame):
    """Icon, what the gate requires, and its evidence sentence."""

    def __init__(self, result: GateResult, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("gateRow")
        self.result = result
        icon_text, colour = GATE_LOOKS.get(result.outcome.value, GATE_LOOKS["not_evaluated"])
        self.icon = plain(icon_text)
        self.icon.setFixedWidth(22)
        self.icon.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
        font = self.icon.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self.icon.setFont(font)
        self.icon.setStyleSheet(f"color: {colour};")
        self.name = plain(result.title or result.name)
        self.name.setToolTip(f"Gate {result.name} ({result.kind})")
        bold = self.name.font()
        bold.setBold(True)
        self.name.setFont(bold)
        self.evidence = plain(result.evidence)
        self.evidence.setWordWrap(True)
        self.evidence.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        text = QVBoxLayout()
        text.setSpacing(1)
        text.addWidget(self.name)
        text.addWidget(self.evidence)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.icon)
        layout.addLayout(text, 1)


class ApprovalPage(QDialog):
    """The review of one request, as a dialog over the Models view."""

    #: a decision was recorded (its PromotionOutcome) or refused (the exception, whose sentence
    #: the page shows): either way the registry should be read again
    decided = Signal(object)
    #: the gates were evaluated: the GateReport
    gates_loaded = Signal(object)
    #: the version diff was read
    diff_loaded = Signal(object)

    def __init__(
        self,
        promotion: PromotionContext,
        overview: ModelOverview,
        request: PromotionRequest,
        activity: ActivityMonitor | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("approvalPage")
        self.setWindowTitle(f"Review: {overview.name} version {request.version} → {request.alias}")
        self.resize(980, 820)
        self.promotion = promotion
        self.overview = overview
        self.request = request
        self.current_user = promotion.actor
        self.tasks = TaskRunner(activity, self)
        self.gates: GateReport | None = None
        self.diff: VersionDiff | None = None
        self.finished_with = ""
        self.outcome_result: PromotionOutcome | None = None
        self.gates_failed = ""

        holder = overview.model.aliases.get(request.alias)
        self.holder_version = holder if holder and holder != request.version else None

        title = plain(f"Promote {overview.name} version {request.version} to {request.alias}")
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setBold(True)
        title.setFont(font)
        self.request_line = plain(
            f"Requested by {request.requester} on {format_time_ms(request.created_ms)}"
            f" · request {request.request_id} · {request.state.value.replace('_', ' ')}"
        )
        self.request_line.setObjectName("subtitle")
        self.request_comment = plain(
            f"“{request.comment}”" if request.comment else "The requester left no comment."
        )
        self.request_comment.setWordWrap(True)
        self.holder_line = plain(
            f"{request.alias} is now on version {self.holder_version}."
            if self.holder_version
            else f"No other version holds {request.alias} now."
        )

        self.gates_box = QGroupBox("Gates")
        self.gates_summary = plain("Checking the gates…")
        self.gates_summary.setObjectName("gatesSummary")
        bold = self.gates_summary.font()
        bold.setBold(True)
        self.gates_summary.setFont(bold)
        self.gates_source = plain("")
        self.gates_source.setObjectName("subtitle")
        self.gates_source.setWordWrap(True)
        self.gate_rows: list[GateRow] = []
        self.gates_layout = QVBoxLayout(self.gates_box)
        self.gates_layout.addWidget(self.gates_summary)
        self.gates_layout.addWidget(self.gates_source)

        self.diff_box = QGroupBox(self._diff_title())
        self.diff_note = plain("Reading both versions' runs…")
        self.diff_note.setObjectName("subtitle")
        self.diff_note.setWordWrap(True)
        self.diff_table = QTableWidget(0, len(DIFF_COLUMNS))
        self.diff_table.setObjectName("diffTable")
        self.diff_table.setHorizontalHeaderLabels(self._diff_headers())
        self.diff_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.diff_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.diff_table.verticalHeader().hide()
        self.diff_table.setWordWrap(False)
        self.diff_table.setMinimumHeight(220)
        header = self.diff_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        diff_layout = QVBoxLayout(self.diff_box)
        diff_layout.addWidget(self.diff_note)
        diff_layout.addWidget(self.diff_table)

        self.comment = QPlainTextEdit()
        self.comment.setObjectName("decisionComment")
        self.comment.setPlaceholderText(
            "Your comment, recorded with the decision (optional to approve, required to reject)."
        )
        self.comment.setFixedHeight(64)
        self.comment.textChanged.connect(self._update_buttons)
        self.approve_button = QPushButton("Approve")
        self.approve_button.setObjectName("approveButton")
        self.approve_button.setDefault(True)
        self.override_button = QPushButton("Override and approve…")
        self.override_button.setObjectName("overrideButton")
        self.reject_button = QPushButton("Reject")
        self.reject_button.setObjectName("rejectButton")
        self.close_button = QPushButton("Close")
        # Enter approves only when Approve is offered; it never rejects or overrides.
        for button in (self.override_button, self.reject_button, self.close_button):
            button.setAutoDefault(False)
        self.approve_button.clicked.connect(self._on_approve_button_clicked)
        self.override_button.clicked.connect(self._on_override_button_clicked)
        self.reject_button.clicked.connect(self._on_reject_button_clicked)
        self.close_button.clicked.connect(self.accept)
        self.four_eyes = plain("")
        self.four_eyes.setObjectName("fourEyes")
        self.four_eyes.setWordWrap(True)
        self.four_eyes.setStyleSheet("color: #b26a00; font-weight: bold;")
        self.outcome = TonePanel("decisionOutcome")
        self.outcome.hide()
        buttons = QHBoxLayout()
        buttons.addWidget(self.four_eyes, 1)
        buttons.addWidget(self.reject_button)
        buttons.addWidget(self.override_button)
        buttons.addWidget(self.approve_button)
        buttons.addWidget(self.close_button)
        decision = QGroupBox("Decision")
        decision_layout = QVBoxLayout(decision)
        decision_layout.addWidget(self.comment)
        decision_layout.addLayout(buttons)

        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.addWidget(title)
        layout.addWidget(self.request_line)
        layout.addWidget(self.request_comment)
        layout.addWidget(self.holder_line)
        layout.addWidget(self.gates_box)
        layout.addWidget(self.diff_box, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(inner)
        outer = QVBoxLayout(self)
        outer.addWidget(scroll, 1)
        outer.addWidget(self.outcome)
        outer.addWidget(decision)
        self._update_buttons()

    # -- loading ---------------------------------------------------------------------------
    def start(self) -> None:
        """Evaluate the gates and read the diff, both on workers."""
        candidate = self.overview.version(self.request.version)
        holder = self.overview.version(self.holder_version) if self.holder_version else None
        if candidate is None:
            self.diff_note.setText(
                f"Version {self.request.version} is not in the registry any more."
            )
        else:
            self.tasks.run(
                load_version_diff,
                self.promotion.tracking,
                candidate,
                holder,
                self.request.alias,
                on_done=self._on_diff_loaded,
                on_error=self._on_diff_failed,
                description="Reading the version diff",
                slot="diff",
            )
        self._start_gates()

    def _start_gates(self) -> None:
        self.tasks.run(
            review_gates,
            self.promotion,
            self.request,
            on_done=self._on_gates_loaded,
            on_error=self._on_gates_failed,
            description="Checking the gates",
            slot="gates",
        )

    def _on_gates_loaded(self, report: GateReport) -> None:
        self.gates = report
        for row in self.gate_rows:
            self.gates_layout.removeWidget(row)
            row.deleteLater()
        self.gate_rows = [GateRow(result) for result in report.results]
        for row in self.gate_rows:
            self.gates_layout.addWidget(row)
        text, colour = gates_summary(report.results)
        self.gates_summary.setText(text)
        self.gates_summary.setStyleSheet(f"color: {colour};")
        compared = (
            f" Compared against version {report.holder_version}, the {report.alias} now."
            if report.holder_version
            else ""
        )
        self.gates_source.setText(f"Policy: {report.policy_source}.{compared}")
        self._update_buttons()
        self.gates_loaded.emit(report)

    def _on_gates_failed(self, error: Exception) -> None:
        self.gates = None
        self.gates_failed = describe_error(error, "check the gates")
        self.gates_summary.setText(self.gates_failed)
        self.gates_summary.setStyleSheet(f"color: {GATE_LOOKS['failed'][1]};")
        self._update_buttons()

    def _diff_title(self) -> str:
        if self.holder_version:
            return (
                f"Version {self.request.version} against version {self.holder_version}, "
                f"the {self.request.alias} now"
            )
        return f"Version {self.request.version} (no version holds {self.request.alias} now)"

    def _diff_headers(self) -> list[str]:
        holder = (
            f"v{self.holder_version} ({self.request.alias} now)" if self.holder_version else "–"
        )
        return ["Kind", "Key", f"v{self.request.version} (candidate)", holder]

    def _on_diff_loaded(self, diff: VersionDiff) -> None:
        self.diff = diff
        table = self.diff_table
        table.setRowCount(len(diff.rows))
        highlight = QColor(DIFF_HIGHLIGHT)
        highlight.setAlpha(60)
        for row, line in enumerate(diff.rows):
            for column, text in enumerate((line.section, line.key, line.candidate, line.holder)):
                item = QTableWidgetItem(text)
                if line.differs:
                    item.setBackground(highlight)
                    if column >= 2:
                        font = QFont(item.font())
                        font.setBold(True)
                        item.setFont(font)
                table.setItem(row, column, item)
        notes = [f"{len(diff.differing)} of {len(diff.rows)} values differ (highlighted)."]
        if diff.holder is None:
            notes = [f"Nothing to compare with: no other version holds {diff.alias}."]
        notes += list(diff.problems)
        self.diff_note.setText(" ".join(notes))
        self.diff_loaded.emit(diff)

    def _on_diff_failed(self, error: Exception) -> None:
        self.diff_note.setText(describe_error(error, "read the two versions' runs"))

    # -- decisions -------------------------------------------------------------------------
    @property
    def is_requester(self) -> bool:
        return same_person(self.request.requester, self.current_user)

    @property
    def all_gates_pass(self) -> bool:
        """Nothing fails (a gate that could not be checked does not block, as in the engine)."""
        return self.gates is not None and self.gates.all_passed

    def _update_buttons(self) -> None:
        open_request = self.request.state is PromotionState.REQUESTED and not self.finished_with
        checked = self.gates is not None
        if self.is_requester:
            self.four_eyes.setText(
                "You cannot approve your own request: someone else must decide it."
            )
        elif not checked:
            self.four_eyes.setText("Approve waits for the gates to be checked.")
        elif not self.all_gates_pass:
            self.four_eyes.setText(
                "A gate does not pass: approving needs an override with a written reason."
            )
        else:
            self.four_eyes.setText("")
        self.four_eyes.setVisible(bool(self.four_eyes.text()) and open_request)
        may_decide = open_request and not self.is_requester
        self.approve_button.setVisible(not checked or self.all_gates_pass)
        self.approve_button.setEnabled(may_decide and checked and self.all_gates_pass)
        self.override_button.setVisible(checked and not self.all_gates_pass)
        self.override_button.setEnabled(may_decide and checked)
        # Rejecting needs the comment to say why; the requester may withdraw their own.
        has_comment = bool(self.comment.toPlainText().strip())
        self.reject_button.setText("Withdraw" if self.is_requester else "Reject")
        self.reject_button.setEnabled(open_request and has_comment)
        self.reject_button.setToolTip(
            "" if has_comment else "Write in the comment why, then reject."
        )
        self.comment.setEnabled(open_request)

    def _on_approve_button_clicked(self) -> None:
        self.approve(self.comment.toPlainText().strip())

    def _on_override_button_clicked(self) -> None:
        failing = [g.name for g in self.gates.failing] if self.gates else []
        dialog = CommentDialog(
            "Override a failing gate",
            f"Approving overrides {', '.join(failing)}. The override and your reason are "
            "recorded in the audit chain and shown in every audit report.",
            "Override and approve",
            label="Reason for the override (required)",
            required=True,
            placeholder="Why this version may go out although the gate fails.",
            parent=self,
        )
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.approve(
                self.comment.toPlainText().strip(),
                overrides={name: dialog.comment() for name in failing},
            )

    def _on_reject_button_clicked(self) -> None:
        self.reject_request(self.comment.toPlainText().strip())

    def approve(self, comment: str, overrides: dict[str, str] | None = None) -> None:
        """Approve (overriding the named failing gates with their reasons): the alias moves."""
        self._busy(f"Approving: moving {self.request.alias} to version {self.request.version}…")
        self.tasks.run(
            approve_request,
            self.promotion,
            self.request.request_id,
            comment,
            dict(overrides or {}),
            self.request.model_name,
            on_done=self._on_decision_done,
            on_error=lambda error: self._on_decision_failed(error, "approve the request"),
            description=f"Approving {self.request.model_name} version {self.request.version}",
            slot="decision",
        )

    def reject_request(self, comment: str) -> None:
        self._busy("Rejecting the request…")
        self.tasks.run(
            reject_request,
            self.promotion,
            self.request.request_id,
            comment,
            self.request.model_name,
            on_done=self._on_decision_done,
            on_error=lambda error: self._on_decision_failed(error, "reject the request"),
            description=f"Rejecting the request for version {self.request.version}",
            slot="decision",
        )

    def _busy(self, doing: str) -> None:
        for button in (self.approve_button, self.override_button, self.reject_button):
            button.setEnabled(False)
        self.outcome.show_text("", doing)

    def _on_decision_done(self, outcome: PromotionOutcome) -> None:
        self.finished_with = outcome.message
        self.outcome_result = outcome
        details = " ".join(outcome.repairs)
        self.outcome.show_text("ok", outcome.message, details)
        self._update_buttons()
        self.decided.emit(outcome)

    def _on_decision_failed(self, error: Exception, doing: str) -> None:
        sentence = describe_error(error, doing)
        self.outcome.show_text("failed", sentence)
        self._update_buttons()
        self.decided.emit(error)

    def done(self, result: int) -> None:
        self.tasks.shutdown()
        super().done(result)
