"""The audit report as PDF: the HTML of `services.audit_report` printed by Qt, on a worker.

`QTextDocument` lays the very same HTML out on A4 pages and `QPdfWriter` (QtGui, so
PySide6-Essentials is enough) writes them; both may be used off the GUI thread because no
widget is involved. The pages are painted here rather than by `QTextDocument.print_`, which
adds 2 cm of margin of its own and numbers pages without saying "of N": every page gets a
footer naming the report and "page i of N", so a printed page out of order is still placed.

`render_report_page` paints one page the same way into a QImage: the screenshot of the
report, and a check that needs no PDF reader.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QMarginsF, QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QPagedPaintDevice,
    QPageLayout,
    QPageSize,
    QPaintDevice,
    QPainter,
    QPdfWriter,
    QTextDocument,
)

from mlops_desktop.backends.tracking import TrackingBackend
from mlops_desktop.services.audit_report import ReportSource, export_html_report, load_report_html
from mlops_desktop.services.inbox import promotion_context
from mlops_desktop.services.paths import AppPaths
from mlops_desktop.services.profiles import ProfileStore
from mlops_desktop.services.tasks import TaskState
from mlops_desktop.services.workspace import Workspace

PDF_DPI = 300
MARGIN_MM = 15.0
FOOTER_MM = 8.0
FOOTER_COLOUR = "#5f6670"


def _mm(device: QPaintDevice, millimetres: float) -> float:
    return millimetres / 25.4 * device.logicalDpiY()


def _lay_out(report: str, device: QPaintDevice, width: float, height: float) -> QTextDocument:
    """The report paginated into pages of `width` x `height` device pixels."""
    document = QTextDocument()
    document.documentLayout().setPaintDevice(device)
    document.setDocumentMargin(0)
    document.setHtml(report)
    document.setPageSize(QSizeF(width, height))
    return document


def _paint_page(
    painter: QPainter,
    document: QTextDocument,
    index: int,
    body: QRectF,
    footer: str,
) -> None:
    """Page `index` of `document` into `body`, and the footer line under it."""
    page_height = document.pageSize().height()
    painter.save()
    painter.translate(body.left(), body.top() - index * page_height)
    document.drawContents(painter, QRectF(0, index * page_height, body.width(), page_height))
    painter.restore()
    font = QFont(document.defaultFont())
    font.setPointSizeF(7.5)
    painter.save()
    painter.setFont(font)
    painter.setPen(QColor(FOOTER_COLOUR))
    line_y = body.bottom() + painter.fontMetrics().height() * 0.6
    painter.drawLine(QPointF(body.left(), line_y), QPointF(body.right(), line_y))
    text_rect = QRectF(body.left(), line_y, body.width(), painter.fontMetrics().height() * 1.6)
    flags = Qt.AlignmentFlag.AlignVCenter
    painter.drawText(text_rect, flags | Qt.AlignmentFlag.AlignLeft, footer)
    painter.drawText(
        text_rect,
        flags | Qt.AlignmentFlag.AlignRight,
        f"page {index + 1} of {document.pageCount()}",
    )
    painter.restore()


def _body_rect(device: QPaintDevice, width: float, height: float, margin: float) -> QRectF:
    """Where the text goes on a page of `width` x `height`: inside margins, above the footer."""
    footer = _mm(device, FOOTER_MM)
    return QRectF(margin, margin, width - 2 * margin, height - 2 * margin - footer)


def write_pdf(report: str, path: Path, title: str, footer: str) -> Path:
    """Print `report` (HTML) to an A4 PDF at `path`, atomically (temp file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".pdf", dir=path.parent)
    os.close(handle)
    try:
        writer = QPdfWriter(temp)
        writer.setTitle(title)
        writer.setCreator("MLOps Desktop")
        writer.setResolution(PDF_DPI)
        writer.setPageLayout(
            QPageLayout(
                QPageSize(QPageSize.PageSizeId.A4),
                QPageLayout.Orientation.Portrait,
                QMarginsF(MARGIN_MM, MARGIN_MM, MARGIN_MM, MARGIN_MM),
                QPageLayout.Unit.Millimeter,
            )
        )
        _print_pages(writer, report, footer)
        del writer  # the writer finishes and closes the file when it goes away
        if Path(temp).stat().st_size == 0:
            raise OSError(f"Qt wrote an empty PDF for {path.name}")
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


def _print_pages(writer: QPagedPaintDevice, report: str, footer: str) -> None:
    # The painter's origin is the top left of the margins' inside, so no margin here.
    body = _body_rect(writer, writer.width(), writer.height(), 0.0)
    document = _lay_out(report, writer, body.width(), body.height())
    painter = QPainter(writer)
    try:
        for index in range(document.pageCount()):
            if index:
                writer.newPage()
            _paint_page(painter, document, index, body, footer)
    finally:
        painter.end()


def export_pdf_report(
    tracking: TrackingBackend, model_name: str, source: ReportSource, path: Path, state: TaskState
) -> Path:
    """Read the model, build its report and print it to `path` as PDF (a worker task)."""
    _, report = load_report_html(tracking, model_name, source, state)
    state.progress(-1, f"Writing {Path(path).name}")
    return write_pdf(
        report, path, title=f"Audit report: {model_name}", footer=report_footer(model_name)
    )


def is_html_path(path: Path) -> bool:
    """A report named *.html or *.htm is written as HTML; anything else as PDF."""
    return path.suffix.lower() in (".html", ".htm")


def export_audit_report(
    paths: AppPaths,
    profiles: ProfileStore,
    workspace: Workspace,
    model_name: str,
    path: Path,
    state: TaskState,
) -> Path:
    """The Audit view's export (a worker task): the report of `model_name` as it stands on
    the server now, signed with the user the promotion workflow acts as, as HTML or PDF."""
    actor = promotion_context(paths, profiles, workspace, state).actor
    source = ReportSource(
        generated_ms=int(time.time() * 1000),
        generated_by=actor,
        workspace=workspace.label,
        location=workspace.location,
    )
    export = export_html_report if is_html_path(Path(path)) else export_pdf_report
    return export(workspace.tracking, model_name, source, Path(path), state)


def report_footer(model_name: str) -> str:
    return f"Audit report: {model_name} · MLOps Desktop"


def render_report_page(report: str, footer: str, page: int = 0, width_px: int = 1240) -> QImage:
    """Page `page` of the report as a white A4 image `width_px` wide, laid out like the PDF.

    The image gets a resolution of its own (A4 width over `width_px`), so text and page keep
    the PDF's proportions.
    """
    a4 = QPageSize(QPageSize.PageSizeId.A4).size(QPageSize.Unit.Millimeter)
    dpi = width_px / (a4.width() / 25.4)
    image = QImage(width_px, math.ceil(a4.height() / 25.4 * dpi), QImage.Format.Format_RGB32)
    dots_per_metre = round(dpi / 0.0254)
    image.setDotsPerMeterX(dots_per_metre)
    image.setDotsPerMeterY(dots_per_metre)
    image.fill(QColor("white"))
    body = _body_rect(image, image.width(), image.height(), _mm(image, MARGIN_MM))
    document = _lay_out(report, image, body.width(), body.height())
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    try:
        _paint_page(painter, document, min(page, document.pageCount() - 1), body, footer)
    finally:
        painter.end()
    return image
