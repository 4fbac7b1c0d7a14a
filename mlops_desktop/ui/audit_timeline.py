"""A vertical timeline of a model's audit events: time, a rail with a dot per event, the story.

Each row reads like a sentence ("bob moved champion to version 3"), with the action as a
coloured chip, an OVERRIDE chip on a decision that overrode a failing gate, the comment, and
the event number and hash in small print. The list is a model over the events tuple and a
delegate that paints it, so a chain of thousands of events costs nothing per hidden row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QPen, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from mlops_desktop.domain.promotion import AuditEvent
from mlops_desktop.services.audit_report import describe_event, is_override, override_text

ACTION_COLOURS = {
    "requested": "#2f6fde",
    "approved": "#2e9d5b",
    "rejected": "#d64545",
    "applied": "#2e9d5b",
    "rolled_back": "#c98a00",
}
NEUTRAL_COLOUR = "#7a808a"
OVERRIDE_COLOUR = "#b26a00"
#: Alias moves get a filled dot; requests and decisions a ring.
_ALIAS_MOVES = frozenset({"applied", "rolled_back"})

EventIndex = QModelIndex | QPersistentModelIndex
_TIME_WIDTH = 118
_RAIL_X = 138
_TEXT_X = 160
_PAD_Y = 8
_HASH_CHARS = 12
_MAX_COMMENT_LINES = 4


class TimelineModel(QAbstractListModel):
    """The events of one chain, oldest first; `UserRole` gives the `AuditEvent`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.events: tuple[AuditEvent, ...] = ()

    def set_events(self, events: Sequence[AuditEvent]) -> None:
        self.beginResetModel()
        self.events = tuple(events)
        self.endResetModel()

    def rowCount(self, parent: EventIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.events)

    def data(self, index: EventIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self.events):
            return None
        event = self.events[index.row()]
        if role == Qt.ItemDataRole.UserRole:
            return event
        if role == Qt.ItemDataRole.DisplayRole:
            return describe_event(event)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"Event {event.seq}\nHash {event.hash}\nPrevious {event.prev_hash}"
        return None


