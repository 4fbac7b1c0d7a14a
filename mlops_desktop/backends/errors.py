"""Typed errors every backend raises, each with a message a person understands."""

from __future__ import annotations


class BackendError(Exception):
    """Base class: `str(error)` says what failed and what to do about it."""


class ConnectionFailed(BackendError):
    """The server could not be reached (refused, name not resolved, TLS, timeout)."""


class AuthenticationFailed(BackendError):
    """401: the credentials were refused."""


class PermissionDenied(BackendError):
    """403: the user lacks a permission on a resource."""


class NotFound(BackendError):
    """The experiment, run, model or file does not exist (any more)."""


class BadResponse(BackendError):
    """The server answered something we cannot read (not an MLflow server, truncated body...)."""


class WorkspaceError(BackendError):
    """The local workspace (store file, artifacts, demo data) is missing or unreadable."""
