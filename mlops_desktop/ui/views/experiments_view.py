"""The Experiments view: the workspace's experiments, and the runs of the selected one.

Left, the experiments (searchable; active, deleted or all) with their run counts and last
activity, and the selected one's description and tags. Right, two filters over a table of
runs that fills page by page:

- the server filter, in MLflow's search syntax, checked as it is typed and sent to the
  tracking server on Enter (a new load);
- the quick filter, applied at once to the loaded runs, with OR, NOT, parentheses, regular
  expressions, IN lists and "contains" (services/quick_filter.py).

The table shows the chosen columns (a column chooser, remembered per experiment), sorts on
any of them, keeps pinned runs on top, copies the selection as TSV and opens a run in the
tracking server's web UI. The group bar above it shows the runs as a flat list, nested
under their parent runs or grouped by a param or tag (a tree over the same columns; big frames
are arranged on a worker). Under the table, the run detail panel shows the selected run.

A second visit is instant: the runs come from the local cache (services/runs_cache.py) at
once, with how old they are ("updated N s ago", kept current), then are checked against the
server in the background and swapped in, keeping selection, pins, sort and quick filter.
Every complete load or refresh is written back to the cache on a worker; a cancelled load
never is. Refresh (the button, or F5) reloads everything from the server.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from PySide6.QtCore import (
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPoint,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import QDesktopServices, QGuiApplication, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QMenu,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from mlops_desktop.backends.tracking import TrackingBackend
from mlops_desktop.services.experiment_list import (
    ACTIVE,
    ALL,
    DELETED,
    filter_experiments,
    has_web_ui,
    is_deleted,
    load_experiment_list,
    web_ui_run_url,
)
from mlops_desktop.services.experiments import (
    ExperimentSummary,
    concat_frames,
    default_columns,
    largest_experiment,
    load_runs_frame,
)
from mlops_desktop.services.grouping import (
    Grouping,
    Nesting,
    group_runs,
    groupable_columns,
    is_number_column,
    nest_runs,
)
from mlops_desktop.services.quick_filter import (
    PreparedFrame,
    QuickFilter,
    QuickFilterError,
    compile_quick_filter,
)
from mlops_desktop.services.runs_cache import CachedRuns, RefreshResult, RunsCache, refresh_runs
from mlops_desktop.services.search_syntax import check_search_filter, field_completions
from mlops_desktop.services.tasks import TaskState
from mlops_desktop.services.workspace import Workspace
from mlops_desktop.ui.column_chooser import ColumnChooser
from mlops_desktop.ui.context import UiContext
from mlops_desktop.ui.experiments_list_model import ExperimentsListModel, experiment_details
from mlops_desktop.ui.filter_box import FilterBox
from mlops_desktop.ui.group_bar import GroupBar
from mlops_desktop.ui.run_detail import RunDetailPanel
from mlops_desktop.ui.runs_table_model import RUN_ID_ROLE, RunsTableModel, header_label
from mlops_desktop.ui.runs_table_settings import RunsTableSettings
from mlops_desktop.ui.runs_tree_model import FLAT, GROUPED, NESTED, RunsTreeModel
from mlops_desktop.ui.tasks import Task
from mlops_desktop.ui.views.base import View, describe_error
from mlops_desktop.ui.widgets import EmptyState, plain

FILTER_HINT = "Server filter, e.g.  metrics.val_auc > 0.9 and params.optimizer = 'adam'"
FILTER_NOTE = "MLflow search syntax, sent to the server when you press Enter."
QUICK_FILTER_HINT = "Quick filter, e.g.  adam or sgd,  metrics.val_auc >= 0.9,  /trial-1\\d/"
QUICK_FILTER_NOTE = (
    "Applied to the loaded runs as you type: OR, NOT, ( ), ~ regex, in (…), contains."
)
#: How long the quick filter waits for the next keystroke before filtering.
QUICK_FILTER_DELAY_MS = 120
LIFECYCLE_CHOICES = (("Active", ACTIVE), ("Deleted", DELETED), ("All", ALL))
#: From this many runs, grouping and nesting are computed on a worker, not the GUI thread.
TREE_WORKER_ROWS = 20_000
#: How often "updated N s ago" is brought up to date.
AGE_TICK_MS = 1000


def runs_cache_key(workspace: Workspace) -> str:
    """The cache's key for a workspace: its profile and where it is (two profiles on one
    server may see different runs; a workspace without a profile is known by its place)."""
    return f"{workspace.profile_id}|{workspace.location}"


def updated_ago(seconds: float) -> str:
    """ "updated 12 s ago", "updated 3 min ago", "updated 2 h ago", "updated 4 days ago"."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"updated {seconds} s ago"
    if seconds < 3600:
        return f"updated {seconds // 60} min ago"
    if seconds < 86400:
        return f"updated {seconds // 3600} h ago"
    days = seconds // 86400
    return f"updated {days} day{'s' if days > 1 else ''} ago"


def read_cached_runs(
    cache: RunsCache,
    key: str,
    experiment_ids: list[str],
    filter_string: str,
    state: TaskState,
) -> CachedRuns | None:
    """The cached runs of these experiments and filter (a task: it reads a parquet file)."""
    return cache.read(key, experiment_ids, filter_string)


def write_cached_runs(
    cache: RunsCache,
    key: str,
    experiment_ids: list[str],
    filter_string: str,
    frame: pd.DataFrame,
    fetched_at: float,
    state: TaskState,
) -> None:
    """Store a complete runs frame in the cache (a task: it writes a parquet file)."""
    cache.write(key, experiment_ids, filter_string, frame, fetched_at)


def grouping_choices(frame: pd.DataFrame, state: TaskState) -> tuple[list[str], bool]:
    """The columns worth grouping by, and whether any run has a parent (a task: it reads
    every param and tag value)."""
    nested = "parent_run_id" in frame.columns and bool(
        (frame["parent_run_id"].notna() & (frame["parent_run_id"] != "")).any()
    )
    return groupable_columns(frame), nested


def arrange_runs(
    frame: pd.DataFrame, mode: str, column: str, columns: list[str], state: TaskState
) -> Grouping | Nesting | None:
    """The grouping or nesting a tree of `frame` needs (a task for big frames)."""
    if mode == GROUPED:
        metrics = [name for name in columns if is_number_column(frame[name])]
        return group_runs(frame, column, metrics)
    if mode == NESTED:
        return nest_runs(frame)
    return None


def experiment_of_run(tracking: TrackingBackend, run_id: str, state: TaskState) -> str:
    """The experiment a run belongs to (a task: it asks the tracking server)."""
    return tracking.get_run(run_id).experiment_id


class RunsTableView(QTableView):
    """The runs table; Ctrl+C copies the selected rows as TSV (the view decides how)."""

    copy_requested = Signal()  #: the user pressed the copy shortcut

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # QAbstractItemView copies only the current cell's text on Ctrl+C: take it over.
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_requested.emit()
            event.accept()
            return
        super().keyPressEvent(event)


