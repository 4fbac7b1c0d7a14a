"""The main window: navigation rail, lazily built views, menus, status bar, saved state."""

from __future__ import annotations

import importlib
import platform
from dataclasses import dataclass
from importlib import metadata

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal, qVersion
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QWidget,
)

from mlops_desktop import APP_TITLE, __version__
from mlops_desktop.services.workspace import Workspace, open_demo_workspace
from mlops_desktop.ui import theme
from mlops_desktop.ui.context import DEMO_COLOUR, UiContext, workspace_key
from mlops_desktop.ui.tasks import TaskRunner
from mlops_desktop.ui.views.base import View, describe_error
from mlops_desktop.ui.widgets import colour_dot


@dataclass(frozen=True)
class NavEntry:
    view_id: str
    label: str
    module: str
    class_name: str
    tooltip: str


NAVIGATION = (
    NavEntry(
        "connections",
        "Connections",
        "connections_view",
        "ConnectionsView",
        "Tracking servers, clusters and metrics stores",
    ),
    NavEntry(
        "experiments",
        "Experiments",
        "experiments_view",
        "ExperimentsView",
        "Browse experiments and runs",
    ),
    NavEntry("compare", "Compare", "compare_view", "CompareView", "Compare runs side by side"),
    NavEntry(
        "models",
        "Models",
        "models_view",
        "ModelsView",
        "Registered models, versions, aliases and promotion requests",
    ),
    NavEntry(
        "monitoring",
        "Monitoring",
        "monitoring_view",
        "MonitoringView",
        "Throughput, errors, latency and drift in production",
    ),
    NavEntry("jobs", "Jobs", "jobs_view", "JobsView", "Retraining jobs"),
    NavEntry(
        "bundles",
        "Bundles",
        "bundles_view",
        "BundlesView",
        "Offline run bundles: export, open, verify",
    ),
    NavEntry(
        "audit", "Audit", "audit_view", "AuditView", "The tamper-evident history of every promotion"
    ),
)
VIEW_IDS = tuple(entry.view_id for entry in NAVIGATION)


