"""The promotion workflow as a user sees it, in the main window on a copy of the demo.

Checks what each picture must show, and saves the pictures under $MLOPS_SCREENSHOT_DIR when it
is set (resources/screenshots/ in the repository): the Models view with its inbox and the
toast, the approval page with the demo's gates (the drift gate fails), the audit timeline,
and the first page of the PDF audit report (rendered by pdftoppm from poppler-utils when it is
installed, else the same layout painted by Qt).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QWidget

from mlops_desktop.services.gates import install_demo_policies
from mlops_desktop.ui.context import UiContext
from mlops_desktop.ui.main_window import MainWindow
from mlops_desktop.ui.report_pdf import render_report_page, report_footer
from mlops_desktop.ui.views.audit_view import AuditView
from mlops_desktop.ui.views.models_view import ModelsView
from tests.ui.test_promotion_ui import TIMEOUT_MS, DemoCopy

pytestmark = pytest.mark.ui


def settle(ms: int = 250) -> None:
    """Let layouts and queued repaints finish before a grab (no assertion waits on this)."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def save(widget_or_image: QWidget | QImage, name: str) -> None:
    out = os.environ.get("MLOPS_SCREENSHOT_DIR")
    if not out:
        return
    path = Path(out) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    image = widget_or_image if isinstance(widget_or_image, QImage) else widget_or_image.grab()
    assert image.save(str(path), "PNG"), path


@pytest.fixture
def window(qtbot, demo_root, tmp_path):
    demo = DemoCopy(tmp_path, demo_root)
    install_demo_policies(demo.gates_dir)
    ctx = UiContext(demo.paths)
    window = MainWindow(ctx, persist=False)
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.set_theme("light")
    window.show()
    yield window, ctx, demo
    window.close()
    demo.workspace.close()


def test_inbox_approval_timeline_and_report(qtbot, window, tmp_path):
    window, ctx, demo = window
    models = window.show_view("models")
    assert isinstance(models, ModelsView)
    with qtbot.waitSignals([models.content_ready, models.inbox_loaded], timeout=TIMEOUT_MS):
        ctx.set_workspace(demo.workspace)
    (card,) = models.inbox_cards
    assert "fail" in card.gates.text(), "the demo's drift alert fails the drift gate"
    assert window.nav.item(3).text() == "Models (1)"
    settle()
    save(window, "registry-inbox.png")

    page = models.review(card.request)
    assert page is not None
    with qtbot.waitSignals([page.gates_loaded, page.diff_loaded], timeout=TIMEOUT_MS):
        pass
    outcomes = {row.result.name: row.result.outcome.value for row in page.gate_rows}
    assert outcomes["drift"] == "failed" and outcomes["compare:val_auc"] == "passed"
    assert not page.override_button.isHidden() and page.approve_button.isHidden()
    page.resize(1000, 860)
    settle()
    save(page, "approval.png")
    # The approver overrides the drift gate, with a reason: the timeline marks it.
    page.comment.setPlainText("Drift is the seasonal shift the retraining was for.")
    with qtbot.waitSignal(page.decided, timeout=TIMEOUT_MS):
        page.approve(
            page.comment.toPlainText(),
            overrides={
                "drift": "monthly_charges drift is the November price change; v4 was "
                "trained on it. Signed off by the risk board (RB-12)."
            },
        )
    assert page.outcome.tone == "ok", page.outcome.headline.text()
    page.close()

    audit = window.show_view("audit")
    assert isinstance(audit, AuditView)
    if not audit.is_ready:
        qtbot.waitSignal(audit.content_ready, timeout=TIMEOUT_MS).wait()
    audit.reload()
    qtbot.waitSignal(audit.content_ready, timeout=TIMEOUT_MS).wait()
    assert audit.tabs.currentWidget() is audit.timeline
    events = audit.overview.audit.events
    assert [e.action for e in events[-2:]] == ["approved", "applied"]
    assert events[-2].overrides and audit.badge.text().startswith("Chain intact")
    settle()
    save(window, "audit-timeline.png")

    with qtbot.waitSignal(audit.report_exported, timeout=TIMEOUT_MS):
        audit.export_report(tmp_path / "report.pdf")
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm:
        subprocess.run(
            [
                pdftoppm,
                "-png",
                "-r",
                "110",
                "-f",
                "1",
                "-l",
                "1",
                str(tmp_path / "report.pdf"),
                str(tmp_path / "page"),
            ],
            check=True,
        )
        (rendered,) = tmp_path.glob("page*.png")
        image = QImage(str(rendered))
    else:
        html = tmp_path / "report.html"
        with qtbot.waitSignal(audit.report_exported, timeout=TIMEOUT_MS):
            audit.export_report(html)
        image = render_report_page(
            html.read_text(encoding="utf-8"), report_footer(audit.overview.name), page=0
        )
    assert not image.isNull() and image.width() > 600
    save(image, "audit-report.png")

    # A source run's link in the Models view opens the Experiments view.
    models.run_open_requested.emit(models.shown.versions[0].run_id)
    assert window.current_view_id == "experiments"
