"""What to do when a system component a test needs is missing: skip locally, fail in CI."""

from __future__ import annotations

import os
import shutil
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def unavailable(component: str, reason: str) -> NoReturn:
    """Skip the test (or fail it under CI=true, where every component must be present)."""
    message = f"{component} is not available: {reason}"
    if in_ci():
        pytest.fail(f"{message} (CI=true: a missing component fails the run)", pytrace=False)
    pytest.skip(message)


def command_path(command: str, package: str) -> str:
    """The absolute path of `command`, or skip/fail naming it and the package that has it."""
    path = shutil.which(command)
    if path is None:
        unavailable(
            command,
            f"the command `{command}` is not on PATH; install the Debian package `{package}` "
            "(tests/harness/install_system_deps.sh test)",
        )
    return path
