"""Light and dark themes on the Fusion style; "system" follows the OS colour scheme."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

THEMES = ("system", "light", "dark")

_DARK = {
    QPalette.ColorRole.Window: "#202328",
    QPalette.ColorRole.WindowText: "#e6e6e6",
    QPalette.ColorRole.Base: "#16181c",
    QPalette.ColorRole.AlternateBase: "#23262c",
    QPalette.ColorRole.ToolTipBase: "#2b2f36",
    QPalette.ColorRole.ToolTipText: "#e6e6e6",
    QPalette.ColorRole.Text: "#e6e6e6",
    QPalette.ColorRole.Button: "#2b2f36",
    QPalette.ColorRole.ButtonText: "#e6e6e6",
    QPalette.ColorRole.BrightText: "#ff6b6b",
    QPalette.ColorRole.Highlight: "#3d7be0",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#7fb0ff",
    QPalette.ColorRole.Mid: "#3a3f47",
    QPalette.ColorRole.PlaceholderText: "#8a9099",
}
_LIGHT = {
    QPalette.ColorRole.Window: "#f4f5f7",
    QPalette.ColorRole.WindowText: "#1d2026",
    QPalette.ColorRole.Base: "#ffffff",
    QPalette.ColorRole.AlternateBase: "#f2f4f7",
    QPalette.ColorRole.ToolTipBase: "#ffffdc",
    QPalette.ColorRole.ToolTipText: "#1d2026",
    QPalette.ColorRole.Text: "#1d2026",
    QPalette.ColorRole.Button: "#e9ebef",
    QPalette.ColorRole.ButtonText: "#1d2026",
    QPalette.ColorRole.BrightText: "#c62828",
    QPalette.ColorRole.Highlight: "#2f6fde",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#1f5fc9",
    QPalette.ColorRole.Mid: "#c9cdd4",
    QPalette.ColorRole.PlaceholderText: "#7a808a",
}


def resolve(theme: str) -> str:
    """ "light" or "dark": what "system" means on this desktop right now."""
    if theme in ("light", "dark"):
        return theme
    hints = QApplication.styleHints()
    return "dark" if hints.colorScheme() == Qt.ColorScheme.Dark else "light"


def apply_theme(app: QApplication, theme: str) -> str:
    """Apply a theme to the whole application; returns the resolved "light" or "dark"."""
    resolved = resolve(theme)
    app.setStyle("Fusion")
    palette = QPalette()
    for role, colour in (_DARK if resolved == "dark" else _LIGHT).items():
        palette.setColor(role, QColor(colour))
    disabled = QColor("#6b7078" if resolved == "dark" else "#9aa0a8")
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.ButtonText,
    ):
        palette.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    app.setPalette(palette)
    app.setProperty("mlops_theme", resolved)
    return resolved


def is_dark(app: QApplication | None = None) -> bool:
    app = app or QApplication.instance()  # type: ignore[assignment]
    return bool(app is not None and app.property("mlops_theme") == "dark")
