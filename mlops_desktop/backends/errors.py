"""Typed errors every backend raises, each with a message a person understands.

`failure` classifies an error for a connection report and for the UI ("dns", "refused",
"tls", "timeout", "auth", "forbidden", "not_server", "keychain", "other"), so no caller has
to read the message to know what kind of problem it is.
"""

from __future__ import annotations


class BackendError(Exception):
    """Base class: `str(error)` says what failed and what to do about it."""

    failure = "other"


class ConnectionFailed(BackendError):
    """The server could not be reached (refused, name not resolved, TLS, timeout)."""


class NameNotResolved(ConnectionFailed):
    """The host name in the URL does not resolve (typo, DNS, VPN down)."""

    failure = "dns"


class ConnectionRefused(ConnectionFailed):
    """Nothing listens on that port (server down, wrong port)."""

    failure = "refused"


class TlsFailed(ConnectionFailed):
    """The TLS handshake failed: untrusted or expired certificate, wrong name, not TLS."""

    failure = "tls"


class ServerTimedOut(ConnectionFailed):
    """No connection, or no answer, within the profile's timeout."""

    failure = "timeout"


class AuthenticationFailed(BackendError):
    """401: the credentials were refused (or none were given)."""

    failure = "auth"


class PermissionDenied(BackendError):
    """403: the user lacks a permission on a resource."""

    failure = "forbidden"


class NotFound(BackendError):
    """The experiment, run, model or file does not exist (any more)."""


class BadResponse(BackendError):
    """The server answered something we cannot read (not an MLflow server, truncated body...)."""


class NotTheExpectedServer(BadResponse):
    """Something answered at that URL, but it is not the kind of server the profile names."""

    failure = "not_server"


class WorkspaceError(BackendError):
    """The local workspace (store file, artifacts, demo data) is missing or unreadable."""
