"""Notifications: a toast in the window and, where the desktop has a tray, a tray message.

Used for "a promotion request awaits you" and "promotion applied". A `Notifier` belongs to a
top-level window (`notifier_for(widget)` finds or makes it), so every view of the window
shares one toast area and one tray icon, and no module-level singleton is needed. Each
notification has a key; the same key is shown once per window, so reloading a view does not
repeat what the user was already told.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QColor, QIcon, QMouseEvent, QPainter, QPixmap
from PySide6.QtWidgets import QFrame, QMainWindow, QSystemTrayIcon, QVBoxLayout, QWidget

from mlops_desktop.ui.widgets import plain

TOAST_MS = 8000
TOAST_WIDTH = 380
TOAST_MARGIN = 18
KIND_COLOURS = {"info": "#2f6fde", "ok": "#2e9d5b", "warning": "#b26a00"}
_NOTIFIER_NAME = "notifier"


def _tray_icon_image(colour: str) -> QIcon:
    pixmap = QPixmap(32, 32)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(colour))
    painter.drawEllipse(2, 2, 28, 28)
    painter.end()
    return QIcon(pixmap)


class Toast(QFrame):
    """A small panel at the bottom right of its window; hides itself after a while or on click."""

    dismissed = Signal()  #: the toast closed (timed out or clicked); it is deleted next

    def __init__(self, title: str, text: str, kind: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("toast")
        colour = KIND_COLOURS.get(kind, KIND_COLOURS["info"])
        self.setStyleSheet(
            f"QFrame#toast {{ background: palette(base); border: 1px solid {colour};"
            f" border-left: 6px solid {colour}; border-radius: 6px; }}"
        )
        self.title = plain(title)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.text = plain(text)
        self.text.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 10)
        layout.addWidget(self.title)
        layout.addWidget(self.text)
        self.setFixedWidth(TOAST_WIDTH)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Click to dismiss")
        self.timer = QTimer(self, singleShot=True, interval=TOAST_MS)
        self.timer.timeout.connect(self.close)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.key = ""  # the notification key it shows, for `Notifier.dismiss`

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.close()
        event.accept()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.dismissed.emit()
        super().closeEvent(event)


class Notifier(QObject):
    """Shows notifications for one window: stacked toasts, plus the tray when there is one."""

    #: a notification was shown: its title and text
    notified = Signal(str, str)

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setObjectName(_NOTIFIER_NAME)
        self.window = window
        self.toasts: list[Toast] = []
        self._shown_keys: set[str] = set()
        self._tray: QSystemTrayIcon | None = None
        window.installEventFilter(self)

    @property
    def tray_available(self) -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def notify(self, title: str, text: str, kind: str = "info", key: str = "") -> bool:
        """Show it, unless a notification with the same `key` was shown already; True if shown."""
        if key:
            if key in self._shown_keys:
                return False
            self._shown_keys.add(key)
        self._show_toast(title, text, kind, key)
        self._show_in_tray(title, text, kind)
        self.notified.emit(title, text)
        return True

    def dismiss(self, key: str) -> None:
        """Close the toast shown for `key`, if it is still up (what it said no longer holds)."""
        for toast in list(self.toasts):
            if toast.key == key:
                toast.close()

    def _show_toast(self, title: str, text: str, kind: str, key: str) -> None:
        toast = Toast(title, text, kind, self.window)
        toast.key = key
        # Not `destroyed`: when the window goes, its toasts go with it and nothing is placed.
        toast.dismissed.connect(lambda: self._forget(toast))
        self.toasts.append(toast)
        toast.adjustSize()
        toast.show()
        toast.raise_()
        toast.timer.start()
        self._place_toasts()

    def _forget(self, toast: Toast) -> None:
        if toast in self.toasts:
            self.toasts.remove(toast)
            self._place_toasts()

    def _place_toasts(self) -> None:
        """Newest at the bottom right, older ones stacked above it."""
        bottom = self._content_bottom() - TOAST_MARGIN
        for toast in reversed(self.toasts):
            # The wrapped text's height at the toast's real width, not at its size hint's.
            layout = toast.layout()
            height = layout.totalHeightForWidth(TOAST_WIDTH) if layout else toast.height()
            toast.setGeometry(
                self.window.width() - TOAST_WIDTH - TOAST_MARGIN,
                bottom - height,
                TOAST_WIDTH,
                height,
            )
            bottom -= height + 8

    def _content_bottom(self) -> int:
        """The bottom of the window's content: above a main window's status bar."""
        central = self.window.centralWidget() if isinstance(self.window, QMainWindow) else None
        return central.geometry().bottom() if central is not None else self.window.height()

    def _show_in_tray(self, title: str, text: str, kind: str) -> None:
        if not self.tray_available:
            return
        if self._tray is None:
            self._tray = QSystemTrayIcon(_tray_icon_image(KIND_COLOURS["info"]), self.window)
            self._tray.setToolTip("MLOps Desktop")
            self._tray.show()
        icon = (
            QSystemTrayIcon.MessageIcon.Warning
            if kind == "warning"
            else QSystemTrayIcon.MessageIcon.Information
        )
        self._tray.showMessage(title, text, icon, TOAST_MS)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Resize:
            self._place_toasts()
        return False


def notifier_for(widget: QWidget) -> Notifier:
    """The notifier of `widget`'s top-level window, made on first use."""
    window = widget.window()
    found = window.findChild(Notifier, _NOTIFIER_NAME, Qt.FindChildOption.FindDirectChildrenOnly)
    return found if isinstance(found, Notifier) else Notifier(window)
