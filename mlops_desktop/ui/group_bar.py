"""GroupBar: the compact "Show [flat / nested / group by …]  Aggregate [mean]" toolbar above
the runs, which tells the view how to arrange them."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from mlops_desktop.services.experiments import TAG_PREFIX
from mlops_desktop.services.grouping import AGGREGATES
from mlops_desktop.ui.runs_table_model import header_label
from mlops_desktop.ui.runs_tree_model import FLAT, GROUPED, NESTED

_TOOLTIP = Qt.ItemDataRole.ToolTipRole


class GroupBar(QWidget):
    """A "Show" combo (flat list, nested runs, group by one of the groupable columns) and an
    aggregate combo for the group rows, enabled only while grouping."""

    #: (mode, column, aggregate): mode "flat", "nested" or "group"; column the frame column
    #: grouped by ("" unless grouping); aggregate "mean", "min" or "max".
    mode_changed = Signal(str, str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.show_combo = QComboBox()
        self.show_combo.setObjectName("groupShow")
        # Wide enough for "Nested runs"; a long "Group by …" is elided, whole in the popup.
        self.show_combo.setMinimumContentsLength(12)
        self.show_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.show_combo.setMinimumWidth(self.show_combo.minimumSizeHint().width())
        self.show_combo.setToolTip(
            "Show the runs as a flat list, under their parent runs, or grouped"
        )
        self.show_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.show_combo.setMaxVisibleItems(20)
        self.aggregate_combo = QComboBox()
        self.aggregate_combo.setObjectName("groupAggregate")
        self.aggregate_combo.setToolTip("What the group rows show in the metric columns")
        for aggregate in AGGREGATES:
            self.aggregate_combo.addItem(aggregate.capitalize(), aggregate)
        self.aggregate_label = QLabel("Aggregate")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Show"))
        layout.addWidget(self.show_combo)
        layout.addSpacing(8)
        layout.addWidget(self.aggregate_label)
        layout.addWidget(self.aggregate_combo)
        self._fill([], nested_available=True)
        self._update_aggregate_enabled()
        self.show_combo.currentIndexChanged.connect(self._on_show_combo_changed)
        self.aggregate_combo.currentIndexChanged.connect(self._on_aggregate_combo_changed)

    # -- state -------------------------------------------------------------------------------
    # Each "Show" item's data is "flat", "nested", or the column to group by.
    @property
    def mode(self) -> str:
        choice = self._choice()
        return choice if choice in (FLAT, NESTED) else GROUPED

    @property
    def column(self) -> str:
        choice = self._choice()
        return "" if choice in (FLAT, NESTED) else choice

    def _choice(self) -> str:
        return str(self.show_combo.currentData() or FLAT)

    @property
    def aggregate(self) -> str:
        return str(self.aggregate_combo.currentData())

    def set_columns(self, columns: Sequence[str], nested_available: bool = True) -> None:
        """Offer grouping by these columns (see `services.grouping.groupable_columns`).

        The current choice is kept when it is still offered; otherwise the bar falls back to
        the flat list and says so through `mode_changed`.
        """
        before = (self.mode, self.column)
        self.show_combo.blockSignals(True)
        self._fill(columns, nested_available)
        position = self.show_combo.findData(before[1] or before[0])
        self.show_combo.setCurrentIndex(max(position, 0))
        self.show_combo.blockSignals(False)
        self._update_aggregate_enabled()
        if (self.mode, self.column) != before:
            self._emit()

    def set_mode(self, mode: str, column: str = "", aggregate: str = "") -> None:
        """Select a mode from code (a restored view); emits `mode_changed` once if it changed."""
        before = (self.mode, self.column, self.aggregate)
        self.show_combo.blockSignals(True)
        self.aggregate_combo.blockSignals(True)
        position = self.show_combo.findData(column if mode == GROUPED else mode)
        if position >= 0:
            self.show_combo.setCurrentIndex(position)
        if aggregate:
            self.aggregate_combo.setCurrentIndex(max(self.aggregate_combo.findData(aggregate), 0))
        self.show_combo.blockSignals(False)
        self.aggregate_combo.blockSignals(False)
        self._update_aggregate_enabled()
        if (self.mode, self.column, self.aggregate) != before:
            self._emit()

    def _fill(self, columns: Sequence[str], nested_available: bool) -> None:
        self.show_combo.clear()
        self.show_combo.addItem("Flat list", FLAT)
        self.show_combo.setItemData(0, "Every run on its own row", _TOOLTIP)
        if nested_available:
            self.show_combo.addItem("Nested runs", NESTED)
            self.show_combo.setItemData(1, "Child runs under their parent runs", _TOOLTIP)
        if columns:
            self.show_combo.insertSeparator(self.show_combo.count())
        for column in columns:
            kind = "tag " if column.startswith(TAG_PREFIX) else ""
            self.show_combo.addItem(f"Group by {kind}{header_label(column)}", column)
            self.show_combo.setItemData(
                self.show_combo.count() - 1, f"One group per value of {column}", _TOOLTIP
            )

    def _update_aggregate_enabled(self) -> None:
        grouping = self.mode == GROUPED
        self.aggregate_combo.setEnabled(grouping)
        self.aggregate_label.setEnabled(grouping)

    # -- slots -------------------------------------------------------------------------------
    def _on_show_combo_changed(self, _position: int) -> None:
        self._update_aggregate_enabled()
        self._emit()

    def _on_aggregate_combo_changed(self, _position: int) -> None:
        if self.mode == GROUPED:
            self._emit()

    def _emit(self) -> None:
        self.mode_changed.emit(self.mode, self.column, self.aggregate)
