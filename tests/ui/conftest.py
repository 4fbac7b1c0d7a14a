"""UI tests: garbage is collected on the GUI thread, between tests, as the app does.

The app collects from a GUI-thread timer (mlops_desktop.ui.gc_guard) so that no worker
thread ever destroys a Qt object. Tests do the same: automatic collection is off while a
test runs, and what it left behind is deleted and collected here, on the GUI thread.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QThreadPool


@pytest.fixture(autouse=True)
def _collect_on_gui_thread(qapp) -> Iterator[None]:
    gc.disable()
    try:
        yield
    finally:
        QThreadPool.globalInstance().waitForDone(10_000)
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        QCoreApplication.processEvents()
        gc.collect()
        gc.enable()
