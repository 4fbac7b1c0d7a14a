"""The experiments list of the Experiments view: a table model over experiment summaries
(name, run count, last activity; deleted ones in italics) and the text of the details panel."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont

from mlops_desktop.services.experiment_list import is_deleted, user_tags
from mlops_desktop.services.experiments import ExperimentSummary
from mlops_desktop.ui.format import format_time_ms

_INDEX = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()


class ExperimentsListModel(QAbstractTableModel):
    """The experiments of a workspace: name, run count, last activity."""

    HEADERS = ("Experiment", "Runs", "Last activity")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._items: list[ExperimentSummary] = []
        self._italic = QFont()
        self._italic.setItalic(True)

    def set_experiments(self, items: list[ExperimentSummary]) -> None:
        self.beginResetModel()
        self._items = list(items)
        self.endResetModel()

    def experiment(self, row: int) -> ExperimentSummary:
        return self._items[row]

    def row_of(self, experiment_id: str) -> int:
        ids = [item.experiment_id for item in self._items]
        return ids.index(experiment_id) if experiment_id in ids else -1

    def rowCount(self, parent: _INDEX = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._items)

    def columnCount(self, parent: _INDEX = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def data(self, index: _INDEX, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        item, column = self._items[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return item.name
            if column == 1:
                return "–" if is_deleted(item) else f"{item.run_count:,}"
            return format_time_ms(item.last_activity_ms)
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [item.name, f"ID {item.experiment_id} · {item.run_count:,} runs"]
            if is_deleted(item):
                lines.append("Deleted (MLflow keeps it until its garbage collection)")
            if item.description:
                lines.append(item.description)
            return "\n".join(lines)
        if role == Qt.ItemDataRole.FontRole and is_deleted(item):
            return self._italic
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 1:
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None


def experiment_details(summary: ExperimentSummary) -> str:
    """What the panel under the list says about the selected experiment."""
    experiment = summary.experiment
    lines = [experiment.name, f"ID {experiment.experiment_id} · {summary.run_count:,} runs"]
    if is_deleted(summary):
        lines.append("Deleted, with its runs: restore it in MLflow to browse them again.")
    if experiment.creation_time_ms:
        lines.append(f"Created {format_time_ms(experiment.creation_time_ms)}")
    if summary.last_activity_ms:
        lines.append(f"Last activity {format_time_ms(summary.last_activity_ms)}")
    lines.append("")
    lines.append(summary.description or "No description.")
    tags = user_tags(summary)
    if tags:
        lines.append("")
        lines.append("Tags")
        lines.extend(f"  {key} = {value}" for key, value in tags.items())
    return "\n".join(lines)
