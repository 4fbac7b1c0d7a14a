"""The Experiments view: the workspace's experiments, and the runs of the selected one.

Left, the experiments with their run counts and last activity; right, a filter (MLflow search
syntax, sent to the backend on Enter) over a table of runs that fills page by page.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

import pandas as pd
from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelection,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from mlops_desktop.services.experiments import (
    ExperimentSummary,
    default_columns,
    largest_experiment,
    load_experiments,
    load_runs_frame,
)
from mlops_desktop.services.workspace import Workspace
from mlops_desktop.ui.context import UiContext
from mlops_desktop.ui.format import format_time_ms
from mlops_desktop.ui.runs_table_model import RUN_ID_ROLE, RunsTableModel
from mlops_desktop.ui.views.base import View
from mlops_desktop.ui.widgets import EmptyState, plain

_INDEX = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
FILTER_HINT = "Filter runs, e.g.  metrics.val_auc > 0.9 and params.optimizer = 'adamw'  (Enter)"


class ExperimentsListModel(QAbstractTableModel):
    """The experiments of a workspace: name, run count, last activity."""

    HEADERS = ("Experiment", "Runs", "Last activity")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._items: list[ExperimentSummary] = []

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
                return f"{item.run_count:,}"
            return format_time_ms(item.last_activity_ms)
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [item.name, f"ID {item.experiment_id} · {item.run_count:,} runs"]
            if item.description:
                lines.append(item.description)
            return "\n".join(lines)
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
    if experiment.creation_time_ms:
        lines.append(f"Created {format_time_ms(experiment.creation_time_ms)}")
    if summary.last_activity_ms:
        lines.append(f"Last activity {format_time_ms(summary.last_activity_ms)}")
    lines.append("")
    lines.append(summary.description or "No description.")
    return "\n".join(lines)


class ExperimentsView(View):
    view_id = "experiments"
    title = "Experiments"
    subtitle = "Every experiment of the workspace, and the runs of the one you select."

    compare_requested = Signal(list)  #: run ids the user asked to compare, in table order
    runs_loaded = Signal(list, int)  #: the runs table is complete: experiment ids, run count

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.experiments_model = ExperimentsListModel(self)
        self.experiments_list = QTreeView()
        self.experiments_list.setObjectName("experimentsList")
        self.experiments_list.setModel(self.experiments_model)
        self.experiments_list.setRootIsDecorated(False)
        self.experiments_list.setUniformRowHeights(True)
        self.experiments_list.setAlternatingRowColors(True)
        self.experiments_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.experiments_list.header().setStretchLastSection(False)
        self.experiments_list.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.experiments_list.setStyleSheet("QTreeView#experimentsList::item { padding: 4px 2px; }")
        self.experiments_list.selectionModel().selectionChanged.connect(
            self._on_experiments_selection_changed
        )
        self.experiment_details = plain("")
        self.experiment_details.setObjectName("experimentDetails")
        self.experiment_details.setWordWrap(True)
        self.experiment_details.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.experiment_details.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
        )
        self.left_splitter = QSplitter(Qt.Orientation.Vertical)
        self.left_splitter.addWidget(self.experiments_list)
        self.left_splitter.addWidget(self.experiment_details)
        self.left_splitter.setChildrenCollapsible(False)

        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText(FILTER_HINT)
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setToolTip(
            "MLflow search syntax, run on the server when you press Enter:\n"
            "  metrics.val_auc > 0.85\n"
            "  params.learning_rate = '0.01' and attributes.status = 'FINISHED'\n"
            "  tags.mlflow.runName LIKE 'trial-%'"
        )
        self.filter_edit.returnPressed.connect(self._on_filter_edit_return_pressed)
        self.compare_button = QPushButton("Compare selected")
        self.compare_button.setToolTip("Compare the selected runs (select 2 or more)")
        self.compare_button.setEnabled(False)
        self.compare_button.clicked.connect(self._on_compare_button_clicked)
        self.status_label = plain("")
        self.status_label.setObjectName("runsStatus")
        self.progress = QProgressBar()
        self.progress.setFixedWidth(140)
        self.progress.setTextVisible(False)
        self.progress.hide()

        self.runs_model = RunsTableModel(parent=self)
        self.runs_table = QTableView()
        self.runs_table.setObjectName("runsTable")
        self.runs_table.setModel(self.runs_model)
        self.runs_table.setSortingEnabled(True)
        self.runs_table.setAlternatingRowColors(True)
        self.runs_table.setWordWrap(False)
        self.runs_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.runs_table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.runs_table.verticalHeader().hide()
        self.runs_table.verticalHeader().setDefaultSectionSize(
            self.runs_table.fontMetrics().height() + 8
        )
        self.runs_table.horizontalHeader().setSortIndicatorShown(True)
        self.runs_table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.runs_table.horizontalHeader().setStretchLastSection(True)
        self.runs_table.selectionModel().selectionChanged.connect(self._on_runs_selection_changed)
        self.runs_empty = EmptyState("No runs", "")
        self.runs_stack = QStackedWidget()
        self.runs_stack.addWidget(self.runs_table)
        self.runs_stack.addWidget(self.runs_empty)

        toolbar = QHBoxLayout()
        toolbar.addWidget(self.filter_edit, 1)
        toolbar.addWidget(self.compare_button)
        status_row = QHBoxLayout()
        status_row.addWidget(self.status_label, 1)
        status_row.addWidget(self.progress)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addLayout(toolbar)
        right_layout.addLayout(status_row)
        right_layout.addWidget(self.runs_stack, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.left_splitter)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([340, 1000])
        self.splitter.setChildrenCollapsible(False)

        self.empty = EmptyState(
            "Opening the workspace…", "The experiments appear here once the workspace is open."
        )
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.splitter)
        self.body.addWidget(self.stack, 1)

        self._experiment_ids: list[str] = []
        self._expected_runs: int | None = None
        self._started = 0.0
        self._columns_chosen = False

    # -- loading -----------------------------------------------------------------------------
    def load(self, workspace: Workspace) -> None:
        self.empty.set_text("Loading experiments…", f"Reading {workspace.location}")
        self.stack.setCurrentWidget(self.empty)
        self.tasks.run(
            load_experiments,
            workspace.tracking,
            on_done=self._on_experiments_loaded,
            on_error=lambda e: self.show_error(e, "list the experiments"),
            description="Loading experiments",
        )

    def _on_experiments_loaded(self, summaries: list[ExperimentSummary]) -> None:
        self.experiments_model.set_experiments(summaries)
        for column in (1, 2):
            self.experiments_list.resizeColumnToContents(column)
        largest = largest_experiment(summaries)
        if largest is None:
            self.empty.set_text(
                "No experiments yet",
                "This workspace has no experiment. Runs logged with MLflow to "
                f"{self.ctx.workspace.location if self.ctx.workspace else 'it'} appear here.",
            )
            self.mark_ready()
            return
        self.stack.setCurrentWidget(self.splitter)
        self._fit_experiments_list()
        self.select_experiment(largest.experiment_id)

    def _fit_experiments_list(self) -> None:
        """The list as tall as its rows (up to 60%), the details panel below takes the rest."""
        total = self.stack.height()
        rows = self.experiments_model.rowCount()
        row_height = self.experiments_list.sizeHintForRow(0) if rows else 0
        wanted = self.experiments_list.header().sizeHint().height() + rows * row_height + 12
        height = min(max(wanted, 120), int(total * 0.6))
        self.left_splitter.setSizes([height, max(100, total - height)])

    def select_experiment(self, experiment_id: str) -> None:
        """Select an experiment in the list, which loads its runs."""
        row = self.experiments_model.row_of(experiment_id)
        if row >= 0:
            self.experiments_list.setCurrentIndex(self.experiments_model.index(row, 0))

    def load_runs(self, experiment_ids: list[str], filter_string: str = "") -> None:
        """Load the runs of these experiments matching the filter; replaces any running load."""
        workspace = self.ctx.workspace
        if workspace is None:
            return
        self._experiment_ids = list(experiment_ids)
        self._expected_runs = None if filter_string else self._known_run_count(experiment_ids)
        self._started = time.perf_counter()
        self._columns_chosen = False
        self.runs_model.clear()
        self.runs_table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.runs_stack.setCurrentWidget(self.runs_table)
        self.status_label.setText("Loading runs…")
        self.progress.setRange(0, 0 if self._expected_runs is None else 1000)
        self.progress.setValue(0)
        self.progress.show()
        self.tasks.run(
            partial(
                load_runs_frame, filter_string=filter_string, expected_total=self._expected_runs
            ),
            workspace.tracking,
            self._experiment_ids,
            on_partial=self._on_runs_page_loaded,
            on_progress=self._on_runs_progressed,
            on_done=self._on_runs_loaded,
            on_error=self._on_runs_failed,
            description="Loading runs",
            slot="runs",
        )

    def _known_run_count(self, experiment_ids: list[str]) -> int | None:
        rows = [self.experiments_model.row_of(e) for e in experiment_ids]
        if any(row < 0 for row in rows):
            return None
        return sum(self.experiments_model.experiment(row).run_count for row in rows)

    def _on_runs_page_loaded(self, page: pd.DataFrame) -> None:
        known = self.runs_model.columnCount()
        self.runs_model.append_frame(page)
        if not self._columns_chosen and len(page):
            self._columns_chosen = True
            self._show_columns(default_columns(page))
        elif self._columns_chosen:
            # Keys first seen on a later page stay hidden, like the other extra columns.
            for column in range(known, self.runs_model.columnCount()):
                self.runs_table.setColumnHidden(column, True)
        count = self.runs_model.rowCount()
        self.status_label.setText(f"{count:,} runs so far…")

    def _on_runs_progressed(self, fraction: float, message: str) -> None:
        if fraction >= 0 and self.progress.maximum() > 0:
            self.progress.setValue(int(fraction * 1000))

    def _on_runs_loaded(self, frame: pd.DataFrame) -> None:
        elapsed = time.perf_counter() - self._started
        self.progress.hide()
        count = self.runs_model.rowCount()
        filtered = " matching the filter" if self.filter_edit.text().strip() else ""
        self.status_label.setText(f"{count:,} runs{filtered} · loaded in {elapsed:.1f} s")
        if count == 0:
            self.runs_empty.set_text(
                "No runs",
                "No run matches this filter. Clear it or change it, then press Enter."
                if filtered
                else "This experiment has no runs yet.",
            )
            self.runs_stack.setCurrentWidget(self.runs_empty)
        self.runs_loaded.emit(self._experiment_ids, count)
        self.mark_ready()

    def _on_runs_failed(self, error: Exception) -> None:
        self.progress.hide()
        self.status_label.setText("Loading the runs failed")
        self.show_error(error, "load the runs")

    def _show_columns(self, visible: list[str]) -> None:
        """Show these columns in this order (the model has them all), sized to fit."""
        header = self.runs_table.horizontalHeader()
        wanted = set(visible)
        for column, name in enumerate(self.runs_model.column_names):
            self.runs_table.setColumnHidden(column, name not in wanted)
        for position, name in enumerate(visible):
            header.moveSection(header.visualIndex(self.runs_model.column_index(name)), position)
        header.setResizeContentsPrecision(200)
        for column, name in enumerate(self.runs_model.column_names):
            if name in wanted:
                self.runs_table.resizeColumnToContents(column)
                width = header.sectionSize(column)
                header.resizeSection(column, min(max(width + 12, 70), 260))

    # -- user actions ----------------------------------------------------------------------
    def _on_experiments_selection_changed(self, selected: QItemSelection, _: Any) -> None:
        indexes = selected.indexes()
        if not indexes:
            return
        summary = self.experiments_model.experiment(indexes[0].row())
        self.experiment_details.setText(experiment_details(summary))
        self.filter_edit.clear()
        self.load_runs([summary.experiment_id])

    def _on_filter_edit_return_pressed(self) -> None:
        if self._experiment_ids:
            self.banner.hide()
            self.load_runs(self._experiment_ids, self.filter_edit.text().strip())

    def _on_runs_selection_changed(self, *_: Any) -> None:
        self.compare_button.setEnabled(len(self.selected_run_ids()) >= 2)

    def _on_compare_button_clicked(self) -> None:
        self.compare_requested.emit(self.selected_run_ids())

    def selected_run_ids(self) -> list[str]:
        """The selected runs' ids, in table order."""
        rows = sorted(index.row() for index in self.runs_table.selectionModel().selectedRows())
        return [str(self.runs_model.index(row, 0).data(RUN_ID_ROLE)) for row in rows]
