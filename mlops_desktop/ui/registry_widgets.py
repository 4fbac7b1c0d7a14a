"""Widgets of the promotion workflow in the Models view: alias chips and request cards.

`AliasChips` draws a version's aliases as coloured chips whose menu offers a rollback and the
alias's history; `RequestCard` is one pending request (who asked for what, when, why, how its
gates stand) with Review, a one-click Approve and Reject. Both only emit intents; the view
runs the actions.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QMenu,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from mlops_desktop.domain.promotion import PromotionRequest, PromotionState
from mlops_desktop.services.inbox import InboxEntry, RollbackChoice, same_person
from mlops_desktop.services.registry import ModelOverview
from mlops_desktop.ui.approval_page import every_gate_passed, gates_summary
from mlops_desktop.ui.format import format_time_ms
from mlops_desktop.ui.widgets import plain

#: Chip and row tint colour per alias; any other alias gets OTHER_ALIAS_COLOUR.
ALIAS_COLOURS = {"champion": "#2e9d5b", "challenger": "#2f6fde"}
OTHER_ALIAS_COLOUR = "#6b5bd6"
PROBLEM_COLOUR = "#d64545"


def alias_colour(alias: str) -> str:
    return ALIAS_COLOURS.get(alias, OTHER_ALIAS_COLOUR)


def describe_request(request: PromotionRequest, overview: ModelOverview | None) -> str:
    """ "alice asks to make version 4 champion (now version 2)"."""
    current = overview.model.aliases.get(request.alias) if overview is not None else None
    now = f" (now version {current})" if current and current != request.version else ""
    verb = "asks to make" if request.state is PromotionState.REQUESTED else "got approval to make"
    return f"{request.requester} {verb} version {request.version} {request.alias}{now}"


def chip_style(colour: str) -> str:
    return (
        f"QToolButton {{ background: {colour}; color: white; border: none; border-radius: 9px;"
        " padding: 1px 9px; font-weight: bold; }"
        f" QToolButton::menu-indicator {{ image: none; width: 0; }}"
    )


class AliasChips(QWidget):
    """Coloured chips, one per alias of a version; each opens a menu (roll back, history)."""

    #: the user asked to roll this alias back to the version that held it before
    rollback_requested = Signal(str)
    #: the user asked to see this alias's history (the Lineage tab)
    history_requested = Signal(str)

    def __init__(self, aliases: tuple[str, ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(4)
        self.chips: dict[str, QToolButton] = {}
        self.rollback_actions: dict[str, QAction] = {}
        for alias in aliases:
            chip = QToolButton()
            chip.setText(alias)
            chip.setObjectName(f"aliasChip-{alias}")
            chip.setStyleSheet(chip_style(alias_colour(alias)))
            chip.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
            chip.setCursor(Qt.CursorShape.PointingHandCursor)
            menu = QMenu(chip)
            rollback = menu.addAction(f"Roll back {alias}…")
            rollback.setEnabled(False)
            rollback.triggered.connect(lambda _=False, a=alias: self.rollback_requested.emit(a))
            history = menu.addAction(f"Show the history of {alias}")
            history.triggered.connect(lambda _=False, a=alias: self.history_requested.emit(a))
            chip.setMenu(menu)
            chip.setToolTip(f"{alias}: click for rollback and history")
            layout.addWidget(chip)
            self.chips[alias] = chip
            self.rollback_actions[alias] = rollback
        layout.addStretch(1)

    def set_rollback_choices(self, choices: dict[str, RollbackChoice]) -> None:
        for alias, action in self.rollback_actions.items():
            choice = choices.get(alias)
            if choice is None or not choice.possible:
                action.setText(f"Roll back {alias}: not possible now")
            else:
                action.setText(f"{rollback_label(choice)}…")
            action.setToolTip(choice.sentence if choice else "")
            action.setEnabled(choice is not None and choice.possible)


def rollback_label(choice: RollbackChoice) -> str:
    """ "Roll back champion to version 2", or "... (removes it)" when nothing held it before."""
    if choice.target:
        return f"Roll back {choice.alias} to version {choice.target}"
    return f"Roll back {choice.alias} (removes it)"


class RequestCard(QFrame):
    """One pending request: who asked for what, when, why, its gates, and the decision buttons."""

    #: open the approval page for this request
    review_requested = Signal(object)
    #: approve in one click (only offered when every gate passes)
    approve_requested = Signal(object)
    #: reject (asks for a comment first)
    reject_requested = Signal(object)

    def __init__(
        self,
        request: PromotionRequest,
        overview: ModelOverview | None,
        *,
        show_model: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("requestCard")
        self.setStyleSheet(
            "QFrame#requestCard { border: 1px solid palette(mid); border-radius: 6px;"
            " background: palette(base); }"
        )
        self.request = request
        prefix = f"{request.model_name}: " if show_model else ""
        self.headline = plain(prefix + describe_request(request, overview))
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
        self.gates = plain("Checking the gates…")
        self.gates.setObjectName("gatesLine")
        self.gates.setWordWrap(True)
        self.review = QPushButton("Review…")
        self.review.setToolTip("Open the approval page: every gate with its evidence, the diff")
        self.approve = QPushButton("Approve")
        self.approve.setObjectName("oneClickApprove")
        self.reject = QPushButton("Reject…")
        self.approve.setEnabled(False)
        self.reject.setEnabled(False)
        self.review.clicked.connect(lambda: self.review_requested.emit(self.request))
        self.approve.clicked.connect(lambda: self.approve_requested.emit(self.request))
        self.reject.clicked.connect(lambda: self.reject_requested.emit(self.request))
        text = QVBoxLayout()
        text.setSpacing(2)
        text.addWidget(self.headline)
        text.addWidget(self.meta)
        text.addWidget(self.comment)
        text.addWidget(self.gates)
        buttons = QHBoxLayout()
        buttons.addWidget(self.review)
        buttons.addWidget(self.approve)
        buttons.addWidget(self.reject)
        column = QVBoxLayout()
        column.addLayout(buttons)
        column.addStretch(1)
        layout = QHBoxLayout(self)
        layout.addLayout(text, 1)
        layout.addLayout(column)

    def set_entry(self, entry: InboxEntry | None, user: str) -> None:
        """Show the gates' summary and enable what `user` may do in one click.

        Approve in one click needs every gate checked and passed; anything else goes through
        Review (where an override can be written). The requester cannot approve, and may
        withdraw their own request instead of rejecting it.
        """
        own = same_person(self.request.requester, user)
        if entry is None:
            self.gates.setText("Open Review to check the gates.")
            self.gates.setStyleSheet("")
        elif entry.gates is None:
            self.gates.setText(f"Gates not checked: {entry.gate_error}")
            self.gates.setStyleSheet(f"color: {PROBLEM_COLOUR};")
        else:
            text, colour = gates_summary(entry.gates.results)
            self.gates.setText(text)
            self.gates.setStyleSheet(f"color: {colour};")
        pending = self.request.state is PromotionState.REQUESTED
        decidable = pending and not own
        one_click = decidable and entry is not None and every_gate_passed(entry.gates)
        self.approve.setEnabled(one_click)
        self.reject.setEnabled(pending)
        self.reject.setText("Withdraw…" if own else "Reject…")
        if own:
            why = "You cannot approve your own request: someone else must decide it."
        elif not one_click:
            why = "Not every gate passes: open Review to see why (an override needs a reason)."
        else:
            why = "Every gate passes: approve and move the alias now."
        self.approve.setToolTip(why)
        self.reject.setToolTip(
            "Withdraw your request (recorded as rejected, with your comment)"
            if own
            else "Reject, with a comment saying why"
        )