class ExperimentsView(View):
    view_id = "experiments"
    title = "Experiments"
    subtitle = "Every experiment of the workspace, and the runs of the one you select."

    compare_requested = Signal(list)  #: run ids the user asked to compare, in table order
    runs_loaded = Signal(list, int)  #: the runs table is complete: experiment ids, run count
    quick_filter_applied = Signal(int, int)  #: the quick filter ran: runs shown, runs loaded
    cached_runs_shown = Signal(list, int)  #: cached runs are shown: experiment ids, run count
    runs_cached = Signal(list)  #: a complete runs table was written to the cache: experiment ids
    grouping_offered = Signal(list)  #: the group bar now offers these columns to group by
    runs_arranged = Signal(str)  #: the runs are shown as "flat", "nested" or "group"

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.table_settings = RunsTableSettings(ctx.paths.settings_file)
        self._build_experiments_pane()
        right = self._build_runs_pane()

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.left_pane)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([340, 1000])
        self.splitter.setChildrenCollapsible(False)
        self.left_pane.setMinimumWidth(280)

        self.empty = EmptyState(
            "Opening the workspace…", "The experiments appear here once the workspace is open."
        )
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.splitter)
        self.body.addWidget(self.stack, 1)

        self._summaries: list[ExperimentSummary] = []
        self._experiment_ids: list[str] = []
        self._expected_runs: int | None = None
        self._started = 0.0
        self._pages: list[pd.DataFrame] = []
        self._frame: pd.DataFrame | None = None  # every loaded run, every column
        self._prepared: PreparedFrame | None = None
        self._known_columns: list[str] = []
        self._quick_filter: QuickFilter | None = None  # the last one that compiled
        self._loading = False
        self._applied_server_filter = ""
        self.chooser: ColumnChooser | None = None
        self._runs_task: Task | None = None
        self._reopen = ""
        self.runs_cache = RunsCache.in_cache_dir(ctx.paths)
        self._fetched_at: float | None = None  # when the shown runs were read from the server
        self._fetch_started = 0.0
        self._status_head = ""
        self._status_tail = ""
        self._status_shown = ""
        self._refreshing = False
        self._skip_cache_once = False
        self._swapping = False  # a refreshed frame replaces the shown one
        self._pending_run = ""  # show_run's run, selected once its row is in
        self._ready_waits_for_detail = False
        self._tree_request = 0
        self._age_timer = QTimer(self)
        self._age_timer.setInterval(AGE_TICK_MS)
        self._age_timer.timeout.connect(self._show_status)
        #: Runs per page of a load; None leaves it to the loader (tests page in small steps).
        self.runs_page_size: int | None = None

    # -- building ----------------------------------------------------------------------------
    def _build_experiments_pane(self) -> None:
        self.experiments_model = ExperimentsListModel(self)
        self.experiment_search = QLineEdit()
        self.experiment_search.setObjectName("experimentSearch")
        self.experiment_search.setPlaceholderText("Search experiments, tags, descriptions")
        self.experiment_search.setClearButtonEnabled(True)
        self.experiment_search.textChanged.connect(self._on_experiment_search_changed)
        self.lifecycle_combo = QComboBox()
        self.lifecycle_combo.setToolTip("Show active experiments, deleted ones, or all")
        for label, value in LIFECYCLE_CHOICES:
            self.lifecycle_combo.addItem(label, value)
        self.lifecycle_combo.currentIndexChanged.connect(self._on_experiment_search_changed)
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
        search_row = QHBoxLayout()
        search_row.setContentsMargins(0, 0, 0, 0)
        search_row.addWidget(self.experiment_search, 1)
        search_row.addWidget(self.lifecycle_combo)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addLayout(search_row)
        top_layout.addWidget(self.experiments_list, 1)
        self.left_splitter = QSplitter(Qt.Orientation.Vertical)
        self.left_splitter.addWidget(top)
        self.left_splitter.addWidget(self.experiment_details)
        self.left_splitter.setChildrenCollapsible(False)
        self.left_pane = self.left_splitter

    def _build_runs_pane(self) -> QWidget:
        self.filter_box = FilterBox("Server filter", FILTER_HINT, FILTER_NOTE)
        self.filter_box.setObjectName("serverFilter")
        self.filter_edit = self.filter_box.edit
        self.filter_edit.setToolTip(
            "MLflow search syntax, run on the server when you press Enter:\n"
            "  metrics.val_auc > 0.85\n"
            "  params.learning_rate = '0.01' and attributes.status = 'FINISHED'\n"
            "  tags.mlflow.runName LIKE 'trial-%'"
        )
        self.filter_edit.textChanged.connect(self._on_filter_edit_text_changed)
        self.filter_edit.returnPressed.connect(self._on_filter_edit_return_pressed)
        self.quick_filter_box = FilterBox("Quick filter", QUICK_FILTER_HINT, QUICK_FILTER_NOTE)
        self.quick_filter_box.setObjectName("quickFilter")
        self.quick_filter_edit = self.quick_filter_box.edit
        self.quick_filter_edit.setToolTip(
            "Applied at once to the loaded runs:\n"
            "  adam or sgd                       run name contains a word\n"
            "  params.optimizer in (adam, sgd)   one of a list\n"
            "  params.optimizer ~ 'ad.*'         regular expression (/…/i ignores case)\n"
            "  tags.note contains 'baseline'     text anywhere, any case\n"
            "  metrics.val_auc >= 0.9 and not status = failed\n"
            "  (params.lr < 0.01 or params.lr > 0.1) and metrics.val_loss is not null"
        )
        self.quick_filter_edit.textChanged.connect(self._on_quick_filter_edit_text_changed)
        self._quick_timer = QTimer(self)
        self._quick_timer.setSingleShot(True)
        self._quick_timer.setInterval(QUICK_FILTER_DELAY_MS)
        self._quick_timer.timeout.connect(self.apply_quick_filter)

        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setObjectName("refreshRuns")
        self.refresh_button.setToolTip(
            "Load every run again from the server, without the local cache (F5)"
        )
        self.refresh_button.clicked.connect(self.refresh_runs)
        self.columns_button = QPushButton("Columns…")
        self.columns_button.setToolTip("Choose the columns of the table (searchable)")
        self.columns_button.clicked.connect(self.open_column_chooser)
        self.web_button = QPushButton("Open in web UI")
        self.web_button.setEnabled(False)
        self.web_button.clicked.connect(self._on_web_button_clicked)
        self.compare_button = QPushButton("Compare selected")
        self.compare_button.setToolTip("Compare the selected runs (select 2 or more)")
        self.compare_button.setEnabled(False)
        self.compare_button.clicked.connect(self._on_compare_button_clicked)
        self.status_label = plain("")
        self.status_label.setObjectName("runsStatus")
        # A long status is cut rather than squeezing the experiments list (full text in tooltip).
        self.status_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.status_label.setMinimumWidth(160)
        self.progress = QProgressBar()
        self.progress.setFixedWidth(140)
        self.progress.setTextVisible(False)
        self.progress.hide()

        self.runs_model = RunsTableModel(parent=self, columns=[])
        self.runs_table = RunsTableView()
        self.runs_table.setObjectName("runsTable")
        self.runs_table.setModel(self.runs_model)
        self.runs_table.setSortingEnabled(True)
        self.runs_table.setAlternatingRowColors(True)
        self.runs_table.setWordWrap(False)
        self.runs_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.runs_table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.runs_table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.runs_table.customContextMenuRequested.connect(self._on_runs_table_context_menu)
        self.runs_table.copy_requested.connect(self.copy_selection)
        self.runs_table.verticalHeader().hide()
        self.runs_table.verticalHeader().setDefaultSectionSize(
            self.runs_table.fontMetrics().height() + 8
        )
        header = self.runs_table.horizontalHeader()
        header.setSortIndicatorShown(True)
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        header.setStretchLastSection(True)
        header.setSectionsMovable(True)
        header.sectionMoved.connect(self._on_runs_header_section_moved)
        self.runs_table.selectionModel().selectionChanged.connect(self._on_runs_selection_changed)
        self.runs_empty = EmptyState("No runs", "")
        self._build_runs_tree()
        self.runs_stack = QStackedWidget()
        self.runs_stack.addWidget(self.runs_table)
        self.runs_stack.addWidget(self.runs_tree)
        self.runs_stack.addWidget(self.runs_empty)
        self.group_bar = GroupBar()
        # Never squeezed below its controls: the status label gives way instead.
        self.group_bar.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)
        self.group_bar.mode_changed.connect(self._on_group_bar_mode_changed)
        self.detail = RunDetailPanel(self.ctx)
        self.detail.detail_ready.connect(self._on_detail_settled)
        self.detail.detail_failed.connect(self._on_detail_settled)

        filters = QGridLayout()
        filters.setContentsMargins(0, 0, 0, 0)
        filters.setHorizontalSpacing(12)
        filters.addWidget(self.filter_box, 0, 0)
        filters.addWidget(self.quick_filter_box, 0, 1)
        filters.setColumnStretch(0, 1)
        filters.setColumnStretch(1, 1)
        #: The row above the table: how the runs are arranged, their status, and actions.
        self.toolbar = QHBoxLayout()
        self.toolbar.addWidget(self.group_bar)
        self.toolbar.addSpacing(12)
        self.toolbar.addWidget(self.status_label, 1)
        self.toolbar.addWidget(self.progress)
        self.toolbar.addWidget(self.refresh_button)
        self.toolbar.addWidget(self.columns_button)
        self.toolbar.addWidget(self.web_button)
        self.toolbar.addWidget(self.compare_button)
        #: The table on top, the selected run's details below it.
        self.detail_splitter = QSplitter(Qt.Orientation.Vertical)
        self.detail_splitter.setObjectName("detailSplitter")
        self.detail_splitter.addWidget(self.runs_stack)
        self.detail_splitter.addWidget(self.detail)
        self.detail_splitter.setStretchFactor(0, 3)
        self.detail_splitter.setStretchFactor(1, 2)
        self.detail_splitter.setSizes([420, 300])
        self.detail_splitter.setChildrenCollapsible(False)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addLayout(filters)
        right_layout.addLayout(self.toolbar)
        right_layout.addWidget(self.detail_splitter, 1)
        return right

    def _build_runs_tree(self) -> None:
        """The runs as a tree (nested or grouped), shown instead of the table."""
        self.tree_model = RunsTreeModel(parent=self)
        self.runs_tree = QTreeView()
        self.runs_tree.setObjectName("runsTree")
        self.runs_tree.setModel(self.tree_model)
        self.runs_tree.setUniformRowHeights(True)
        self.runs_tree.setAlternatingRowColors(True)
        self.runs_tree.setSortingEnabled(True)
        self.runs_tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.runs_tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.runs_tree.header().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.runs_tree.header().setStretchLastSection(True)
        self.runs_tree.selectionModel().selectionChanged.connect(self._on_runs_selection_changed)

    # -- lifecycle ---------------------------------------------------------------------------
    def reload(self) -> None:
        """F5 or Retry: the experiments again, and the open one's runs from the server (the
        cache is skipped once: the user asked for the server's answer)."""
        self._skip_cache_once = True
        super().reload()

    def shutdown(self) -> None:
        self._age_timer.stop()
        self.detail.shutdown()
        super().shutdown()

    # -- experiments -------------------------------------------------------------------------
    def load(self, workspace: Workspace) -> None:
        self.empty.set_text("Loading experiments…", f"Reading {workspace.location}")
        self.stack.setCurrentWidget(self.empty)
        # A reload (F5, Retry) comes back to the experiment that was open.
        self._reopen = self._experiment_ids[0] if len(self._experiment_ids) == 1 else ""
        self._experiment_ids = []
        self._update_web_button()
        self.tasks.run(
            load_experiment_list,
            workspace.tracking,
            on_done=self._on_experiments_loaded,
            on_error=lambda e: self.show_error(e, "list the experiments"),
            description="Loading experiments",
        )

    def _on_experiments_loaded(self, summaries: list[ExperimentSummary]) -> None:
        self._summaries = list(summaries)
        self._show_experiment_list()
        for column in (1, 2):
            self.experiments_list.resizeColumnToContents(column)
        largest = largest_experiment(filter_experiments(summaries, lifecycle=ACTIVE))
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
        reopen = self.experiments_model.row_of(self._reopen) if self._reopen else -1
        chosen = self._reopen if reopen >= 0 else largest.experiment_id
        if self.experiments_model.row_of(chosen) < 0:  # the list shows deleted ones only
            self.mark_ready()
            return
        self.select_experiment(chosen)

    def _show_experiment_list(self) -> None:
        """The experiments matching the search and lifecycle; the selection stays if it can."""
        shown = filter_experiments(
            self._summaries,
            self.experiment_search.text(),
            str(self.lifecycle_combo.currentData()),
        )
        self.experiments_model.set_experiments(shown)
        current = self._experiment_ids[0] if len(self._experiment_ids) == 1 else None
        row = self.experiments_model.row_of(current) if current else -1
        if row >= 0:
            self.experiments_list.setCurrentIndex(self.experiments_model.index(row, 0))

    def _fit_experiments_list(self) -> None:
        """The list as tall as its rows (up to 60%), the details panel below takes the rest."""
        total = self.stack.height()
        rows = self.experiments_model.rowCount()
        row_height = self.experiments_list.sizeHintForRow(0) if rows else 0
        wanted = self.experiments_list.header().sizeHint().height() + rows * row_height + 12
        wanted += self.experiment_search.sizeHint().height() + 6
        height = min(max(wanted, 160), int(total * 0.6))
        self.left_splitter.setSizes([height, max(100, total - height)])

    def select_experiment(self, experiment_id: str) -> None:
        """Select an experiment in the list, which loads its runs."""
        row = self.experiments_model.row_of(experiment_id)
        if row >= 0:
            self.experiments_list.setCurrentIndex(self.experiments_model.index(row, 0))

    def _on_experiment_search_changed(self, *_: Any) -> None:
        self._show_experiment_list()

    def _on_experiments_selection_changed(self, selected: QItemSelection, _: Any) -> None:
        indexes = selected.indexes()
        if not indexes:
            return
        summary = self.experiments_model.experiment(indexes[0].row())
        self.experiment_details.setText(experiment_details(summary))
        if self._experiment_ids == [summary.experiment_id]:
            return  # the list was filtered and the same experiment selected again
        self.filter_edit.clear()
        if is_deleted(summary):
            self._show_deleted_experiment(summary)
            return
        self._restore_quick_filter(summary.experiment_id)
        self.load_runs([summary.experiment_id])

    def _show_deleted_experiment(self, summary: ExperimentSummary) -> None:
        """A deleted experiment's runs are deleted too: say so instead of loading nothing."""
        if self._runs_task is not None:
            self._runs_task.cancel()
        self._loading = False
        self.progress.hide()
        self._experiment_ids = [summary.experiment_id]
        self._pages, self._frame, self._prepared = [], None, None
        self.runs_model.set_frame(pd.DataFrame(), columns=[])
        self.runs_empty.set_text(
            "Deleted experiment",
            f"{summary.name} was deleted, with its runs. Restore it in MLflow "
            "(mlflow experiments restore) to browse its runs here again.",
        )
        self.runs_stack.setCurrentWidget(self.runs_empty)
        self.status_label.setText("Deleted experiment")
        self.mark_ready()

    # -- loading runs ------------------------------------------------------------------------
    def load_runs(
        self, experiment_ids: list[str], filter_string: str = "", use_cache: bool = True
    ) -> None:
        """Show the runs of these experiments matching the filter; replaces any running load.

        With `use_cache`, cached runs are shown at once and checked against the server in
        the background; without (Refresh, F5) or on a cache miss, they stream from the server.
        """
        workspace = self.ctx.workspace
        if workspace is None:
            return
        if self._skip_cache_once:
            self._skip_cache_once, use_cache = False, False
        self._experiment_ids = list(experiment_ids)
        self._applied_server_filter = filter_string
        self._reset_runs()
        if self._pending_run and self.detail.run_id == self._pending_run:
            pass  # show_run already shows the run it is landing on
        else:
            self.detail.clear()
        self._on_filter_edit_text_changed(self.filter_edit.text())
        if not use_cache:
            self._fetch_runs(workspace)
            return
        self.status_label.setText("Opening the runs…")
        self._runs_task = self.tasks.run(
            read_cached_runs,
            self.runs_cache,
            runs_cache_key(workspace),
            self._experiment_ids,
            filter_string,
            on_done=partial(self._on_cache_read, workspace),
            on_error=lambda _error: self._fetch_runs(workspace),  # the cache only saves time
            description="Reading the cached runs",
            slot="runs",
        )

    def refresh_runs(self) -> None:
        """Reload the shown runs from the server, skipping the cache (the Refresh button)."""
        if self._experiment_ids and self.ctx.workspace is not None:
            self.load_runs(self._experiment_ids, self._applied_server_filter, use_cache=False)

    def _reset_runs(self) -> None:
        """An empty table, waiting for the runs of `_experiment_ids`."""
        self._pages, self._frame, self._prepared = [], None, None
        self._known_columns = []
        self._fetched_at = None
        self._age_timer.stop()
        self._refreshing = False
        self._loading = True
        self.runs_model.set_frame(pd.DataFrame(), columns=[])
        self.runs_model.set_pinned(self._saved_pins())
        self.runs_table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.tree_model.show_flat()
        self.tree_model.set_frame(pd.DataFrame(), columns=[])
        self.runs_stack.setCurrentWidget(self.runs_table)
        self.progress.hide()

    def _fetch_runs(self, workspace: Workspace) -> None:
        """Stream the runs from the server, page by page, into the table."""
        self._expected_runs = (
            None if self._applied_server_filter else self._known_run_count(self._experiment_ids)
        )
        self._started = time.perf_counter()
        self._fetch_started = time.time()
        self._loading = True
        self.status_label.setText("Loading runs…")
        self.progress.setRange(0, 0 if self._expected_runs is None else 1000)
        self.progress.setValue(0)
        self.progress.show()
        loader = partial(
            load_runs_frame,
            filter_string=self._applied_server_filter,
            expected_total=self._expected_runs,
        )
        if self.runs_page_size:
            size = self.runs_page_size
            loader = partial(loader, page_size=size, first_page_size=size)
        self._runs_task = self.tasks.run(
            loader,
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
        counts = {s.experiment_id: s.run_count for s in self._summaries}
        if any(e not in counts for e in experiment_ids):
            return None
        return sum(counts[e] for e in experiment_ids)

    def _on_runs_page_loaded(self, page: pd.DataFrame) -> None:
        first = not self._pages
        self._pages.append(page)
        self._frame, self._prepared = None, None
        self._learn_columns(page.columns)
        if first:
            chosen = self._saved_columns() or default_columns(page)
            self.runs_model.set_frame(page, columns=chosen)
            self._fit_columns()
            if self.quick_filter_edit.text().strip():
                self.apply_quick_filter()  # its names resolve now that columns are known
        else:
            before = self.runs_model.columnCount()
            self.runs_model.append_frame(page, self._quick_mask_of(page))
            if self.runs_model.columnCount() != before:
                self._fit_columns()
        self._update_quick_filter_note()
        self.status_label.setText(f"{self.runs_model.total_rows:,} runs so far…")
        self._on_runs_shown()

    def _on_runs_progressed(self, fraction: float, message: str) -> None:
        if fraction >= 0 and self.progress.maximum() > 0:
            self.progress.setValue(int(fraction * 1000))

    def _on_runs_loaded(self, frame: pd.DataFrame) -> None:
        elapsed = time.perf_counter() - self._started
        self._loading = False
        self.progress.hide()
        if len(frame) == self.runs_model.total_rows:
            self._frame, self._prepared, self._pages = frame, None, []
        self._learn_columns(frame.columns)
        if self.chooser is not None and self.chooser.isVisible():
            self.chooser.set_columns(self._known_columns, self.runs_model.column_names)
        count = self.runs_model.total_rows
        filtered = " matching the filter" if self._applied_server_filter else ""
        self._fetched_at = self._fetch_started
        self._set_status(f"{count:,} runs{filtered} · loaded in {elapsed:.1f} s")
        self._on_runs_complete()
        if count == 0:
            self.runs_empty.set_text(
                "No runs",
                "No run matches this filter. Clear it or change it, then press Enter."
                if filtered
                else "This experiment has no runs yet.",
            )
        self._show_runs_widget()
        self._on_filter_edit_text_changed(self.filter_edit.text())
        self._update_quick_filter_note()
        self._write_cache(self.runs_frame, self._fetch_started)
        self.runs_loaded.emit(self._experiment_ids, count)
        self._mark_ready_with_detail()

    def _on_runs_failed(self, error: Exception) -> None:
        self._loading = False
        self.progress.hide()
        self.status_label.setText("Loading the runs failed")
        self.show_error(error, "load the runs")

    # -- the cache and the background refresh -------------------------------------------------
    def _on_cache_read(self, workspace: Workspace, cached: CachedRuns | None) -> None:
        if workspace is not self.ctx.workspace:
            return
        if cached is None or len(cached.frame) == 0:
            self._fetch_runs(workspace)
            return
        self._show_cached_runs(cached)
        self._start_refresh(workspace)

    def _show_cached_runs(self, cached: CachedRuns) -> None:
        """The cached runs at once, as if just loaded, marked with their age."""
        frame = cached.frame
        self._loading = False
        self._frame, self._prepared, self._pages = frame, None, []
        self._learn_columns(frame.columns)
        self.runs_model.set_frame(frame, columns=self._saved_columns() or default_columns(frame))
        self._fit_columns()
        if self.quick_filter_edit.text().strip():
            self.apply_quick_filter()
        self._fetched_at = cached.fetched_at
        filtered = " matching the filter" if self._applied_server_filter else ""
        self._set_status(f"{len(frame):,} runs{filtered} · cached", "checking for changes…")
        self._on_runs_shown()
        self._on_runs_complete()
        self._show_runs_widget()
        self._update_quick_filter_note()
        self.cached_runs_shown.emit(self._experiment_ids, len(frame))
        self._mark_ready_with_detail()

    def _start_refresh(self, workspace: Workspace) -> None:
        """Read every run again in the background; the cached table stays until then."""
        self._refreshing = True
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.show()
        self._runs_task = self.tasks.run(
            refresh_runs,
            workspace.tracking,
            self.runs_frame,
            self._experiment_ids,
            self._applied_server_filter,
            on_progress=self._on_runs_progressed,
            on_done=self._on_runs_refreshed,
            on_error=self._on_refresh_failed,
            description="Checking the runs for changes",
            slot="runs",
        )

    def _on_runs_refreshed(self, result: RefreshResult) -> None:
        """Swap in the server's runs, keeping what the user set up: the selection, pins,
        sort (the model keeps it), quick filter and the tree's arrangement."""
        self._refreshing = False
        self.progress.hide()
        selected = self.selected_run_ids()
        self._swapping = True
        try:
            self._frame, self._prepared, self._pages = result.frame, None, []
            self._learn_columns(result.frame.columns)
            chosen = self.runs_model.chosen_columns or default_columns(result.frame)
            self.runs_model.set_frame(result.frame, columns=chosen)
            self._reapply_quick_filter()
            self._select_runs(selected)
        finally:
            self._swapping = False
        self._fetched_at = result.fetched_at
        filtered = " matching the filter" if self._applied_server_filter else ""
        self._set_status(f"{len(result.frame):,} runs{filtered}", _changes(result))
        self._on_runs_complete()
        self._show_runs_widget()
        self._update_quick_filter_note()
        self._on_runs_selection_changed()
        self._write_cache(result.frame, result.fetched_at)
        self.runs_loaded.emit(self._experiment_ids, len(result.frame))

    def _on_refresh_failed(self, error: Exception) -> None:
        self._refreshing = False
        self.progress.hide()
        self._status_tail = "not checked for changes"
        self._show_status()
        self.banner.show_error(
            describe_error(error, "check the cached runs for changes")
            + " The table shows the runs as they were; press Refresh to try again."
        )

    def _reapply_quick_filter(self) -> None:
        """The quick filter's mask over new rows (nothing is saved: the text is the same)."""
        if self._quick_filter is None or self._quick_filter.is_empty:
            return
        try:
            self.runs_model.set_row_mask(self._quick_filter.mask(self._prepared_frame()))
        except QuickFilterError:
            self.runs_model.set_row_mask(None)

    def _write_cache(self, frame: pd.DataFrame, fetched_at: float) -> None:
        """Store a complete load or refresh for the next visit, on a worker."""
        workspace = self.ctx.workspace
        if workspace is None or len(frame) == 0:
            return
        experiment_ids = list(self._experiment_ids)
        self.tasks.run(
            write_cached_runs,
            self.runs_cache,
            runs_cache_key(workspace),
            experiment_ids,
            self._applied_server_filter,
            frame,
            fetched_at,
            on_done=lambda _: self.runs_cached.emit(experiment_ids),
            on_error=lambda error: self.banner.show_error(
                describe_error(error, "keep the runs in the local cache")
            ),
            description="Keeping the runs for the next visit",
            slot=f"runs-cache:{','.join(experiment_ids)}:{self._applied_server_filter}",
        )

    # -- status ------------------------------------------------------------------------------
    def _set_status(self, head: str, tail: str = "") -> None:
        """ "<head> · updated N s ago · <tail>", N kept current by a timer."""
        self._status_head, self._status_tail = head, tail
        self._status_shown = ""
        self._show_status()
        self._age_timer.start()

    def _show_status(self) -> None:
        label = self.status_label
        if self._status_shown and label.text() != self._status_shown:
            return  # a message (copied rows...) replaced it: leave it be
        parts = [self._status_head]
        if self._fetched_at is not None:
            parts.append(updated_ago(time.time() - self._fetched_at))
        if self._status_tail:
            parts.append(self._status_tail)
        self._status_shown = " · ".join(part for part in parts if part)
        label.setText(self._status_shown)
        label.setToolTip(self._status_shown)

    # -- after the runs change ---------------------------------------------------------------
    def _on_runs_shown(self) -> None:
        """Rows are in (a page, the cache): land on show_run's run, or select the first."""
        if self._pending_run:
            self._land_on_run(self._pending_run)
        elif not self.selected_run_ids() and self.runs_model.rowCount():
            self._select_rows([0])

    def _on_runs_complete(self) -> None:
        """Every run is in: offer the grouping columns, arrange the tree, find show_run's run."""
        self._find_grouping_choices()
        if self.group_bar.mode != FLAT:
            self._arrange_tree()
        if self._pending_run and not self._land_on_run(self._pending_run):
            self._reveal_hidden_run(self._pending_run)

    def _show_runs_widget(self) -> None:
        if self.runs_model.total_rows == 0 and not self._loading and not self._refreshing:
            self.runs_stack.setCurrentWidget(self.runs_empty)
        elif self.group_bar.mode != FLAT and self.tree_model.columnCount():
            self.runs_stack.setCurrentWidget(self.runs_tree)
        else:
            self.runs_stack.setCurrentWidget(self.runs_table)

    # -- grouping and nesting ----------------------------------------------------------------
    def _find_grouping_choices(self) -> None:
        """Offer the params and tags worth grouping by (read on a worker: every value)."""
        frame = self.runs_frame
        if len(frame) == 0:
            return
        self.tasks.run(
            grouping_choices,
            frame,
            on_done=partial(self._on_grouping_choices_found, frame),
            on_error=lambda error: self.show_error(error, "find the columns to group by"),
            description="Finding the columns to group by",
            slot="grouping-choices",
        )

    def _on_grouping_choices_found(
        self, frame: pd.DataFrame, choices: tuple[list[str], bool]
    ) -> None:
        if frame is not self.runs_frame:
            return  # other runs came in meanwhile
        columns, nested = choices
        self.group_bar.set_columns(columns, nested_available=nested)
        self.grouping_offered.emit(columns)

    def _on_group_bar_mode_changed(self, mode: str, column: str, aggregate: str) -> None:
        if mode == FLAT:
            self._tree_request += 1
            self.tree_model.show_flat()
            self._show_runs_widget()
            self.runs_arranged.emit(FLAT)
            return
        if (
            mode == GROUPED
            and self.tree_model.mode == GROUPED
            and self.tree_model.group_column == column
            and self.runs_stack.currentWidget() is self.runs_tree
        ):
            self.tree_model.set_aggregate(aggregate)  # only the group rows change
            return
        self._arrange_tree()

    def _tree_frame(self) -> pd.DataFrame:
        """The runs the tree shows: the loaded ones the quick filter keeps."""
        frame = self.runs_frame
        if self._quick_filter is None or self._quick_filter.is_empty or len(frame) == 0:
            return frame
        try:
            mask = self._quick_filter.mask(self._prepared_frame())
        except QuickFilterError:
            return frame
        return frame[mask].reset_index(drop=True)

    def _arrange_tree(self) -> None:
        """Show the runs as the group bar says, computing the grouping or nesting on a worker
        when there are many runs (a newer request replaces an older one)."""
        if self._loading or len(self.runs_frame) == 0:
            return  # arranged when the load completes
        mode, column = self.group_bar.mode, self.group_bar.column
        frame, columns = self._tree_frame(), self.runs_model.column_names
        if mode == GROUPED and column not in frame.columns:
            return
        self._tree_request += 1
        if len(frame) < TREE_WORKER_ROWS:
            self._show_tree(
                self._tree_request,
                frame,
                columns,
                arrange_runs(frame, mode, column, columns, TaskState()),
            )
            return
        self.status_label.setText(f"Arranging {len(frame):,} runs…")
        self.tasks.run(
            arrange_runs,
            frame,
            mode,
            column,
            columns,
            on_done=partial(self._show_tree, self._tree_request, frame, columns),
            on_error=lambda error: self.show_error(error, "group the runs"),
            description="Grouping the runs",
            slot="arrange-runs",
        )

    def _show_tree(
        self,
        request: int,
        frame: pd.DataFrame,
        columns: list[str],
        arranged: Grouping | Nesting | None,
    ) -> None:
        if request != self._tree_request:
            return  # the user chose another arrangement meanwhile
        mode, column, aggregate = (
            self.group_bar.mode,
            self.group_bar.column,
            self.group_bar.aggregate,
        )
        model = self.tree_model
        model.show_flat()  # cheap: set_frame must not group on the GUI thread
        model.set_frame(frame, columns)
        if mode == GROUPED and isinstance(arranged, Grouping):
            model.show_grouped(column, aggregate, arranged)
        elif mode == NESTED and isinstance(arranged, Nesting):
            model.show_nested(arranged)
        sort = self.runs_model.sort_column
        order = self.runs_table.horizontalHeader().sortIndicatorOrder()
        if sort >= 0:
            model.sort(sort, order)
        self.runs_tree.header().setSortIndicator(sort, order)
        self._fit_tree_columns()
        if model.mode == NESTED:
            self.runs_tree.expandToDepth(0)
        self._show_runs_widget()
        self.runs_arranged.emit(model.mode)

    def _fit_tree_columns(self) -> None:
        """The table's widths; the first column wider, for the group titles and the indent."""
        for column in range(self.tree_model.columnCount()):
            width = self.runs_table.columnWidth(column)
            self.runs_tree.setColumnWidth(column, max(width, 300) if column == 0 else width)

    def _tree_shown(self) -> bool:
        return self.runs_stack.currentWidget() is self.runs_tree

    # -- show a run (from another view) --------------------------------------------------------
    def show_run(self, run_id: str) -> None:
        """Select a run's experiment, load it, then select and scroll to the run and show its
        detail (the Models view's "open run" comes here)."""
        run_id = run_id.strip()
        workspace = self.ctx.workspace
        if not run_id or workspace is None:
            return
        self._pending_run = run_id
        self.detail.show_run(run_id)
        if self._land_on_run(run_id):
            return
        if self._is_loaded(run_id):  # hidden by the quick filter
            self._reveal_hidden_run(run_id)
            return
        self.tasks.run(
            experiment_of_run,
            workspace.tracking,
            run_id,
            on_done=partial(self._on_run_experiment_found, run_id),
            on_error=lambda error: self.show_error(error, f"find run {run_id}"),
            description="Finding the run's experiment",
            slot="find-run",
        )

    def _on_run_experiment_found(self, run_id: str, experiment_id: str) -> None:
        if self._pending_run != run_id:
            return
        if self._experiment_ids == [experiment_id]:
            settled = not self._loading and not self._refreshing and self._frame is not None
            if settled and not self._land_on_run(run_id):
                self._reveal_hidden_run(run_id)
            return  # else: its rows are coming, and _on_runs_shown lands on it
        if not self._summaries:
            self._reopen = experiment_id  # the experiments are loading: open it after
            return
        if self.experiments_model.row_of(experiment_id) < 0:
            # Hidden by the experiment search or the lifecycle choice: show every one.
            self.experiment_search.clear()
            self.lifecycle_combo.setCurrentIndex(self.lifecycle_combo.findData(ALL))
        self.select_experiment(experiment_id)

    def _land_on_run(self, run_id: str) -> bool:
        """Select the run and scroll to it, in the table and the tree; False when absent."""
        row = self.runs_model.row_of_run(run_id)
        if row < 0:
            return False
        self._pending_run = ""
        self._select_rows([row])
        self.runs_table.scrollTo(
            self.runs_model.index(row, 0), QAbstractItemView.ScrollHint.PositionAtCenter
        )
        if self._tree_shown():
            self._select_in_tree(run_id)
        return True

    def _is_loaded(self, run_id: str) -> bool:
        frame = self.runs_frame
        return "run_id" in frame.columns and bool((frame["run_id"] == run_id).any())

    def _reveal_hidden_run(self, run_id: str) -> None:
        """The loaded run is hidden by the quick filter: clear it. Not loaded (the server
        filter left it out): load without the filter."""
        if self._is_loaded(run_id):
            self.quick_filter_edit.clear()
            self.apply_quick_filter()
            self._land_on_run(run_id)
        elif self._applied_server_filter:
            self.filter_edit.clear()
            self.load_runs(self._experiment_ids)
        else:
            self._pending_run = ""

    def _select_in_tree(self, run_id: str) -> None:
        model = self.tree_model
        if not model.rowCount():
            return
        flags = Qt.MatchFlag.MatchExactly | Qt.MatchFlag.MatchRecursive | Qt.MatchFlag.MatchWrap
        found = model.match(model.index(0, 0), RUN_ID_ROLE, run_id, 1, flags)
        if not found:
            return
        self.runs_tree.selectionModel().setCurrentIndex(
            found[0],
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.runs_tree.scrollTo(found[0], QAbstractItemView.ScrollHint.PositionAtCenter)

    # -- the run detail ----------------------------------------------------------------------
    def _update_detail(self) -> None:
        """One run selected: its detail; none or several: the empty panel."""
        ids = self.selected_run_ids()
        if len(ids) == 1:
            if self.detail.run_id != ids[0]:
                self.detail.show_run(ids[0])
        elif self.detail.run_id and not self._pending_run:
            self.detail.clear()

    def _mark_ready_with_detail(self) -> None:
        """Ready now, or once the selected run's detail is in (so what the user, or a
        screenshot, sees first is complete)."""
        if self.detail.stack.currentWidget() is self.detail.loading:
            self._ready_waits_for_detail = True
        else:
            self.mark_ready()

    def _on_detail_settled(self, *_: Any) -> None:
        if self._ready_waits_for_detail:
            self._ready_waits_for_detail = False
            self.mark_ready()

    def _learn_columns(self, columns: pd.Index) -> None:
        """Every column seen so far (for the chooser, the filters and their completion)."""
        known = set(self._known_columns)
        new = [c for c in columns if c not in known]
        if not new:
            return
        self._known_columns = self._known_columns + new
        names = field_completions(self._known_columns)
        self.filter_edit.set_completions(names)
        self.quick_filter_edit.set_completions(names)

    @property
    def runs_frame(self) -> pd.DataFrame:
        """Every loaded run with every column, rows in the table's stored order."""
        if self._frame is None:
            self._frame = concat_frames(self._pages) if self._pages else pd.DataFrame()
        return self._frame

    @property
    def known_columns(self) -> list[str]:
        return list(self._known_columns)

    # -- server filter -----------------------------------------------------------------------
    def _on_filter_edit_text_changed(self, text: str) -> None:
        problem = check_search_filter(text, self._known_columns)
        if problem is not None:
            self.filter_box.show_problem(problem.describe())
        elif text.strip() and text.strip() == self._applied_server_filter and not self._loading:
            self.filter_box.show_note(
                f"Applied on the server; {self.runs_model.total_rows:,} runs match."
            )
        elif text.strip() and text.strip() != self._applied_server_filter:
            self.filter_box.show_note("Valid; press Enter to search the server.")
        else:
            self.filter_box.show_note("")

    def _on_filter_edit_return_pressed(self) -> None:
        if not self._experiment_ids:
            return
        text = self.filter_edit.text().strip()
        problem = check_search_filter(text, self._known_columns)
        if problem is not None:
            # Nothing is sent: the server would refuse it, in less helpful words.
            self.banner.show_error(
                f"Could not load the runs: the server filter has a mistake. {problem.describe()}"
            )
            self.mark_ready()
            return
        self.banner.hide()
        self.load_runs(self._experiment_ids, text)

    # -- quick filter ------------------------------------------------------------------------
    def _on_quick_filter_edit_text_changed(self, _: str) -> None:
        self._quick_timer.start()

    def apply_quick_filter(self) -> None:
        """Filter the loaded runs with the quick filter's text, now (typing waits a moment)."""
        self._quick_timer.stop()
        text = self.quick_filter_edit.text()
        self._save_quick_filter(text)
        if not text.strip():
            self._quick_filter = None
            self.runs_model.set_row_mask(None)
            self._update_quick_filter_note()
            if self.group_bar.mode != FLAT:
                self._arrange_tree()
            self.quick_filter_applied.emit(self.runs_model.rowCount(), self.runs_model.total_rows)
            return
        try:
            quick = compile_quick_filter(text, self._known_columns or ["run_name", "run_id"])
            mask = quick.mask(self._prepared_frame()) if self.runs_model.total_rows else None
        except QuickFilterError as error:
            self.quick_filter_box.show_problem(error.describe())
            return  # the table keeps the last filter that worked
        self._quick_filter = quick
        if mask is not None:
            self.runs_model.set_row_mask(mask)
        self._update_quick_filter_note()
        if self.group_bar.mode != FLAT:
            self._arrange_tree()
        self.quick_filter_applied.emit(self.runs_model.rowCount(), self.runs_model.total_rows)

    def _prepared_frame(self) -> PreparedFrame:
        if self._prepared is None:
            self._prepared = PreparedFrame(self.runs_frame)
        return self._prepared

    def _quick_mask_of(self, page: pd.DataFrame) -> np.ndarray | None:
        """The quick filter's mask over a new page (None: no filter, every row shows)."""
        if self._quick_filter is None or self._quick_filter.is_empty:
            return None
        try:
            return self._quick_filter.mask(page)
        except QuickFilterError:
            return None

    def _update_quick_filter_note(self) -> None:
        if self.quick_filter_box.has_problem and self.quick_filter_edit.text().strip():
            return
        if self._quick_filter is None or not self.runs_model.is_filtered:
            self.quick_filter_box.show_note("")
            return
        shown, total = self.runs_model.rowCount(), self.runs_model.total_rows
        pinned = len(self.runs_model.pinned_run_ids)
        note = f"{shown:,} of {total:,} loaded runs shown"
        if pinned:
            note += " (pinned runs always show)"
        self.quick_filter_box.show_note(note + ".")

    # -- columns -----------------------------------------------------------------------------
    def open_column_chooser(self) -> ColumnChooser:
        """Show the column chooser over every loaded column (built once, kept)."""
        if self.chooser is None:
            self.chooser = ColumnChooser(self)
            self.chooser.columns_chosen.connect(self.set_columns)
            self.chooser.reset_requested.connect(self._on_chooser_reset_requested)
        self.chooser.set_columns(self._known_columns, self.runs_model.column_names)
        self.chooser.show()
        self.chooser.raise_()
        self.chooser.search_edit.setFocus()
        return self.chooser

    def set_columns(self, names: list[str], remember: bool = True) -> None:
        """Show these columns in this order (data for new ones comes from the full frame)."""
        selected = self.selected_run_ids()
        self.runs_model.set_columns(names, self.runs_frame)
        sort = self.runs_model.sort_column
        self.runs_table.horizontalHeader().setSortIndicator(
            sort, self.runs_table.horizontalHeader().sortIndicatorOrder()
        )
        self._fit_columns()
        self._select_runs(selected)
        if self.group_bar.mode != FLAT:
            self._arrange_tree()
        if remember and len(self._experiment_ids) == 1:
            location = self._location()
            self.table_settings.set_columns(location, self._experiment_ids[0], names)

    def _on_chooser_reset_requested(self) -> None:
        if len(self._experiment_ids) == 1:
            self.table_settings.forget_columns(self._location(), self._experiment_ids[0])
        defaults = default_columns(self.runs_frame) if len(self.runs_frame) else []
        self.set_columns(defaults, remember=False)
        if self.chooser is not None:
            self.chooser.set_columns(self._known_columns, self.runs_model.column_names)

    def _on_runs_header_section_moved(self, *_: Any) -> None:
        # The order is the model's: take the dragged order once the header is done moving.
        QTimer.singleShot(0, self._take_header_order)

    def _take_header_order(self) -> None:
        header = self.runs_table.horizontalHeader()
        names = self.runs_model.column_names
        order = sorted(range(len(names)), key=header.visualIndex)
        if order == list(range(len(names))):
            return
        for logical in range(header.count()):  # back to identity before the model reorders
            header.moveSection(header.visualIndex(logical), logical)
        self.set_columns([names[i] for i in order])

    def _fit_columns(self) -> None:
        """Size the columns to their first rows, within 70-260 pixels."""
        header = self.runs_table.horizontalHeader()
        header.setResizeContentsPrecision(200)
        for column in range(self.runs_model.columnCount()):
            self.runs_table.resizeColumnToContents(column)
            width = header.sectionSize(column)
            header.resizeSection(column, min(max(width + 12, 70), 260))

    # -- pins --------------------------------------------------------------------------------
    def set_pinned(self, run_ids: set[str]) -> None:
        """Pin exactly these runs (kept on top whatever the sort and filter), remembered."""
        self.runs_model.set_pinned(run_ids)
        if len(self._experiment_ids) == 1:
            self.table_settings.set_pinned(
                self._location(), self._experiment_ids[0], sorted(run_ids)
            )
        self._update_quick_filter_note()

    def pin_selected(self, pin: bool = True) -> None:
        pinned = self.runs_model.pinned_run_ids
        selected = set(self.selected_run_ids())
        self.set_pinned(pinned | selected if pin else pinned - selected)

    # -- copy, web UI, compare -----------------------------------------------------------------
    def copy_selection(self) -> str:
        """Copy the selected rows (shown columns, in screen order) as TSV with a header line."""
        rows = self._selected_rows()
        if not rows:
            return ""
        header = self.runs_table.horizontalHeader()
        columns = sorted(
            (c for c in range(self.runs_model.columnCount()) if not header.isSectionHidden(c)),
            key=header.visualIndex,
        )
        text = self.runs_model.rows_as_tsv(rows, columns)
        QGuiApplication.clipboard().setText(text)
        self.status_label.setText(f"Copied {len(rows):,} rows as tab-separated text.")
        return text

    def copy_run_ids(self, rows: list[int] | None = None) -> str:
        ids = [self.runs_model.run_id(row) for row in (rows or self._selected_rows())]
        text = "\n".join(ids)
        if text:
            QGuiApplication.clipboard().setText(text)
        return text

    def web_url(self, row: int) -> str | None:
        """The run's page in the tracking server's web UI, or None for a local store."""
        workspace = self.ctx.workspace
        if workspace is None or not has_web_ui(workspace.kind, workspace.location):
            return None
        run_id = self.runs_model.run_id(row)
        experiment_id = self._experiment_of(row)
        return web_ui_run_url(workspace.location, experiment_id, run_id)

    def open_in_web_ui(self, row: int) -> bool:
        url = self.web_url(row)
        if url is None:
            return False
        if not QDesktopServices.openUrl(QUrl(url)):
            self.banner.show_error(
                f"Could not open {url}: no web browser answered. Copy the address instead."
            )
            return False
        return True

    def _experiment_of(self, row: int) -> str:
        frame = self.runs_frame
        stored = self.runs_model.stored_row(row)
        if "experiment_id" in frame.columns and stored < len(frame):
            value = frame["experiment_id"].iloc[stored]
            if isinstance(value, str) and value:
                return value
        return self._experiment_ids[0] if self._experiment_ids else "0"

    def _on_web_button_clicked(self) -> None:
        ids = self.selected_run_ids()
        row = self.runs_model.row_of_run(ids[0]) if len(ids) == 1 else -1
        if row >= 0:
            self.open_in_web_ui(row)

    def _update_web_button(self) -> None:
        workspace = self.ctx.workspace
        remote = workspace is not None and has_web_ui(workspace.kind, workspace.location)
        ids = self.selected_run_ids() if remote else []
        rows = [self.runs_model.row_of_run(ids[0])] if len(ids) == 1 else []
        rows = [row for row in rows if row >= 0]
        self.web_button.setEnabled(remote and len(rows) == 1)
        if not remote:
            self.web_button.setToolTip(
                "This workspace is a local MLflow store: it has no web UI to open. "
                "Connect to a tracking server to open its runs in the browser."
            )
        elif len(rows) != 1:
            self.web_button.setToolTip("Select one run to open its page in MLflow's web UI")
        else:
            self.web_button.setToolTip(f"Open {self.web_url(rows[0])}")

    def _on_runs_selection_changed(self, *_: Any) -> None:
        if self._swapping:
            return  # the refreshed rows come in; the same runs are selected again after
        self.compare_button.setEnabled(len(self.selected_run_ids()) >= 2)
        self._update_web_button()
        self._update_detail()

    def _on_compare_button_clicked(self) -> None:
        self.compare_requested.emit(self.selected_run_ids())

    def _selected_rows(self) -> list[int]:
        return sorted(index.row() for index in self.runs_table.selectionModel().selectedRows())

    def selected_run_ids(self) -> list[str]:
        """The selected runs' ids, in table order (in the tree: a group row stands for its
        runs)."""
        if self._tree_shown():
            ids: list[str] = []
            for index in self.runs_tree.selectionModel().selectedRows():
                run_id = self.tree_model.run_id(index)
                ids.extend([run_id] if run_id else self.tree_model.group_run_ids(index))
            return list(dict.fromkeys(ids))
        return [
            str(self.runs_model.index(row, 0).data(RUN_ID_ROLE)) for row in self._selected_rows()
        ]

    def _select_rows(self, rows: list[int]) -> None:
        """Select these table rows, the first one current."""
        self._select_runs([self.runs_model.run_id(row) for row in rows])
        if rows and self.runs_model.columnCount():
            self.runs_table.selectionModel().setCurrentIndex(
                self.runs_model.index(rows[0], 0), QItemSelectionModel.SelectionFlag.NoUpdate
            )

    def _select_runs(self, run_ids: list[str]) -> None:
        if not run_ids or self.runs_model.columnCount() == 0:
            return
        selection = QItemSelection()
        last = self.runs_model.columnCount() - 1
        for run_id in run_ids:
            row = self.runs_model.row_of_run(run_id)
            if row >= 0:
                selection.select(self.runs_model.index(row, 0), self.runs_model.index(row, last))
        self.runs_table.selectionModel().select(
            selection, QItemSelectionModel.SelectionFlag.ClearAndSelect
        )

    # -- context menu ------------------------------------------------------------------------
    def _on_runs_table_context_menu(self, position: QPoint) -> None:
        menu = self.build_context_menu(self.runs_table.indexAt(position))
        menu.exec(self.runs_table.viewport().mapToGlobal(position))

    def build_context_menu(self, index: QModelIndex) -> QMenu:
        """The table's right-click menu for the cell at `index` (and the selection)."""
        menu = QMenu(self)
        menu.setToolTipsVisible(True)
        if index.isValid() and index.row() not in self._selected_rows():
            self.runs_table.selectionModel().setCurrentIndex(
                index,
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )
        rows = self._selected_rows()
        count = len(rows)
        if count:
            all_pinned = all(self.runs_model.is_pinned(row) for row in rows)
            pin = menu.addAction(
                ("Unpin" if all_pinned else "Pin") + (f" {count} runs" if count > 1 else " run")
            )
            pin.setObjectName("pinAction")
            pin.triggered.connect(lambda: self.pin_selected(not all_pinned))
            menu.addSeparator()
            copy = menu.addAction(f"Copy {count} row{'s' if count > 1 else ''} as TSV")
            copy.setObjectName("copyAction")
            copy.setShortcut(QKeySequence(QKeySequence.StandardKey.Copy))
            copy.triggered.connect(self.copy_selection)
            copy_ids = menu.addAction("Copy run ID" if count == 1 else f"Copy {count} run IDs")
            copy_ids.setObjectName("copyRunIdAction")
            copy_ids.triggered.connect(lambda: self.copy_run_ids(rows))
            web = menu.addAction("Open in web UI")
            web.setObjectName("webAction")
            url = self.web_url(rows[0])
            web.setEnabled(url is not None and count == 1)
            web.setToolTip(url or self.web_button.toolTip())
            web.triggered.connect(lambda: self.open_in_web_ui(rows[0]))
            if count >= 2:
                compare = menu.addAction(f"Compare {count} runs")
                compare.triggered.connect(self._on_compare_button_clicked)
        if index.isValid():
            self._add_column_actions(menu, index)
        menu.addSeparator()
        choose = menu.addAction("Choose columns…")
        choose.triggered.connect(self.open_column_chooser)
        return menu

    def _add_column_actions(self, menu: QMenu, index: QModelIndex) -> None:
        name = self.runs_model.column_name(index.column())
        label = header_label(name)
        value = self.runs_model.value(index.row(), index.column())
        menu.addSeparator()
        if isinstance(value, str) and value and name != "run_id":
            quoted = value.replace("\\", "\\\\").replace("'", "\\'")
            keep = menu.addAction(f"Quick filter: {label} = {_ellipsis(value)}")
            keep.setObjectName("filterOnValueAction")
            keep.triggered.connect(partial(self._add_quick_condition, f"{name} = '{quoted}'"))
        hide = menu.addAction(f"Hide column {label}")
        hide.setObjectName("hideColumnAction")
        hide.triggered.connect(
            lambda: self.set_columns([n for n in self.runs_model.column_names if n != name])
        )

    def _add_quick_condition(self, condition: str) -> None:
        text = self.quick_filter_edit.text().strip()
        self.quick_filter_edit.setText(f"({text}) and {condition}" if text else condition)
        self.apply_quick_filter()

    # -- remembered per experiment -------------------------------------------------------------
    def _location(self) -> str:
        return self.ctx.workspace.location if self.ctx.workspace is not None else ""

    def _saved_columns(self) -> list[str] | None:
        if len(self._experiment_ids) != 1:
            return None
        return self.table_settings.columns(self._location(), self._experiment_ids[0])

    def _saved_pins(self) -> list[str]:
        if len(self._experiment_ids) != 1:
            return []
        return self.table_settings.pinned(self._location(), self._experiment_ids[0])

    def _restore_quick_filter(self, experiment_id: str) -> None:
        """The experiment's last quick filter, applied once its first runs are in."""
        text = self.table_settings.quick_filter(self._location(), experiment_id)
        self._quick_filter = None
        self._quick_timer.stop()
        self.quick_filter_edit.blockSignals(True)
        self.quick_filter_edit.setText(text)
        self.quick_filter_edit.setCursorPosition(0)  # show how it starts
        self.quick_filter_edit.blockSignals(False)
        self.quick_filter_box.show_note("")

    def _save_quick_filter(self, text: str) -> None:
        if len(self._experiment_ids) == 1:
            self.table_settings.set_quick_filter(self._location(), self._experiment_ids[0], text)


def _changes(result: RefreshResult) -> str:
    """ "2 new, 1 changed" (and removed ones, when any) after a background refresh."""
    text = f"{result.new_runs:,} new, {result.changed_runs:,} changed"
    if result.removed_runs:
        text += f", {result.removed_runs:,} removed"
    return text


def _ellipsis(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
