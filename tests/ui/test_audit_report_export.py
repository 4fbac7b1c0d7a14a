"""Export of a model's audit report from the Audit view: HTML and PDF, written on a worker."""

from __future__ import annotations

import datetime as dt
import getpass
import shutil
import subprocess

import pytest
from PySide6.QtGui import QColor

from mlops_desktop.services.audit_report import ReportSource, audit_report_html
from mlops_desktop.ui.report_pdf import render_report_page, report_footer, write_pdf
from mlops_desktop.ui.views.audit_view import AuditView, report_file_name
from tests.ui.views import open_view

pytestmark = pytest.mark.ui

TIMEOUT_MS = 60_000


@pytest.fixture
def view(qtbot, demo_workspace) -> AuditView:
    return open_view(qtbot, AuditView, demo_workspace)


def export(qtbot, view: AuditView, path) -> str:
    with qtbot.waitSignal(view.report_exported, timeout=TIMEOUT_MS) as written:
        view.export_report(path)
    return written.args[0]


def test_the_html_report_holds_every_event_and_the_chain_status(qtbot, view, tmp_path):
    path = export(qtbot, view, tmp_path / "churn.html")
    text = (tmp_path / "churn.html").read_text(encoding="utf-8")
    assert path == str(tmp_path / "churn.html")
    events = view.overview.audit.events
    assert f"Chain intact: {len(events)} events verified" in text
    for event in events:
        assert event.hash in text and event.prev_hash in text
    assert "INC-2041" in text
    assert f"by {getpass.getuser()} from Demo workspace" in text, "signed by the acting user"
    assert view.export_result.tone == "ok"
    assert str(tmp_path / "churn.html") in view.export_result.headline.text()
    assert view.export_button.isEnabled()


def test_the_pdf_report_is_a_pdf_with_pages_and_no_leftovers(qtbot, view, tmp_path):
    export(qtbot, view, tmp_path / "churn.pdf")
    data = (tmp_path / "churn.pdf").read_bytes()
    assert data.startswith(b"%PDF")
    assert b"%%EOF" in data[-1024:]
    assert [p.name for p in tmp_path.iterdir()] == ["churn.pdf"], "no temp file left behind"
    pdfinfo = shutil.which("pdfinfo")
    if pdfinfo:
        info = subprocess.run(
            [pdfinfo, str(tmp_path / "churn.pdf")], capture_output=True, text=True
        )
        assert "Audit report: churn-classifier" in info.stdout
        pages = int(
            next(line for line in info.stdout.splitlines() if line.startswith("Pages:")).split()[1]
        )
        assert pages >= 2


def test_a_report_that_cannot_be_written_says_so(qtbot, view, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with qtbot.waitSignal(view.report_failed, timeout=TIMEOUT_MS) as failed:
        view.export_report(blocker / "churn.pdf")
    assert failed.args[0].startswith("Could not write the audit report")
    assert view.export_result.tone == "failed"
    assert view.export_button.isEnabled()


def test_the_report_page_renders_to_an_image_like_the_pdf(qtbot, view):
    source = ReportSource(0, "auditor", "Demo workspace", "nowhere")
    report = audit_report_html(view.overview, source)
    image = render_report_page(report, report_footer(view.overview.name), page=0, width_px=620)
    assert image.width() == 620 and 870 <= image.height() <= 880  # A4 proportions
    # Ink on the page: the title's dark pixels near the top, white margins at the edge.
    assert image.pixelColor(5, 5) == QColor("white")
    dark = sum(
        image.pixelColor(x, y).lightness() < 100 for x in range(40, 580, 3) for y in range(40, 80)
    )
    assert dark > 50


def test_write_pdf_replaces_an_older_report_whole(qtbot, tmp_path):
    target = tmp_path / "r.pdf"
    target.write_bytes(b"old")
    write_pdf("<h1>Report</h1><p>x</p>", target, "t", "footer")
    assert target.read_bytes().startswith(b"%PDF")


def test_the_suggested_file_name_is_safe_and_dated():
    name = report_file_name("team/churn model", dt.datetime(2026, 11, 29))
    assert name == "team-churn-model-audit-2026-11-29.pdf"