class TimelineDelegate(QStyledItemDelegate):
    """Paints one event: time on the left, the rail and its dot, the sentence and details."""

    def __init__(self, view: QListView) -> None:
        super().__init__(view)
        self.view = view

    # -- fonts and text --------------------------------------------------------------------
    def _fonts(self, base: QFont) -> tuple[QFont, QFont, QFont]:
        bold = QFont(base)
        bold.setBold(True)
        small = QFont(base)
        small.setPointSizeF(base.pointSizeF() * 0.85)
        return bold, base, small

    def _text_width(self) -> int:
        return max(160, self.view.viewport().width() - _TEXT_X - 16)

    def _blocks(self, event: AuditEvent) -> list[tuple[str, bool]]:
        """The wrapped text blocks under the headline: (text, is the override's reason)."""
        blocks = [(f"“{event.comment}”", False)] if event.comment else []
        if is_override(event):
            blocks.append((override_text(event), True))
        return blocks

    def _block_rect(self, text: str, font: QFont) -> QRect:
        metrics = QFontMetrics(font)
        rect = metrics.boundingRect(
            QRect(0, 0, self._text_width(), metrics.lineSpacing() * _MAX_COMMENT_LINES),
            int(Qt.TextFlag.TextWordWrap),
            text,
        )
        rect.setHeight(min(rect.height(), metrics.lineSpacing() * _MAX_COMMENT_LINES))
        return rect

    def sizeHint(self, option: QStyleOptionViewItem, index: EventIndex) -> QSize:
        event = index.data(Qt.ItemDataRole.UserRole)
        bold, normal, small = self._fonts(option.font)
        height = _PAD_Y * 2 + QFontMetrics(bold).lineSpacing() + 6
        if isinstance(event, AuditEvent):
            for text, _ in self._blocks(event):
                height += self._block_rect(text, normal).height() + 2
        height += QFontMetrics(small).lineSpacing()
        return QSize(self._text_width() + _TEXT_X, height)

    # -- painting --------------------------------------------------------------------------
    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: EventIndex) -> None:
        event = index.data(Qt.ItemDataRole.UserRole)
        if not isinstance(event, AuditEvent):
            return
        override = is_override(event)
        rect: QRect = option.rect
        palette: QPalette = option.palette
        state = option.state
        bold, normal, small = self._fonts(option.font)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if state & QStyle.StateFlag.State_Selected:
            highlight = QColor(palette.color(QPalette.ColorRole.Highlight))
            highlight.setAlpha(40)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(highlight)
            painter.drawRoundedRect(QRectF(rect).adjusted(2, 1, -2, -1), 6, 6)
        text_colour = palette.color(QPalette.ColorRole.Text)
        muted = QColor(text_colour)
        muted.setAlpha(150)
        colour = QColor(ACTION_COLOURS.get(event.action, NEUTRAL_COLOUR))
        top = rect.top() + _PAD_Y
        line = QFontMetrics(bold).lineSpacing()

        self._paint_time(painter, event, rect, top, bold, small, text_colour, muted)
        self._paint_rail(painter, index, rect, top + line // 2 + 1, colour, event, palette)

        x = rect.left() + _TEXT_X
        painter.setFont(bold)
        painter.setPen(text_colour)
        headline = describe_event(event)
        painter.drawText(QPointF(x, top + QFontMetrics(bold).ascent()), headline)
        chip_x = x + QFontMetrics(bold).horizontalAdvance(headline) + 10
        chip_x = self._paint_chip(
            painter, chip_x, top, event.action.replace("_", " "), colour, small, line
        )
        if override:
            self._paint_chip(
                painter, chip_x + 6, top, "OVERRIDE", QColor(OVERRIDE_COLOUR), small, line
            )
        y = top + line + 6
        painter.setFont(normal)
        for text, is_reason in self._blocks(event):
            block = self._block_rect(text, normal)
            painter.setPen(QColor(OVERRIDE_COLOUR) if is_reason else text_colour)
            painter.drawText(
                QRect(x, y, self._text_width(), block.height()),
                int(Qt.TextFlag.TextWordWrap),
                text,
            )
            y += block.height() + 2
        painter.setFont(small)
        painter.setPen(muted)
        painter.drawText(
            QPointF(x, y + QFontMetrics(small).ascent()),
            f"event {event.seq} · hash {event.hash[:_HASH_CHARS]}",
        )
        painter.restore()

    def _paint_time(
        self,
        painter: QPainter,
        event: AuditEvent,
        rect: QRect,
        top: int,
        bold: QFont,
        small: QFont,
        text_colour: QColor,
        muted: QColor,
    ) -> None:
        when = dt.datetime.fromtimestamp(event.time_ms / 1000)
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop
        line = QFontMetrics(bold).lineSpacing()
        painter.setFont(bold)
        painter.setPen(text_colour)
        painter.drawText(
            QRect(rect.left(), top, _TIME_WIDTH, line), int(right), when.strftime("%Y-%m-%d")
        )
        painter.setFont(small)
        painter.setPen(muted)
        painter.drawText(
            QRect(rect.left(), top + line, _TIME_WIDTH, line), int(right), when.strftime("%H:%M:%S")
        )

    def _paint_rail(
        self,
        painter: QPainter,
        index: EventIndex,
        rect: QRect,
        dot_y: int,
        colour: QColor,
        event: AuditEvent,
        palette: QPalette,
    ) -> None:
        rail = QColor(palette.color(QPalette.ColorRole.Mid))
        painter.setPen(QPen(rail, 2))
        x = rect.left() + _RAIL_X
        first = index.row() == 0
        last = index.row() == index.model().rowCount() - 1
        painter.drawLine(
            x, rect.top() if not first else dot_y, x, rect.bottom() if not last else dot_y
        )
        radius = 7
        if event.action in _ALIAS_MOVES:
            painter.setPen(QPen(palette.color(QPalette.ColorRole.Base), 2))
            painter.setBrush(colour)
        else:
            painter.setPen(QPen(colour, 3))
            painter.setBrush(palette.color(QPalette.ColorRole.Base))
        painter.drawEllipse(QPointF(x, dot_y), radius, radius)

    def _paint_chip(
        self,
        painter: QPainter,
        x: int,
        top: int,
        text: str,
        colour: QColor,
        font: QFont,
        line: int,
    ) -> int:
        """A rounded, tinted label; returns the x after it."""
        metrics = QFontMetrics(font)
        width = metrics.horizontalAdvance(text) + 14
        chip = QRectF(x, top + 1, width, line - 2)
        tint = QColor(colour)
        tint.setAlpha(36)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(tint)
        painter.drawRoundedRect(chip, chip.height() / 2, chip.height() / 2)
        painter.setFont(font)
        painter.setPen(colour)
        painter.drawText(chip, int(Qt.AlignmentFlag.AlignCenter), text)
        return int(chip.right())


class AuditTimeline(QListView):
    """The timeline list: one row per event, oldest at the top, newest scrolled into view."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("auditTimeline")
        self.timeline = TimelineModel(self)
        self.setModel(self.timeline)
        self.setItemDelegate(TimelineDelegate(self))
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(False)
        self.setMouseTracking(True)

    def set_events(self, events: Sequence[AuditEvent]) -> None:
        self.timeline.set_events(events)
        if events:
            self.scrollToBottom()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        # Comments wrap to the new width: row heights must be asked again.
        self.scheduleDelayedItemsLayout()
