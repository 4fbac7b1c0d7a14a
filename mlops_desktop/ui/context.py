"""What every window part is given: paths, activity, the open workspaces, profiles and secrets.

Several workspaces stay open at once (the demo, dev, prod...), keyed by profile id; one of
them is active and every view shows it. Switching to an open one is instant: nothing is
reopened. The profile store and the secret vault are built on first use, so start-up does
not import `keyring`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from mlops_desktop.services.paths import AppPaths
from mlops_desktop.services.workspace import Workspace
from mlops_desktop.ui.prompts import Prompts
from mlops_desktop.ui.tasks import ActivityMonitor

if TYPE_CHECKING:
    from mlops_desktop.backends.secrets import SecretVault
    from mlops_desktop.services.profiles import ProfileStore

#: The key of a workspace that was not opened from a profile (the demo, a bundle, a test's).
DEMO_KEY = "demo"
#: The colour of workspaces without a profile: a quiet slate, never mistaken for a server's.
DEMO_COLOUR = "#5b6b82"


def workspace_key(workspace: Workspace) -> str:
    """The key of `workspace` in `UiContext.open_workspaces`: its profile id, or its kind."""
    return workspace.profile_id or workspace.kind or DEMO_KEY


class UiContext(QObject):
    """Passed to every view's constructor; there is no module-level singleton."""

    workspace_changed = Signal(object)  #: the new active Workspace, once it is open
    workspace_failed = Signal(str)  #: a sentence saying why the workspace could not open
    open_workspaces_changed = Signal()  #: a workspace was added to or closed from the open ones

    def __init__(
        self,
        paths: AppPaths,
        parent: QObject | None = None,
        *,
        prompts: Prompts | None = None,
        profiles: ProfileStore | None = None,
        vault: SecretVault | None = None,
    ) -> None:
        super().__init__(parent)
        self.paths = paths
        self.activity = ActivityMonitor(self)
        self.prompts = prompts or Prompts()
        self.workspace: Workspace | None = None
        self.open_workspaces: dict[str, Workspace] = {}
        self._profiles = profiles
        self._vault = vault

    @property
    def profiles(self) -> ProfileStore:
        """The user's connection profiles (the file is read by `load()`, on a worker)."""
        if self._profiles is None:
            from mlops_desktop.services.profiles import ProfileStore

            self._profiles = ProfileStore(self.paths.profiles_file)
        return self._profiles

    @property
    def vault(self) -> SecretVault:
        """Where secrets live: the OS keychain, or memory for session-only ones."""
        if self._vault is None:
            from mlops_desktop.backends.secrets import SecretVault

            self._vault = SecretVault()
        return self._vault

    @property
    def active_key(self) -> str | None:
        return workspace_key(self.workspace) if self.workspace is not None else None

    def set_workspace(self, workspace: Workspace) -> None:
        """Make `workspace` the active one, keeping the others open.

        A workspace reopened for the same profile replaces (and closes) the previous one.
        """
        key = workspace_key(workspace)
        previous = self.open_workspaces.get(key)
        self.open_workspaces[key] = workspace
        self.workspace = workspace
        if previous is not workspace:
            self.open_workspaces_changed.emit()
        self.workspace_changed.emit(workspace)
        if previous is not None and previous is not workspace:
            previous.close()

    def switch_to(self, key: str) -> bool:
        """Activate an already open workspace at once; False when none is open under `key`."""
        workspace = self.open_workspaces.get(key)
        if workspace is None:
            return False
        if workspace is not self.workspace:
            self.set_workspace(workspace)
        return True

    def close_workspace(self, key: str) -> None:
        """Close one open workspace; when it was the active one, another open one takes over."""
        workspace = self.open_workspaces.pop(key, None)
        if workspace is None:
            return
        self.open_workspaces_changed.emit()
        if workspace is self.workspace:
            self.workspace = None
            fallback = self.open_workspaces.get(DEMO_KEY) or next(
                iter(self.open_workspaces.values()), None
            )
            if fallback is not None:
                self.set_workspace(fallback)
            else:
                self.workspace_failed.emit(
                    f"{workspace.label} was closed; connect to a workspace in Connections."
                )
        workspace.close()

    def close_all(self) -> None:
        for key in list(self.open_workspaces):
            self.open_workspaces.pop(key).close()
        self.workspace = None
