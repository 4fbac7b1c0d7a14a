"""The installed Qt binding keeps Python's reference counts intact.

PySide6-Essentials 6.12.0 on CPython 3.11 drops one reference to None on every call of a
void method (`widget.resize(...)`) and one to True on every emit of a bool signal. On 3.11
None and True are not immortal, so a long session (or this test suite) ends in "Fatal Python
error: none_dealloc / bool_dealloc" and exit 134. 6.11.3 does not have the leak.
"""

from __future__ import annotations

import sys

import pytest
from pytestqt.qtbot import QtBot

pytestmark = pytest.mark.ui

CALLS = 200


def test_void_methods_keep_none_alive(qtbot: QtBot) -> None:
    from PySide6.QtWidgets import QWidget

    widget = QWidget()
    qtbot.addWidget(widget)
    before = sys.getrefcount(None)
    for _ in range(CALLS):
        widget.resize(10, 10)
    # Other threads may take or drop a few references meanwhile; a leak drops one per call.
    assert sys.getrefcount(None) - before > -CALLS // 2, "the Qt binding leaks references to None"


def test_bool_signals_keep_true_alive(qtbot: QtBot) -> None:
    from PySide6.QtCore import QObject, Signal

    class Toggle(QObject):
        toggled = Signal(bool)  #: the new state

    toggle = Toggle()
    seen: list[bool] = []
    toggle.toggled.connect(seen.append)
    before = sys.getrefcount(True)
    for _ in range(CALLS):
        toggle.toggled.emit(True)
    assert len(seen) == CALLS
    seen.clear()
    assert sys.getrefcount(True) - before > -CALLS // 2, "the Qt binding leaks references to True"
