"""Opening a view the way the window does, for the view tests."""

from __future__ import annotations

from typing import TypeVar

from mlops_desktop.services.paths import AppPaths
from mlops_desktop.services.workspace import Workspace
from mlops_desktop.ui.context import UiContext
from mlops_desktop.ui.views.base import View

LOAD_TIMEOUT_MS = 60_000
V = TypeVar("V", bound=View)


def open_view(qtbot, view_class: type[V], workspace: Workspace, show: bool = True) -> V:
    """`view_class` on its own context holding `workspace`, shown at 1400x900 and loaded.

    The context is fresh, so closing the view closes nothing the test shares.
    """
    ctx = UiContext(AppPaths.from_environment())
    ctx.set_workspace(workspace)
    view = view_class(ctx)
    qtbot.addWidget(view, before_close_func=lambda closing: closing.shutdown())
    view.resize(1400, 900)
    if show:
        view.show()
    with qtbot.waitSignal(view.content_ready, timeout=LOAD_TIMEOUT_MS):
        view.activate()
    return view


class EmptyTracking:
    """A tracking backend with nothing in it (only what the empty states ask)."""

    label = "Empty"
    location = "nowhere"

    def list_experiments(self, include_deleted: bool = False) -> list:
        return []

    def close(self) -> None:
        pass


def empty_workspace() -> Workspace:
    return Workspace("Empty", "local", EmptyTracking())  # type: ignore[arg-type]
