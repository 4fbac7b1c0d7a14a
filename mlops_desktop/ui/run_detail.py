"""The run detail panel: one run's overview, parameters, metrics, tags, system metrics, artifacts.

`RunDetailPanel.show_run(run_id)` loads the run with `services.run_detail.load_run_detail`
on a worker (a new `show_run` cancels the previous load) and fills the tabs; `detail_ready`
says when a run is shown. The panel holds no business rule: what a run's source, system
metrics or models are is decided by the service; the panel lays it out. It is embedded under
the runs table of the Experiments view, and works on any workspace the context holds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from mlops_desktop.services.artifacts import short_run_id
from mlops_desktop.services.run_detail import RunDetail, Sparkline, load_run_detail
from mlops_desktop.services.workspace import Workspace
from mlops_desktop.ui.artifact_preview import ArtifactBrowser
from mlops_desktop.ui.context import UiContext
from mlops_desktop.ui.format import format_duration, format_time_ms
from mlops_desktop.ui.runs_table_model import STATUS_COLOURS
from mlops_desktop.ui.sparkline import SPARKLINE_ROLE, SparklineDelegate
from mlops_desktop.ui.tasks import Task, TaskRunner
from mlops_desktop.ui.views.base import describe_error
from mlops_desktop.ui.widgets import EmptyState, TonePanel, plain

_INDEX = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
EMPTY_TITLE = "Select a run to see its details"
EMPTY_TEXT = (
    "Its parameters, metrics with their history, tags, dataset inputs, source, models and "
    "artifacts appear here."
)


def format_number(value: float) -> str:
    """A metric value as people read it: six significant digits, no exponent when avoidable."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    return f"{value:.6g}"


# -- table models ---------------------------------------------------------------------------


