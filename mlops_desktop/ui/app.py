"""Start the window: QApplication, theme, logging, the main window on the demo workspace."""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_desktop import APP_NAME, APP_TITLE, __version__
from mlops_desktop.services.paths import AppPaths

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

_STARTED = time.perf_counter()
log = logging.getLogger("mlops_desktop")


def has_display() -> bool:
    if sys.platform != "linux":
        return True
    return bool(
        os.environ.get("QT_QPA_PLATFORM")
        or os.environ.get("DISPLAY")
        or os.environ.get("WAYLAND_DISPLAY")
    )


def setup_logging(paths: AppPaths) -> None:
    """Log to a rotating file in the user log dir; never log a secret (none reaches here)."""
    paths.log_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        paths.log_dir / f"{APP_NAME}.log", maxBytes=2_000_000, backupCount=3, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)


def create_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication, with names set so QSettings and the desktop know who we are."""
    from PySide6.QtWidgets import QApplication

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(argv or [sys.argv[0]])
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_TITLE)
    app.setApplicationVersion(__version__)
    app.setOrganizationName(APP_NAME)
    app.setDesktopFileName(APP_NAME)
    icon = app_icon_path()
    if icon is not None:
        from PySide6.QtGui import QIcon

        app.setWindowIcon(QIcon(str(icon)))
    from mlops_desktop.ui.gc_guard import collect_on_gui_thread

    collect_on_gui_thread(app)
    return app


def app_icon_path() -> Path | None:
    """The SVG icon from `resources/` (source checkout) or installed beside the package."""
    for root in (Path(__file__).resolve().parents[2], Path(sys.prefix) / "share"):
        candidate = root / "resources" / "icons" / "mlops-desktop.svg"
        if candidate.is_file():
            return candidate
    return None


def run_app(
    initial_view: str | None = None, exit_after_paint: bool = False, profile: str | None = None
) -> int:
    """Open the window on `initial_view`, connected to the profile called `profile` (or the
    embedded demo workspace)."""
    if not has_display():
        print(
            "mlops-desktop: no display found (DISPLAY and WAYLAND_DISPLAY are unset), so the "
            "window cannot open. Run it in a desktop session, or render a view without a "
            "display: mlops-desktop screenshot --view experiments --out view.png",
            file=sys.stderr,
        )
        return 2
    from PySide6.QtCore import QEvent, QObject, QTimer

    from mlops_desktop.ui.context import UiContext
    from mlops_desktop.ui.main_window import MainWindow

    paths = AppPaths.from_environment()
    setup_logging(paths)
    log.info("starting %s %s", APP_TITLE, __version__)
    app = create_application()
    ctx = UiContext(paths)
    window = MainWindow(ctx)

    if exit_after_paint:
        # Used by the start-up benchmark: quit as soon as the window has painted once.
        class _FirstPaint(QObject):
            def eventFilter(self, watched: QObject, event: QEvent) -> bool:
                if event.type() == QEvent.Type.Paint:
                    print(f"first-paint {time.perf_counter() - _STARTED:.3f}", flush=True)
                    window.removeEventFilter(self)
                    QTimer.singleShot(0, app.quit)
                return False

        window.installEventFilter(_FirstPaint(window))

    window.start(initial_view, profile)
    window.show()
    code = int(app.exec())
    log.info("closed")
    return code
