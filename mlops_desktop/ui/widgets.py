"""Small shared widgets: view header, empty state, error banner, stat tiles, tone panels."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

#: The colours of TonePanel's tones.
TONE_COLOURS = {"ok": "#2e9d5b", "failed": "#d64545", "warning": "#b26a00"}


def plain(text: str) -> QLabel:
    """A label that never interprets its text as rich text (names can contain '<')."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def text_colour_on(background: str) -> str:
    """Near-black or white, whichever reads better on `background` (a connection colour)."""
    colour = QColor(background)
    if not colour.isValid():
        return "#1d2026"
    # Relative luminance with the sRGB weights; 0.6 keeps white on the amber and red presets.
    luminance = 0.2126 * colour.redF() + 0.7152 * colour.greenF() + 0.0722 * colour.blueF()
    return "#1d2026" if luminance > 0.6 else "#ffffff"


def colour_dot(colour: str, size: int = 12) -> QIcon:
    """A filled circle of a connection's colour, for lists and the connection switcher."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(colour))
    painter.drawEllipse(1, 1, size - 2, size - 2)
    painter.end()
    return QIcon(pixmap)


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
        self.badge_colour = ""
        self.badge.hide()  # until the view knows its workspace
        self._style_badge()
        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addStretch(1)
        top.addWidget(self.badge)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 6)
        layout.addLayout(top)
        layout.addWidget(self.subtitle)

    def set_workspace(self, label: str, colour: str = "") -> None:
        """Say which connection the view is on, in that connection's colour (prod in red)."""
        self.badge.setText(f"on {label}")
        self.badge_colour = colour if QColor(colour).isValid() else ""
        self.badge.setToolTip(f"This view shows {label}")
        self.badge.show()
        self._style_badge()

    def _style_badge(self) -> None:
        if self.badge_colour:
            look = (
                f"background: {self.badge_colour}; color: {text_colour_on(self.badge_colour)};"
                f" border: 1px solid {self.badge_colour}; font-weight: bold;"
            )
        else:
            look = "border: 1px solid palette(mid);"
        self.badge.setStyleSheet(
            f"QLabel#workspaceBadge {{ {look} border-radius: 9px; padding: 2px 10px; }}"
        )


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


class TonePanel(QFrame):
    """A rounded, tinted box (banner, test result) whose colour says ok, failed or warning."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.headline = plain("")
        self.headline.setWordWrap(True)
        self.headline.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.headline.font()
        font.setBold(True)
        self.headline.setFont(font)
        self.details = plain("")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setObjectName("subtitle")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.addWidget(self.headline)
        layout.addWidget(self.details)
        self.tone = ""
        self.set_tone("")

    def set_tone(self, tone: str) -> None:
        """ "ok", "failed", "warning" or "" (neutral)."""
        self.tone = tone
        colour = TONE_COLOURS.get(tone)
        if colour is None:
            look = "border: 1px solid palette(mid); background: palette(alternate-base);"
        else:
            tint = QColor(colour)
            # Translucent, so that it reads on the light and the dark theme alike.
            rgba = f"rgba({tint.red()}, {tint.green()}, {tint.blue()}, 0.12)"
            look = (
                f"border: 1px solid {colour}; border-left: 5px solid {colour}; background: {rgba};"
            )
        self.setStyleSheet(f"QFrame#{self.objectName()} {{ {look} border-radius: 6px; }}")

    def show_text(self, tone: str, headline: str, details: str = "") -> None:
        self.set_tone(tone)
        self.headline.setText(headline)
        self.details.setText(details)
        self.details.setVisible(bool(details))
        self.show()
