"""Garbage collection on the GUI thread only.

Python's cyclic collector runs on whichever thread happens to allocate when a threshold is
crossed: with workers on the thread pool that is often a worker, and a cycle holding a Qt
object (a view's lambda, a model) would then be destroyed off the GUI thread, which Qt does
not allow (crashes far from the cause). So the window turns automatic collection off and
collects from a timer on the GUI thread instead, young generation often, all of them rarely.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

#: How often the young generation is collected; a full collection every FULL_EVERY ticks.
INTERVAL_MS = 500
FULL_EVERY = 20


class GuiThreadCollector(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ticks = 0
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self._collect)

    def start(self) -> None:
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        gc.enable()

    def _collect(self) -> None:
        self._ticks += 1
        if self._ticks % FULL_EVERY == 0:
            gc.collect()
            return
        # Collect only the generations whose thresholds are crossed, as automatic gc would.
        threshold0, threshold1, threshold2 = gc.get_threshold()
        count0, count1, count2 = gc.get_count()
        if count0 > threshold0:
            generation = 0
            if count1 > threshold1:
                generation = 1
                if count2 > threshold2:
                    generation = 2
            gc.collect(generation)


def collect_on_gui_thread(app: QObject) -> GuiThreadCollector:
    """Install the collector on `app` (idempotent) and return it."""
    existing = app.findChild(GuiThreadCollector)
    if isinstance(existing, GuiThreadCollector):
        return existing
    collector = GuiThreadCollector(app)
    collector.start()
    return collector
