"""The base of every view: header, error banner, lazy load on first show, a ready signal.

Subclasses build their widgets in `__init__` (below `self.body`), and implement
`load(workspace)` which starts background tasks with `self.tasks.run(...)` and ends by
calling `self.mark_ready()` (on success, on an empty result, or after showing an error).
`content_ready` is what the screenshot command and the tests wait on.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from mlops_desktop.backends.errors import BackendError
from mlops_desktop.services.workspace import Workspace
from mlops_desktop.ui.context import UiContext
from mlops_desktop.ui.tasks import TaskRunner
from mlops_desktop.ui.widgets import ErrorBanner, ViewHeader


def describe_error(error: Exception, doing: str) -> str:
    """One sentence for the user: what failed, why, and (in the backend's words) what to do."""
    if isinstance(error, BackendError):
        return f"Could not {doing}: {error}"
    return (
        f"Could not {doing}: an unexpected {type(error).__name__} ({error}). "
        "Retry; if it persists, the log file has the details."
    )


class View(QWidget):
    view_id: str = ""
    title: str = ""
    subtitle: str = ""

    content_ready = Signal()  #: the view shows its data, its empty state or its error

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"view-{self.view_id}")
        self.ctx = ctx
        self.tasks = TaskRunner(ctx.activity, self)
        self.header = ViewHeader(self.title, self.subtitle)
        self.banner = ErrorBanner()
        self.banner.retry_requested.connect(self.reload)
        self.body = QVBoxLayout()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(16, 12, 16, 12)
        outer.addWidget(self.header)
        outer.addWidget(self.banner)
        outer.addLayout(self.body, 1)
        self.is_ready = False
        self._loaded_for: Workspace | None = None
        self._active = False
        ctx.workspace_changed.connect(self._on_ctx_workspace_changed)
        ctx.workspace_failed.connect(self._on_ctx_workspace_failed)
        if ctx.workspace is not None:
            self.header.set_workspace(ctx.workspace.label, ctx.workspace.colour)

    # -- lifecycle -----------------------------------------------------------------------
    def activate(self) -> None:
        """Called when the view becomes visible: loads its data once per workspace."""
        self._active = True
        workspace = self.ctx.workspace
        if workspace is not None and self._loaded_for is not workspace:
            self._loaded_for = workspace
            self.is_ready = False
            self.banner.hide()
            self.load(workspace)

    def reload(self) -> None:
        self._loaded_for = None
        self.activate()

    def load(self, workspace: Workspace) -> None:
        """Start loading; must end (possibly later, on a signal) with `mark_ready()`."""
        self.mark_ready()

    def mark_ready(self) -> None:
        self.is_ready = True
        self.content_ready.emit()

    def show_error(self, error: Exception, doing: str) -> None:
        self.banner.show_error(describe_error(error, doing))
        self.mark_ready()

    def shutdown(self) -> None:
        self.tasks.shutdown()

    def _on_ctx_workspace_failed(self, message: str) -> None:
        self.banner.show_error(message)
        self.mark_ready()

    def _on_ctx_workspace_changed(self, workspace: Workspace) -> None:
        self.header.set_workspace(workspace.label, workspace.colour)
        if self._active:
            self.activate()
