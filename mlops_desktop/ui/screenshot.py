"""`mlops-desktop screenshot`: render one view of the main window offscreen into a PNG."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def _prepare_offscreen() -> None:
    # Always offscreen: the command must work the same with or without a display.
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    if not os.environ.get("XDG_RUNTIME_DIR"):
        os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="mlops-desktop-runtime-")


def take_screenshot(
    view_id: str,
    out: Path,
    size: tuple[int, int],
    theme_name: str,
    timeout_s: float,
    profile: str | None = None,
) -> int:
    """Render `view_id` on the profile called `profile` (or the demo workspace) into `out`."""
    _prepare_offscreen()
    from PySide6.QtCore import QEventLoop, QTimer

    from mlops_desktop.services.paths import AppPaths
    from mlops_desktop.ui.app import create_application
    from mlops_desktop.ui.context import UiContext
    from mlops_desktop.ui.main_window import MainWindow

    create_application()
    ctx = UiContext(AppPaths.from_environment())
    window = MainWindow(ctx, persist=False)
    window.set_theme(theme_name)
    window.resize(*size)
    view = window.show_view(view_id)
    window.show()
    if profile:
        window.open_profile(profile)
    else:
        window.open_default_workspace()

    loop = QEventLoop()
    view.content_ready.connect(loop.quit)
    timer = QTimer(singleShot=True, interval=int(timeout_s * 1000))
    timer.timeout.connect(loop.quit)
    timer.start()
    if not view.is_ready:
        loop.exec()
    if not view.is_ready:
        print(
            f"mlops-desktop: the {view_id} view did not finish loading within "
            f"{timeout_s:.0f} s; no screenshot was written. Retry with a longer --timeout.",
            file=sys.stderr,
        )
        window.close()
        return 1
    # Let layouts, auto-ranging charts and queued repaints settle before grabbing.
    settle = QEventLoop()
    QTimer.singleShot(300, settle.quit)
    settle.exec()

    out.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(out), "PNG"):
        print(f"mlops-desktop: could not write {out} (is the folder writable?)", file=sys.stderr)
        window.close()
        return 1
    window.close()
    print(f"Wrote {out} ({view_id}, {size[0]}x{size[1]})")
    return 0
