"""Notifications: one notifier per window, stacked toasts, each key shown once, tray if any."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QLabel, QMainWindow, QSystemTrayIcon, QVBoxLayout, QWidget

from mlops_desktop.ui.notifications import TOAST_MARGIN, Notifier, notifier_for

pytestmark = pytest.mark.ui


@pytest.fixture
def window(qtbot) -> QMainWindow:
    window = QMainWindow()
    inner = QWidget()
    QVBoxLayout(inner).addWidget(QLabel("content"))
    window.setCentralWidget(inner)
    qtbot.addWidget(window)
    window.resize(900, 600)
    window.show()
    return window


def test_every_widget_of_a_window_shares_one_notifier(window):
    inner = window.centralWidget()
    first = notifier_for(inner)
    assert isinstance(first, Notifier)
    assert notifier_for(window) is first
    assert notifier_for(inner.findChild(QLabel)) is first


def test_a_toast_appears_at_the_bottom_right_and_stacks(qtbot, window):
    notifier = notifier_for(window)
    with qtbot.waitSignal(notifier.notified) as told:
        assert notifier.notify("A promotion request awaits you", "churn-classifier: alice asks…")
    assert told.args == ["A promotion request awaits you", "churn-classifier: alice asks…"]
    (toast,) = notifier.toasts
    assert toast.isVisible()
    geometry = toast.geometry()
    assert geometry.right() == window.width() - TOAST_MARGIN - 1
    assert geometry.bottom() <= window.centralWidget().geometry().bottom() - TOAST_MARGIN
    notifier.notify("Promotion applied", "churn-classifier version 4 is now champion", kind="ok")
    older, newer = notifier.toasts
    assert older.geometry().bottom() < newer.geometry().top(), "older toasts move up"


def test_the_same_key_is_announced_once(window):
    notifier = notifier_for(window)
    assert notifier.notify("t", "x", key="awaits:abc")
    assert not notifier.notify("t", "x", key="awaits:abc")
    assert notifier.notify("t", "y", key="awaits:def")
    assert len(notifier.toasts) == 2


def test_a_toast_can_be_taken_back_by_its_key(qtbot, window):
    notifier = notifier_for(window)
    notifier.notify("A promotion request awaits you", "x", key="awaits:abc")
    notifier.notify("Promotion applied", "y", key="applied:1")
    notifier.dismiss("awaits:abc")
    qtbot.waitUntil(lambda: len(notifier.toasts) == 1)
    assert notifier.toasts[0].title.text() == "Promotion applied"


def test_a_click_dismisses_a_toast(qtbot, window):
    notifier = notifier_for(window)
    notifier.notify("t", "x")
    (toast,) = notifier.toasts
    qtbot.mouseClick(toast, pytest.importorskip("PySide6.QtCore").Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not notifier.toasts)


def test_without_a_system_tray_only_the_toast_shows(window):
    notifier = notifier_for(window)
    notifier.notify("t", "x")
    assert notifier.tray_available == QSystemTrayIcon.isSystemTrayAvailable()
    if not notifier.tray_available:  # offscreen: no tray
        assert notifier._tray is None
