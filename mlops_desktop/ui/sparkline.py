"""A sparkline painted in a table cell: a metric's history as a small polyline.

The history comes already decimated (at most 200 points, min/max kept, see
`services.run_detail.decimate_min_max`), so painting fifty of them is a few thousand line
segments: no chart widget per row.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from mlops_desktop.services.run_detail import Sparkline

#: The item data role under which a model gives a cell's `Sparkline`.
SPARKLINE_ROLE = Qt.ItemDataRole.UserRole + 40


def sparkline_points(spark: Sparkline, rect: QRectF) -> QPolygonF:
    """The sparkline's finite points scaled into `rect` (y up); a flat series is centred."""
    finite = np.isfinite(spark.values)
    xs = spark.steps[finite].astype(np.float64)
    ys = spark.values[finite]
    polygon = QPolygonF()
    if xs.size == 0:
        return polygon
    x_span = float(xs.max() - xs.min())
    y_span = float(ys.max() - ys.min())
    px = (
        rect.left() + (xs - xs.min()) / x_span * rect.width()
        if x_span > 0
        else np.full(xs.size, rect.center().x())
    )
    py = (
        rect.bottom() - (ys - ys.min()) / y_span * rect.height()
        if y_span > 0
        else np.full(ys.size, rect.center().y())
    )
    for x, y in zip(px.tolist(), py.tolist(), strict=True):
        polygon.append(QPointF(x, y))
    return polygon


class SparklineDelegate(QStyledItemDelegate):
    """Paints the `Sparkline` a cell holds under `SPARKLINE_ROLE`, with its last point marked."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        self.initStyleOption(option, index)
        style = option.widget.style() if option.widget is not None else QApplication.style()
        style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter)
        spark = index.data(SPARKLINE_ROLE)
        if not isinstance(spark, Sparkline):
            return
        rect = QRectF(option.rect).adjusted(6, 5, -8, -5)
        points = sparkline_points(spark, rect)
        if points.isEmpty():
            return
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        colour = option.palette.highlightedText().color() if selected else QColor("#2f6fde")
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(colour, 1.3))
        if points.size() > 1:
            painter.drawPolyline(points)
        painter.setBrush(colour)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawEllipse(points.last(), 2.2, 2.2)
        painter.restore()

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        return QSize(160, 26)
