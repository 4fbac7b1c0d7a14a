"""A filter box: a line edit that completes column names where the cursor is, and a one-line
message under it that says what is wrong with the filter (red) or what it does (grey).

The checking itself is the caller's (a pure function of the text); the box only shows the
verdict. Completion offers `params.`/`metrics.`/`tags.`/`attributes.` names from a
`QStringListModel` sorted case-insensitively, so QCompleter finds a prefix by bisection even
among 10,000+ names.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtGui import QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCompleter,
    QLineEdit,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from mlops_desktop.services.search_syntax import completion_prefix
from mlops_desktop.ui.widgets import plain

#: The message colour of a filter that cannot run.
PROBLEM_COLOUR = "#c62828"


class CompletingLineEdit(QLineEdit):
    """A QLineEdit completing the name under the cursor (not the whole text, as
    `QLineEdit.setCompleter` would)."""

    completed = Signal(str)  #: a completion was inserted

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.names = QStringListModel(self)
        self.name_completer = QCompleter(self.names, self)
        self.name_completer.setWidget(self)
        self.name_completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.name_completer.setModelSorting(QCompleter.ModelSorting.CaseInsensitivelySortedModel)
        self.name_completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.name_completer.setMaxVisibleItems(12)
        self.name_completer.activated.connect(self._on_completer_activated)
        self.textEdited.connect(self._on_text_edited)

    def set_completions(self, names: Sequence[str]) -> None:
        """The names to offer, sorted case-insensitively (see `field_completions`)."""
        self.names.setStringList(list(names))

    def _on_text_edited(self, text: str) -> None:
        _, prefix = completion_prefix(text, self.cursorPosition())
        popup = self._popup()
        if len(prefix) < 2 or prefix.startswith(("'", '"')):
            popup.hide()
            return
        self.name_completer.setCompletionPrefix(prefix)
        count = self.name_completer.completionCount()
        if count == 0 or (count == 1 and self.name_completer.currentCompletion() == prefix):
            popup.hide()
            return
        popup.setCurrentIndex(self.name_completer.completionModel().index(0, 0))
        rect = self.cursorRect()
        rect.setLeft(max(0, rect.left() - self.fontMetrics().horizontalAdvance(prefix)))
        rect.setWidth(
            max(320, popup.sizeHintForColumn(0) + popup.verticalScrollBar().sizeHint().width())
        )
        self.name_completer.complete(rect)

    def _popup(self) -> QAbstractItemView:
        popup = self.name_completer.popup()
        assert popup is not None  # QCompleter makes its popup on first use
        return popup

    def _on_completer_activated(self, name: str) -> None:
        self.insert_completion(name)

    def insert_completion(self, name: str) -> None:
        """Replace the name being typed at the cursor with `name`."""
        text, cursor = self.text(), self.cursorPosition()
        start, _ = completion_prefix(text, cursor)
        self.setText(text[:start] + name + text[cursor:])
        self.setCursorPosition(start + len(name))
        self.completed.emit(name)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # With the popup open, QCompleter shows each key to this edit first and acts on the
        # ones it leaves: Return, Enter and Tab pick the name (and must not run the filter),
        # Escape closes the popup.
        popup_keys = (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Tab, Qt.Key.Key_Escape)
        if self._popup().isVisible() and event.key() in popup_keys:
            event.ignore()
            return
        super().keyPressEvent(event)


class FilterBox(QWidget):
    """A `CompletingLineEdit` with its message line, which names the box ("Quick filter: …")
    so that the two filters stay told apart once their placeholders are gone."""

    def __init__(
        self, name: str, placeholder: str, hint: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.name = name
        self.edit = CompletingLineEdit()
        self.edit.setPlaceholderText(placeholder)
        self.edit.setClearButtonEnabled(True)
        self.message = plain("")
        self.message.setObjectName("filterMessage")
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.message.font()
        font.setPointSizeF(font.pointSizeF() * 0.9)
        self.message.setFont(font)
        # One line that never widens the window: a long message is cut, its tooltip is whole.
        self.message.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.hint = hint
        self.has_problem = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.edit)
        layout.addWidget(self.message)
        self.show_note("")

    def show_problem(self, message: str) -> None:
        """The filter cannot run: say why, in red, and frame the box in red."""
        self.has_problem = True
        self._say(message)
        self.message.setStyleSheet(f"QLabel#filterMessage {{ color: {PROBLEM_COLOUR}; }}")
        self.edit.setStyleSheet(
            f"QLineEdit {{ border: 1px solid {PROBLEM_COLOUR}; border-radius: 3px; padding: 2px; }}"
        )

    def show_note(self, note: str) -> None:
        """The filter is fine: a neutral note (or the hint when there is nothing to say)."""
        self.has_problem = False
        self._say(note or self.hint)
        self.message.setStyleSheet("")
        self.message.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.edit.setStyleSheet("")

    def _say(self, text: str) -> None:
        self.message.setText(f"{self.name}: {text}")
        self.message.setToolTip(self.message.text())

    def text(self) -> str:
        return self.edit.text()