class MainWindow(QMainWindow):
    view_changed = Signal(str)  #: the view id now shown

    def __init__(self, ctx: UiContext, persist: bool = True) -> None:
        super().__init__()
        self.ctx = ctx
        self._persist = persist
        self._settings = QSettings(str(ctx.paths.settings_file), QSettings.Format.IniFormat)
        self._views: dict[str, View] = {}
        self._tasks = TaskRunner(ctx.activity, self)
        self.setWindowTitle(APP_TITLE)
        self.setMinimumSize(720, 520)

        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.setFixedWidth(176)
        self.nav.setSpacing(2)
        self.nav.setStyleSheet(
            "QListWidget#navigation { border: none; padding-top: 10px; outline: 0;"
            " background: palette(base); font-size: 11pt; }"
            " QListWidget#navigation::item { padding: 9px 14px; border-radius: 6px;"
            " margin: 0 8px; }"
            " QListWidget#navigation::item:selected { background: palette(highlight);"
            " color: palette(highlighted-text); border: none; }"
            " QListWidget#navigation::item:hover:!selected { background: palette(alternate-base); }"
        )
        for number, entry in enumerate(NAVIGATION, start=1):
            item = QListWidgetItem(entry.label)
            item.setData(Qt.ItemDataRole.UserRole, entry.view_id)
            item.setToolTip(f"{entry.tooltip} (Ctrl+{number})")
            self.nav.addItem(item)
        self.stack = QStackedWidget()
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.nav)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self._build_status_bar()
        self._build_menus()
        self._build_connection_switcher()
        self.nav.currentRowChanged.connect(self._on_nav_row_changed)
        ctx.activity.changed.connect(self._on_activity_changed)
        ctx.workspace_changed.connect(self._on_ctx_workspace_changed)
        ctx.workspace_failed.connect(self._on_ctx_workspace_failed)
        ctx.open_workspaces_changed.connect(self._on_ctx_open_workspaces_changed)
        self._restore_state()

    # -- construction ----------------------------------------------------------------------
    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.activity_label = QLabel()
        self.activity_progress = QProgressBar()
        self.activity_progress.setFixedWidth(160)
        self.activity_progress.setTextVisible(False)
        self.activity_cancel = QPushButton("Cancel")
        self.activity_cancel.setFlat(True)
        self.activity_cancel.clicked.connect(self.ctx.activity.cancel_all)
        for widget in (self.activity_label, self.activity_progress, self.activity_cancel):
            bar.addWidget(widget)
        self.connection_label = QLabel("Opening workspace…")
        self.connection_label.setTextFormat(Qt.TextFormat.PlainText)
        self.connection_label.setObjectName("connectionLabel")
        bar.addPermanentWidget(self.connection_label)
        self._on_activity_changed()

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        open_bundle = file_menu.addAction("&Open bundle…")
        open_bundle.setShortcut(QKeySequence.StandardKey.Open)
        open_bundle.triggered.connect(self._on_open_bundle_triggered)
        file_menu.addSeparator()
        quit_action = file_menu.addAction("&Quit")
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        quit_action.triggered.connect(self.close)

        view_menu = self.menuBar().addMenu("&View")
        for number, entry in enumerate(NAVIGATION, start=1):
            action = view_menu.addAction(entry.label)
            action.setShortcut(QKeySequence(f"Ctrl+{number}"))
            action.triggered.connect(lambda _=False, v=entry.view_id: self.show_view(v))
        view_menu.addSeparator()
        refresh = view_menu.addAction("&Refresh")
        refresh.setShortcut(QKeySequence.StandardKey.Refresh)
        refresh.triggered.connect(self._on_refresh_triggered)
        theme_menu = view_menu.addMenu("&Theme")
        self.theme_actions = QActionGroup(self)
        for name in theme.THEMES:
            action = theme_menu.addAction(name.capitalize())
            action.setCheckable(True)
            action.setData(name)
            self.theme_actions.addAction(action)
        self.theme_actions.triggered.connect(lambda action: self.set_theme(str(action.data())))

        help_menu = self.menuBar().addMenu("&Help")
        about = help_menu.addAction(f"&About {APP_TITLE}")
        about.setMenuRole(QAction.MenuRole.AboutRole)
        about.triggered.connect(self._on_about_triggered)

    def _build_connection_switcher(self) -> None:
        """The open workspaces, in their colours, at the top right: switching is instant."""
        self.connection_switcher = QComboBox()
        self.connection_switcher.setObjectName("connectionSwitcher")
        self.connection_switcher.setToolTip(
            "The connection every view shows; open more from Connections"
        )
        self.connection_switcher.setMinimumContentsLength(16)
        self.connection_switcher.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.connection_switcher.activated.connect(self._on_connection_switcher_activated)
        self.menuBar().setCornerWidget(self.connection_switcher, Qt.Corner.TopRightCorner)
        self._fill_connection_switcher()

    def _fill_connection_switcher(self) -> None:
        switcher = self.connection_switcher
        switcher.blockSignals(True)
        switcher.clear()
        for key, workspace in self.ctx.open_workspaces.items():
            switcher.addItem(colour_dot(workspace.colour or DEMO_COLOUR), workspace.label, key)
        if switcher.count() == 0:
            switcher.addItem("No connection")
        index = switcher.findData(self.ctx.active_key)
        switcher.setCurrentIndex(max(0, index))
        switcher.setEnabled(bool(self.ctx.open_workspaces))
        switcher.blockSignals(False)

    def _on_connection_switcher_activated(self, index: int) -> None:
        key = self.connection_switcher.itemData(index)
        if isinstance(key, str):
            self.ctx.switch_to(key)

    def _on_ctx_open_workspaces_changed(self) -> None:
        self._fill_connection_switcher()

    # -- views -----------------------------------------------------------------------------
    def view(self, view_id: str) -> View:
        """The view with this id, built on first use (its heavy imports happen then)."""
        if view_id not in self._views:
            entry = next(e for e in NAVIGATION if e.view_id == view_id)
            module = importlib.import_module(f"mlops_desktop.ui.views.{entry.module}")
            view: View = getattr(module, entry.class_name)(self.ctx)
            self._views[view_id] = view
            self.stack.addWidget(view)
            compare_requested = getattr(view, "compare_requested", None)
            if compare_requested is not None:
                compare_requested.connect(self._on_view_compare_requested)
            inbox_changed = getattr(view, "inbox_changed", None)
            if inbox_changed is not None:
                inbox_changed.connect(lambda count, v=view_id: self._set_nav_count(v, count))
            run_open_requested = getattr(view, "run_open_requested", None)
            if run_open_requested is not None:
                run_open_requested.connect(self._on_view_run_open_requested)
        return self._views[view_id]

    def _on_view_compare_requested(self, run_ids: list[str]) -> None:
        compare = self.show_view("compare")
        compare.compare(run_ids)  # type: ignore[attr-defined]

    def _set_nav_count(self, view_id: str, count: int) -> None:
        """ "Models (2)": how many requests await the user, on the navigation rail."""
        entry = NAVIGATION[VIEW_IDS.index(view_id)]
        item = self.nav.item(VIEW_IDS.index(view_id))
        item.setText(f"{entry.label} ({count})" if count else entry.label)

    def _on_view_run_open_requested(self, run_id: str) -> None:
        experiments = self.show_view("experiments")
        show_run = getattr(experiments, "show_run", None)
        if show_run is not None:
            show_run(run_id)
        else:
            self.statusBar().showMessage(f"Run {run_id}: find it in its experiment below.", 15000)

    def show_view(self, view_id: str) -> View:
        self.nav.setCurrentRow(VIEW_IDS.index(view_id))
        return self.view(view_id)

    @property
    def current_view_id(self) -> str:
        row = self.nav.currentRow()
        return VIEW_IDS[row] if row >= 0 else VIEW_IDS[0]

    def _on_nav_row_changed(self, row: int) -> None:
        if row < 0:
            return
        view = self.view(VIEW_IDS[row])
        self.stack.setCurrentWidget(view)
        view.activate()
        self.view_changed.emit(VIEW_IDS[row])

    # -- workspace -------------------------------------------------------------------------
    def open_default_workspace(self) -> None:
        """Open the demo workspace on a worker (seeding it on first start)."""
        self.connection_label.setText("Opening the demo workspace…")
        self._tasks.run(
            open_demo_workspace,
            self.ctx.paths,
            on_done=self.ctx.set_workspace,
            on_error=self._on_workspace_error,
            description="Opening the demo workspace",
            slot="workspace",
        )

    def _on_workspace_error(self, error: Exception) -> None:
        self.ctx.workspace_failed.emit(describe_error(error, "open the demo workspace"))

    def open_profile(self, name: str) -> None:
        """Open the connection profile called `name` (`--profile`) as the workspace."""
        self.connection_label.setText(f"Connecting to {name}…")
        self.view("connections").open_named(name)  # type: ignore[attr-defined]

    def _on_ctx_workspace_changed(self, workspace: Workspace) -> None:
        index = self.connection_switcher.findData(workspace_key(workspace))
        if index >= 0:
            self.connection_switcher.setCurrentIndex(index)
        suffix = " (read-only)" if workspace.read_only else ""
        self.connection_label.setText(f"● {workspace.label}{suffix} — {workspace.location}")
        self.connection_label.setToolTip(f"Active workspace: {workspace.location}")
        self.setWindowTitle(f"{workspace.label} — {APP_TITLE}")

    def _on_ctx_workspace_failed(self, message: str) -> None:
        self.connection_label.setText("No workspace open")
        self.statusBar().showMessage(message, 30000)

    def _on_refresh_triggered(self) -> None:
        self.view(self.current_view_id).reload()

    # -- status bar ------------------------------------------------------------------------
    def _on_activity_changed(self) -> None:
        tasks = self.ctx.activity.tasks
        busy = bool(tasks)
        for widget in (self.activity_label, self.activity_progress, self.activity_cancel):
            widget.setVisible(busy)
        if not busy:
            return
        latest = tasks[-1]
        more = f" (+{len(tasks) - 1} more)" if len(tasks) > 1 else ""
        self.activity_label.setText(f"{latest.message or latest.description}…{more}")
        if latest.fraction < 0:
            self.activity_progress.setRange(0, 0)
        else:
            self.activity_progress.setRange(0, 100)
            self.activity_progress.setValue(int(latest.fraction * 100))

    # -- menus -----------------------------------------------------------------------------
    def _on_open_bundle_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open bundle", "", "MLOps bundles (*.mlbundle);;All files (*)"
        )
        if path:
            self.show_view("bundles")
            QMessageBox.information(
                self,
                "Open bundle",
                "Reading .mlbundle files is not part of this version yet: it arrives with "
                f"offline bundles. Nothing was opened.\n\n{path}",
            )

    def _on_about_triggered(self) -> None:
        QMessageBox.about(self, f"About {APP_TITLE}", about_text())

    def set_theme(self, name: str) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            theme.apply_theme(app, name)
        for action in self.theme_actions.actions():
            action.setChecked(action.data() == name)
        self._settings.setValue("theme", name)

    # -- saved state -----------------------------------------------------------------------
    def _restore_state(self) -> None:
        geometry = self._settings.value("geometry")
        if isinstance(geometry, QByteArray) and self._persist:
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 900)
        name = str(self._settings.value("theme", "system"))
        self.set_theme(name if name in theme.THEMES else "system")
        last = str(self._settings.value("last_view", "experiments"))
        self._initial_view = last if last in VIEW_IDS else "experiments"

    @property
    def initial_view(self) -> str:
        return self._initial_view

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._persist:
            self._settings.setValue("geometry", self.saveGeometry())
            self._settings.setValue("last_view", self.current_view_id)
            self._settings.sync()
        for view in self._views.values():
            view.shutdown()
        self._tasks.shutdown()
        super().closeEvent(event)

    def start(self, view_id: str | None = None, profile: str | None = None) -> None:
        """Show the first view (the last one used) and open the workspace: the connection
        profile called `profile`, or the demo."""
        QTimer.singleShot(0, lambda: self.show_view(view_id or self._initial_view))
        if profile:
            self.open_profile(profile)
        else:
            self.open_default_workspace()


def about_text() -> str:
    try:
        mlflow_version = metadata.version("mlflow")
    except metadata.PackageNotFoundError:
        mlflow_version = "not installed"
    return (
        f"{APP_TITLE} {__version__}\n\n"
        "A desktop control centre for ML team leads: experiments, comparisons, "
        "model promotions, monitoring and retraining.\n\n"
        f"Qt {qVersion()} · PySide6 {pyside_version}\n"
        f"Python {platform.python_version()} · MLflow {mlflow_version}"
    )