class PairsModel(QAbstractTableModel):
    """Key/value rows (params, tags): a run has tens to a few thousand, a list is enough."""

    def __init__(self, headers: tuple[str, str], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._headers = headers
        self._rows: Sequence[tuple[str, str]] = ()

    def set_rows(self, rows: Sequence[tuple[str, str]]) -> None:
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def rowCount(self, parent: _INDEX = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _INDEX = _ROOT) -> int:
        return 0 if parent.isValid() else 2

    def data(self, index: _INDEX, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self._rows[index.row()][index.column()]
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._headers[section]
        return None


class MetricsModel(QAbstractTableModel):
    """Metrics with their latest value, range, number of points and a sparkline."""

    HEADERS = ("Metric", "Latest", "Min", "Max", "Points", "History")
    HISTORY_COLUMN = 5

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[tuple[str, float, Sparkline | None]] = []

    def set_metrics(
        self, metrics: Sequence[tuple[str, float]], sparklines: Mapping[str, Sparkline]
    ) -> None:
        self.beginResetModel()
        self._rows = [(key, value, sparklines.get(key)) for key, value in metrics]
        self.endResetModel()

    def rowCount(self, parent: _INDEX = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _INDEX = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def data(self, index: _INDEX, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        key, latest, spark = self._rows[index.row()]
        column = index.column()
        if role == SPARKLINE_ROLE and column == self.HISTORY_COLUMN:
            return spark
        if role == Qt.ItemDataRole.TextAlignmentRole and 0 < column < self.HISTORY_COLUMN:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and column == self.HISTORY_COLUMN and spark:
            return (
                f"{key}: {spark.points:,} points from step {int(spark.steps[0])} to "
                f"{int(spark.steps[-1])}, between {format_number(spark.minimum)} and "
                f"{format_number(spark.maximum)}"
            )
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        if column == 0:
            return key
        if column == 1:
            return format_number(latest)
        if spark is None or column == self.HISTORY_COLUMN:
            return None
        if column == 2:
            return format_number(spark.minimum)
        if column == 3:
            return format_number(spark.maximum)
        return f"{spark.points:,}"

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None


class SearchableTable(QWidget):
    """A table with a search box that keeps the rows whose key or value contains the text."""

    def __init__(
        self, model: QAbstractTableModel, placeholder: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.source = model
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(model)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(-1)
        self.search = QLineEdit()
        self.search.setPlaceholderText(placeholder)
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.proxy.setFilterFixedString)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(26)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addWidget(self.table, 1)

    def fit_columns(self, widths: Sequence[int] = ()) -> None:
        self.table.resizeColumnsToContents()
        for column, width in enumerate(widths):
            self.table.setColumnWidth(column, max(self.table.columnWidth(column), width))
        for column in range(self.source.columnCount() - 1):
            self.table.setColumnWidth(column, min(self.table.columnWidth(column), 420))


class MetricsTab(QStackedWidget):
    """Metrics with sparklines, or a sentence when the run has none."""

    def __init__(self, empty_title: str, empty_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = MetricsModel(self)
        self.table = SearchableTable(self.model, "Search metrics")
        self.table.table.setItemDelegateForColumn(MetricsModel.HISTORY_COLUMN, SparklineDelegate())
        self.table.table.setSortingEnabled(False)
        self.empty = EmptyState(empty_title, empty_text)
        self.addWidget(self.table)
        self.addWidget(self.empty)

    def set_metrics(
        self, metrics: Sequence[tuple[str, float]], sparklines: Mapping[str, Sparkline]
    ) -> None:
        self.model.set_metrics(metrics, sparklines)
        self.table.fit_columns()
        self.table.table.setColumnWidth(0, max(self.table.table.columnWidth(0), 180))
        self.setCurrentWidget(self.table if metrics else self.empty)


# -- the panel ------------------------------------------------------------------------------


class RunDetailPanel(QWidget):
    """Everything about one run, loaded on a worker; "Select a run…" when none is chosen."""

    detail_ready = Signal(str)  #: the id of the run whose detail is now shown
    detail_failed = Signal(str)  #: a sentence saying why the selected run could not be shown

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runDetail")
        self.ctx = ctx
        self.tasks = TaskRunner(ctx.activity, self)
        self.detail: RunDetail | None = None
        self._run_id = ""
        self._workspace: Workspace | None = None
        self._load_task: Task | None = None

        self.empty = EmptyState(EMPTY_TITLE, EMPTY_TEXT)
        self.loading = self._build_loading()
        self.failure = EmptyState("The run could not be shown", "", action="Retry")
        self.failure.action_requested.connect(self._on_failure_retry)
        self.content = self._build_content()
        self.stack = QStackedWidget()
        for page in (self.empty, self.loading, self.failure, self.content):
            self.stack.addWidget(page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        self.stack.setCurrentWidget(self.empty)
        ctx.workspace_changed.connect(self._on_ctx_workspace_changed)

    # -- what the view calls ----------------------------------------------------------------

    @property
    def run_id(self) -> str:
        """The run shown or being loaded ("" when none)."""
        return self._run_id

    def show_run(self, run_id: str) -> None:
        """Load and show run `run_id`, replacing (and cancelling) any earlier load."""
        run_id = run_id.strip()
        if not run_id:
            self.clear()
            return
        workspace = self.ctx.workspace
        self._cancel_load()
        self._run_id = run_id
        if workspace is None:
            self._show_failure("No workspace is open: connect to one in Connections.")
            return
        self._workspace = workspace
        self.loading_label.setText(f"Loading run {short_run_id(run_id)}…")
        self.loading_progress.setRange(0, 0)
        self.stack.setCurrentWidget(self.loading)
        self._load_task = self.tasks.run(
            load_run_detail,
            workspace.tracking,
            run_id,
            on_done=partial(self._on_detail_loaded, workspace, run_id),
            on_error=partial(self._on_detail_failed, run_id),
            on_progress=self._on_detail_progress,
            description=f"Loading run {short_run_id(run_id)}",
            slot="run-detail",
        )

    def clear(self) -> None:
        """Show the empty state; a load in progress is cancelled (a download goes on)."""
        self._cancel_load()
        self._run_id = ""
        self.detail = None
        self.artifacts.clear()
        self.stack.setCurrentWidget(self.empty)

    def shutdown(self) -> None:
        """Cancel every load and download the panel started (call when its view closes)."""
        self.tasks.shutdown()

    # -- loading ----------------------------------------------------------------------------

    def _on_detail_progress(self, fraction: float, message: str) -> None:
        if fraction >= 0:
            self.loading_progress.setRange(0, 1000)
            self.loading_progress.setValue(int(fraction * 1000))
        if message:
            self.loading_label.setText(message)

    def _on_detail_loaded(self, workspace: Workspace, run_id: str, detail: RunDetail) -> None:
        if run_id != self._run_id:
            return  # the user moved on to another run
        self._load_task = None
        self.detail = detail
        self._fill(workspace, detail)
        self.stack.setCurrentWidget(self.content)
        self.detail_ready.emit(run_id)

    def _on_detail_failed(self, run_id: str, error: Exception) -> None:
        if run_id != self._run_id:
            return
        self._load_task = None
        self._show_failure(describe_error(error, f"load run {short_run_id(run_id)}"))

    def _show_failure(self, sentence: str) -> None:
        self.detail = None
        self.failure.set_text("The run could not be shown", sentence)
        self.stack.setCurrentWidget(self.failure)
        self.detail_failed.emit(sentence)

    def _on_failure_retry(self) -> None:
        if self._run_id:
            self.show_run(self._run_id)

    def _cancel_load(self) -> None:
        if self._load_task is not None and self._load_task.running:
            self._load_task.cancel()
        self._load_task = None

    def _on_ctx_workspace_changed(self, workspace: Workspace) -> None:
        if workspace is not self._workspace:
            self._workspace = None
            self.clear()

    # -- building ---------------------------------------------------------------------------

    def _build_loading(self) -> QWidget:
        page = QWidget()
        self.loading_label = plain("Loading…")
        self.loading_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.loading_progress = QProgressBar()
        self.loading_progress.setTextVisible(False)
        self.loading_progress.setMaximumWidth(320)
        layout = QVBoxLayout(page)
        layout.addStretch(1)
        layout.addWidget(self.loading_label)
        layout.addWidget(self.loading_progress, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)
        return page

    def _build_content(self) -> QWidget:
        page = QWidget()
        self.title = plain("")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.title.setFont(font)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_chip = plain("")
        self.run_id_label = plain("")
        self.run_id_label.setObjectName("subtitle")
        self.run_id_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        copy_id = QPushButton("Copy ID")
        copy_id.setToolTip("Copy the run ID to the clipboard")
        copy_id.clicked.connect(lambda: self._copy(self._run_id))
        header = QHBoxLayout()
        header.addWidget(self.title)
        header.addWidget(self.status_chip)
        header.addStretch(1)
        header.addWidget(self.run_id_label)
        header.addWidget(copy_id)
        self.problems = TonePanel("runDetailProblems")
        self.problems.hide()

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.overview = self._build_overview()
        self.params = SearchableTable(PairsModel(("Parameter", "Value")), "Search parameters")
        self.metrics = MetricsTab(
            "This run logged no metrics", "Metrics logged with mlflow.log_metric appear here."
        )
        self.tags = SearchableTable(PairsModel(("Tag", "Value")), "Search tags")
        self.mlflow_tags = SearchableTable(
            PairsModel(("MLflow tag", "Value")), "Search MLflow's own tags"
        )
        tags_page = QWidget()
        tags_layout = QVBoxLayout(tags_page)
        tags_layout.setContentsMargins(0, 6, 0, 0)
        tags_layout.addWidget(self.tags, 1)
        tags_layout.addWidget(plain("MLflow's own tags (mlflow.*)"))
        tags_layout.addWidget(self.mlflow_tags, 1)
        self.system_metrics = MetricsTab(
            "This run logged no system metrics",
            "MLflow logs CPU, memory, disk and GPU use as system/… metrics when a run starts "
            "with log_system_metrics=True (or MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING=true).",
        )
        self.artifacts = ArtifactBrowser(self.ctx, self.tasks)
        for widget, title in (
            (self.overview, "Overview"),
            (self.params, "Parameters"),
            (self.metrics, "Metrics"),
            (tags_page, "Tags"),
            (self.system_metrics, "System metrics"),
            (self.artifacts, "Artifacts"),
        ):
            self.tabs.addTab(widget, title)

        layout = QVBoxLayout(page)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.addLayout(header)
        layout.addWidget(self.problems)
        layout.addWidget(self.tabs, 1)
        return page

    def _build_overview(self) -> QWidget:
        self.fields: dict[str, QLabel] = {}
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for name in (
            "Status",
            "Started",
            "Ended",
            "Duration",
            "User",
            "Source",
            "Entry point",
            "Git commit",
            "Branch",
            "Repository",
            "Parent run",
            "Experiment",
            "Artifact location",
            "Description",
        ):
            if name == "Git commit":
                form.addRow(name, self._build_commit_row())
                continue
            label = plain("")
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.fields[name] = label
            form.addRow(name, label)
        self.inputs = self._small_table(("Dataset", "Digest", "Source type", "Source", "Context"))
        self.inputs_empty = plain("No dataset inputs were logged.")
        self.models = self._small_table(("Model", "From", "Flavors / type", "Status", "Model ID"))
        self.models_empty = plain("No models were logged.")
        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.addLayout(form)
        layout.addWidget(self._heading("Dataset inputs"))
        layout.addWidget(self.inputs)
        layout.addWidget(self.inputs_empty)
        layout.addWidget(self._heading("Models"))
        layout.addWidget(self.models)
        layout.addWidget(self.models_empty)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(inner)
        return scroll

    def _build_commit_row(self) -> QWidget:
        row = QWidget()
        self.commit = QLineEdit()
        self.commit.setReadOnly(True)
        self.commit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.commit.setFrame(False)
        self.copy_commit = QPushButton("Copy")
        self.copy_commit.setToolTip("Copy the git commit to the clipboard")
        self.copy_commit.clicked.connect(lambda: self._copy(self.commit.text()))
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.commit, 1)
        layout.addWidget(self.copy_commit)
        return row

    @staticmethod
    def _heading(text: str) -> QLabel:
        label = plain(text)
        font = label.font()
        font.setBold(True)
        label.setFont(font)
        label.setContentsMargins(0, 10, 0, 0)
        return label

    @staticmethod
    def _small_table(headers: tuple[str, ...]) -> QTableWidget:
        table = QTableWidget(0, len(headers))
        table.setHorizontalHeaderLabels(list(headers))
        table.verticalHeader().hide()
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.horizontalHeader().setStretchLastSection(True)
        table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        return table

    # -- filling ----------------------------------------------------------------------------

    def _fill(self, workspace: Workspace, detail: RunDetail) -> None:
        run = detail.run
        self.title.setText(detail.name)
        self._style_status(detail.status.value)
        self.run_id_label.setText(run.run_id)
        if detail.problems:
            self.problems.show_text(
                "warning", "Part of this run could not be read", " ".join(detail.problems)
            )
        else:
            self.problems.hide()
        self._fill_overview(detail)
        params_model = self.params.source
        assert isinstance(params_model, PairsModel)
        params_model.set_rows(detail.params)
        self.params.fit_columns((180,))
        self.metrics.set_metrics(detail.metrics, detail.sparklines)
        for table, rows in ((self.tags, detail.user_tags), (self.mlflow_tags, detail.system_tags)):
            model = table.source
            assert isinstance(model, PairsModel)
            model.set_rows(rows)
            table.fit_columns((180,))
        self.system_metrics.set_metrics(detail.system_metrics, detail.sparklines)
        self.artifacts.set_run(workspace.tracking, run.run_id, detail.artifacts)
        counts = (
            None,
            len(detail.params),
            len(detail.metrics),
            len(detail.user_tags),
            len(detail.system_metrics),
            len(detail.artifacts.files),
        )
        for index, count in enumerate(counts):
            title = self.tabs.tabText(index).split(" (")[0]
            self.tabs.setTabText(index, title if count is None else f"{title} ({count:,})")

    def _fill_overview(self, detail: RunDetail) -> None:
        run, source = detail.run, detail.source
        parent = ""
        if detail.parent_run_id:
            parent = (
                f"{detail.parent_run_name} ({detail.parent_run_id})"
                if detail.parent_run_name
                else detail.parent_run_id
            )
        values = {
            "Status": detail.status.value.capitalize(),
            "Started": format_time_ms(run.start_time_ms),
            "Ended": format_time_ms(run.end_time_ms) if run.end_time_ms else "still running",
            "Duration": format_duration(detail.duration_s),
            "User": detail.user or "–",
            "Source": " · ".join(v for v in (source.name, source.type.lower()) if v) or "–",
            "Entry point": source.entry_point or "–",
            "Branch": source.git_branch or "–",
            "Repository": source.git_repo or "–",
            "Parent run": parent or "none (a top-level run)",
            "Experiment": run.experiment_id,
            "Artifact location": run.artifact_uri or "–",
            "Description": detail.description or "–",
        }
        for name, value in values.items():
            self.fields[name].setText(value)
        self.commit.setText(source.git_commit)
        self.commit.setPlaceholderText("not recorded")
        self.copy_commit.setEnabled(bool(source.git_commit))
        self._fill_table(
            self.inputs,
            self.inputs_empty,
            [(d.name, d.digest, d.source_type, d.source, d.context) for d in detail.inputs],
        )
        self._fill_table(
            self.models,
            self.models_empty,
            [
                (
                    m.name,
                    f"{m.origin}: {m.location}" if m.location else m.origin,
                    ", ".join(m.flavors) or m.model_type,
                    m.status,
                    m.model_id,
                )
                for m in detail.models
            ],
        )

    @staticmethod
    def _fill_table(table: QTableWidget, empty: QLabel, rows: list[tuple[str, ...]]) -> None:
        table.setRowCount(len(rows))
        for row, values in enumerate(rows):
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setToolTip(value)
                table.setItem(row, column, item)
        table.resizeColumnsToContents()
        for column in range(table.columnCount() - 1):
            table.setColumnWidth(column, min(table.columnWidth(column), 360))
        height = table.horizontalHeader().height() + sum(
            table.rowHeight(r) for r in range(len(rows))
        )
        table.setFixedHeight(height + 2 * table.frameWidth() + 2)
        table.setVisible(bool(rows))
        empty.setVisible(not rows)

    def _style_status(self, status: str) -> None:
        colour = QColor(STATUS_COLOURS.get(status, "#9aa0a8"))
        self.status_chip.setText(status.capitalize())
        self.status_chip.setStyleSheet(
            f"QLabel {{ color: white; background: {colour.name()}; border-radius: 8px;"
            " padding: 1px 8px; font-weight: bold; }"
        )

    @staticmethod
    def _copy(text: str) -> None:
        if text:
            QGuiApplication.clipboard().setText(text)
