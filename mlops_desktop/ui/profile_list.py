"""The list of connection profiles: what each row holds, and how it is drawn.

Rows carry the profile's key (profile id, or the demo's), colour, label, a second line (kind
and URL) and its state ("active", "open", "connecting…") in item data roles; the delegate
draws them as two lines behind a stripe of the profile's colour.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from mlops_desktop.domain.connections import Profile
from mlops_desktop.ui.context import DEMO_COLOUR
from mlops_desktop.ui.profile_dialog import KIND_LABELS
from mlops_desktop.ui.widgets import text_colour_on

ROLE_KEY = Qt.ItemDataRole.UserRole  #: the profile id, or DEMO_KEY
ROLE_COLOUR = Qt.ItemDataRole.UserRole + 1  #: "#rrggbb"
ROLE_LABEL = Qt.ItemDataRole.UserRole + 2  #: "prod", "dev"... or ""
ROLE_DETAIL = Qt.ItemDataRole.UserRole + 3  #: the second line
ROLE_STATE = Qt.ItemDataRole.UserRole + 4  #: "active", "open", "connecting…" or ""


def profile_detail(profile: Profile) -> str:
    """The list's second line: kind, then where it points."""
    where = profile.url or (f"context {profile.kube_context}" if profile.kube_context else "")
    return f"{KIND_LABELS[profile.kind]} · {where}" if where else KIND_LABELS[profile.kind]


class ProfileListDelegate(QStyledItemDelegate):
    """Two lines per profile behind a stripe of its colour: name and label chip, then kind
    and URL; "active" or "open" at the right for workspaces open now."""

    STRIPE = 5
    PAD = 8

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        painter.save()
        palette = option.palette
        rect: QRect = option.rect
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if selected:
            painter.fillRect(rect, palette.color(QPalette.ColorRole.Highlight))
        elif option.state & QStyle.StateFlag.State_MouseOver:
            painter.fillRect(rect, palette.color(QPalette.ColorRole.AlternateBase))
        colour = QColor(str(index.data(ROLE_COLOUR) or DEMO_COLOUR))
        stripe = QRect(rect.left() + 3, rect.top() + 5, self.STRIPE, rect.height() - 10)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawRoundedRect(stripe, 2, 2)

        text_colour = palette.color(
            QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        )
        dim = QColor(text_colour)
        dim.setAlphaF(0.7)
        left = stripe.right() + 1 + self.PAD
        right = rect.right() - self.PAD
        base_font = QFont(option.font)
        bold = QFont(base_font)
        bold.setBold(True)
        line_height = QFontMetrics(base_font).height()
        top = rect.top() + self.PAD - 1

        state = str(index.data(ROLE_STATE) or "")
        if state:
            painter.setFont(bold if state == "active" else base_font)
            metrics = painter.fontMetrics()
            mark = f"● {state}"
            width = metrics.horizontalAdvance(mark)
            painter.setPen(text_colour if selected else colour if state == "active" else dim)
            painter.drawText(
                QRect(right - width, top, width, line_height), Qt.AlignmentFlag.AlignVCenter, mark
            )
            right -= width + self.PAD

        painter.setFont(bold)
        metrics = painter.fontMetrics()
        name = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        label = str(index.data(ROLE_LABEL) or "")
        chip_width = QFontMetrics(base_font).horizontalAdvance(label) + 12 if label else 0
        name_room = max(20, right - left - (chip_width + self.PAD if label else 0))
        shown = metrics.elidedText(name, Qt.TextElideMode.ElideRight, name_room)
        painter.setPen(text_colour)
        name_width = metrics.horizontalAdvance(shown)
        painter.drawText(
            QRect(left, top, name_width + 2, line_height), Qt.AlignmentFlag.AlignVCenter, shown
        )
        if label:
            chip = QRect(left + name_width + self.PAD, top + 1, chip_width, line_height - 2)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawRoundedRect(chip, (line_height - 2) / 2, (line_height - 2) / 2)
            painter.setFont(base_font)
            painter.setPen(QColor(text_colour_on(colour.name())))
            painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, label)

        painter.setFont(base_font)
        painter.setPen(dim)
        detail = str(index.data(ROLE_DETAIL) or "")
        second = QRect(left, top + line_height + 3, rect.right() - self.PAD - left, line_height)
        painter.drawText(
            second,
            Qt.AlignmentFlag.AlignVCenter,
            painter.fontMetrics().elidedText(detail, Qt.TextElideMode.ElideMiddle, second.width()),
        )
        painter.restore()

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        height = QFontMetrics(option.font).height()
        return QSize(280, 2 * height + 2 * self.PAD + 4)
