"""What every window part is given: paths, the activity monitor and the open workspace."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from mlops_desktop.services.paths import AppPaths
from mlops_desktop.services.workspace import Workspace
from mlops_desktop.ui.tasks import ActivityMonitor


class UiContext(QObject):
    """Passed to every view's constructor; there is no module-level singleton."""

    workspace_changed = Signal(object)  #: the new Workspace, once it is open
    workspace_failed = Signal(str)  #: a sentence saying why the workspace could not open

    def __init__(self, paths: AppPaths, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.paths = paths
        self.activity = ActivityMonitor(self)
        self.workspace: Workspace | None = None

    def set_workspace(self, workspace: Workspace) -> None:
        old, self.workspace = self.workspace, workspace
        self.workspace_changed.emit(workspace)
        if old is not None and old is not workspace:
            old.close()
