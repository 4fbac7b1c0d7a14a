"""What the CLI's command groups share: the one-sentence error, opening the workspace that
`--profile NAME` selects (or the demo), and turning failures into exit codes."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlops_desktop.domain.connections import Profile
    from mlops_desktop.services.tasks import TaskState
    from mlops_desktop.services.workspace import Workspace


class CliError(Exception):
    """A problem with what was asked (unknown experiment, bad option...), said in one sentence."""


def open_cli_workspace(
    profile_name: str | None, state: TaskState | None = None
) -> tuple[Workspace, Profile | None]:
    """The workspace of profile `profile_name` (its secret from the keychain) and the profile,
    or the demo workspace and None."""
    from mlops_desktop.services.paths import AppPaths
    from mlops_desktop.services.tasks import TaskState

    paths = AppPaths.from_environment()
    state = state or TaskState()
    if not profile_name:
        from mlops_desktop.services.workspace import open_demo_workspace

        return open_demo_workspace(paths, state), None
    from mlops_desktop.backends.secrets import SecretVault
    from mlops_desktop.services.connections import open_workspace
    from mlops_desktop.services.profiles import ProfileStore

    profile = ProfileStore(paths.profiles_file).get(profile_name)
    return open_workspace(profile, SecretVault(), state), profile


def run_cli_action(action: Callable[[], int]) -> int:
    """Run `action`; a failure becomes one sentence on stderr and exit status 1, Ctrl-C 130,
    and a closed pipe (`... | head`) a quiet 0."""
    from mlops_desktop.backends.errors import BackendError
    from mlops_desktop.services.tasks import Cancelled

    try:
        return action()
    except BrokenPipeError:  # the reader has all it wanted
        _silence_stdout()
        return 0
    except (CliError, BackendError, OSError) as error:
        print(f"mlops-desktop: {str(error).strip()}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, Cancelled):
        print("\nmlops-desktop: cancelled.", file=sys.stderr)
        return 130


def print_table(rows: Sequence[Sequence[str]]) -> None:
    """Rows (the first may be a header) in left-aligned columns two spaces apart."""
    if not rows:
        return
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def _silence_stdout() -> None:
    """Point stdout at the null device, so the interpreter's final flush finds no closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
