"""Small shared widgets: view header, empty/placeholder state, error banner, stat tiles."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)


def plain(text: str) -> QLabel:
    """A label that never interprets its text as rich text (names can contain '<')."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


class ViewHeader(QWidget):
    """Title, a one-line subtitle, and the workspace badge: every view says what it is on."""

    def __init__(self, title: str, subtitle: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = plain(title)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.title.setFont(font)
        self.subtitle = plain(subtitle)
        self.subtitle.setObjectName("subtitle")
        self.subtitle.setWordWrap(True)
        self.badge = plain("")
        self.badge.setObjectName("workspaceBadge")
        self.badge.setStyleSheet(
            "QLabel#workspaceBadge { border: 1px solid palette(mid); border-radius: 9px;"
            " padding: 2px 10px; }"
        )
        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addStretch(1)
        top.addWidget(self.badge)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 6)
        layout.addLayout(top)
        layout.addWidget(self.subtitle)

    def set_workspace(self, label: str) -> None:
        self.badge.setText(f"on {label}")


class EmptyState(QFrame):
    """A centred explanation where there is nothing (yet) to show: never a blank view."""

    action_requested = Signal()  #: the user clicked the action button

    def __init__(
        self, title: str, text: str, action: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.heading = plain(title)
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.heading.setFont(font)
        self.heading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body = plain(text)
        self.body.setWordWrap(True)
        self.body.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # A word-wrapped label gets its height from its width only when the layout owns its
        # width: centre it between stretches instead of with an alignment flag.
        self.body.setMinimumWidth(360)
        self.body.setMaximumWidth(620)
        centred = QHBoxLayout()
        centred.addStretch(1)
        centred.addWidget(self.body, 4)
        centred.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.heading, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addLayout(centred)
        self.button: QPushButton | None = None
        if action:
            self.button = QPushButton(action)
            self.button.clicked.connect(self.action_requested)
            layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)

    def set_text(self, title: str, text: str) -> None:
        self.heading.setText(title)
        self.body.setText(text)


class ErrorBanner(QFrame):
    """A dismissable strip that says what failed and what to do; hidden when empty."""

    retry_requested = Signal()  #: the user clicked "Retry"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorBanner")
        self.setStyleSheet(
            "QFrame#errorBanner { background: #fdecea; border: 1px solid #f5c2c0;"
            " border-radius: 4px; } QFrame#errorBanner QLabel { color: #611a15; }"
        )
        self.message = plain("")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        retry = QPushButton("Retry")
        retry.clicked.connect(self.retry_requested)
        close = QPushButton("Dismiss")
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.addWidget(self.message, 1)
        layout.addWidget(retry)
        layout.addWidget(close)
        self.hide()

    def show_error(self, text: str) -> None:
        self.message.setText(text)
        self.show()


class StatTile(QFrame):
    """A big number with a caption, for summaries ("312 runs", "3 versions")."""

    def __init__(self, caption: str, value: str = "–", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.value = plain(value)
        font = self.value.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.value.setFont(font)
        self.caption = plain(caption)
        layout = QVBoxLayout(self)
        layout.addWidget(self.value)
        layout.addWidget(self.caption)

    def set_value(self, value: str) -> None:
        self.value.setText(value)
