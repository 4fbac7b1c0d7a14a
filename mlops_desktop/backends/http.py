"""The one HTTP funnel of every REST adapter: explicit timeouts, retries, typed errors.

`HttpClient.send` is the only place that calls `requests`: every request gets an explicit
`(connect, read)` timeout; idempotent reads are retried with jittered exponential backoff on
408/429/5xx (honouring `Retry-After`); transport failures become `ConnectionFailed` with a
sentence that names the URL and the cause. Status codes are left to the adapter, which knows
how its server words errors; `HttpClient.error_for_status` maps the common ones for it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests

from mlops_desktop import __version__
from mlops_desktop.backends.errors import (
    AuthenticationFailed,
    BackendError,
    BadResponse,
    ConnectionFailed,
    NotFound,
    PermissionDenied,
)

#: (connect, read) seconds. The odd 3.05 is just above a multiple of TCP's 3 s retransmit window.
Timeout = tuple[float, float]
DEFAULT_TIMEOUT: Timeout = (3.05, 30.0)

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_MAX_BODY_IN_MESSAGE = 300
_NAME_RESOLUTION_HINTS = (
    "name or service not known",
    "nodename nor servname",
    "temporary failure in name resolution",
    "failed to resolve",
    "getaddrinfo failed",
)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently idempotent reads are retried on transient statuses."""

    attempts: int = 4  # tries in total, the first included
    base_delay_s: float = 0.25
    max_delay_s: float = 8.0

    def delay_s(self, retry: int, retry_after_s: float | None = None) -> float:
        """Seconds to wait before retry number `retry` (1-based): full jitter, capped."""
        if retry_after_s is not None:
            return min(retry_after_s, self.max_delay_s)
        ceiling = min(self.max_delay_s, self.base_delay_s * 2 ** (retry - 1))
        return random.uniform(0.0, ceiling)


DEFAULT_RETRY = RetryPolicy()


class HttpClient:
    """One server's base URL, credentials and `requests.Session`, shared by all its calls."""

    def __init__(
        self,
        base_url: str,
        *,
        session: requests.Session | None = None,
        auth: tuple[str, str] | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retry = retry
        self._auth = auth
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()
        self._headers = {"User-Agent": f"mlops-desktop/{__version__}"}

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        stream: bool = False,
    ) -> requests.Response:
        """Send one request, retrying transient failures of idempotent calls.

        Returns the response whatever its status (see `error_for_status`) and raises
        `ConnectionFailed` when no response came back. `idempotent` defaults to True for
        GET/HEAD/OPTIONS; pass True for a POST that only reads (a search).
        """
        method = method.upper()
        if idempotent is None:
            idempotent = method in _IDEMPOTENT_METHODS
        attempts = self.retry.attempts if idempotent else 1
        url = self.url(path)
        for attempt in range(1, attempts + 1):
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    auth=self._auth,
                    headers=self._headers,
                    timeout=self.timeout,
                    stream=stream,
                )
            except requests.RequestException as error:
                raise ConnectionFailed(self._describe_transport_error(error)) from error
            if response.status_code not in RETRYABLE_STATUSES or attempt == attempts:
                return response
            retry_after = _retry_after_s(response)
            response.close()
            time.sleep(self.retry.delay_s(attempt, retry_after))
        raise AssertionError("unreachable: the last attempt always returns")

    def error_for_status(
        self, response: requests.Response, server_message: str, *, doing: str
    ) -> BackendError:
        """Map an HTTP error status to a typed error; `doing` names the action ("list runs")."""
        status = response.status_code
        detail = f": {server_message.strip().rstrip('.')}" if server_message.strip() else ""
        if status == 401:
            if self._auth is None:
                return AuthenticationFailed(
                    f"{self.base_url} asks for a sign-in to {doing}{detail}. "
                    "Add a user name and password (or token) to this connection."
                )
            return AuthenticationFailed(
                f"{self.base_url} refused the credentials of user {self._auth[0]!r} while "
                f"trying to {doing}{detail}. Check the user name and password (or token)."
            )
        if status == 403:
            return PermissionDenied(
                f"Permission denied: you may not {doing}{detail}. Ask an administrator of "
                f"{self.base_url} for the permission."
            )
        if status == 404:
            return NotFound(f"Could not {doing}: not found{detail}.")
        if status >= 500:
            return BadResponse(
                f"{self.base_url} failed to {doing} (HTTP {status}){detail}. Retry later."
            )
        return BadResponse(f"{self.base_url} refused to {doing} (HTTP {status}){detail}.")

    def close(self) -> None:
        """Close the session if this client created it (a caller's session stays open)."""
        if self._owns_session:
            self._session.close()

    def _describe_transport_error(self, error: requests.RequestException) -> str:
        connect_s, read_s = self.timeout
        url = self.base_url
        text = str(error).lower()
        if isinstance(error, requests.exceptions.SSLError):
            return (
                f"Could not connect to {url}: the TLS handshake failed ({_root_cause(error)}). "
                "Check the certificate, or that the URL should be https."
            )
        if isinstance(error, requests.exceptions.ConnectTimeout):
            return (
                f"Could not connect to {url}: no answer within {connect_s:g} s. "
                "Check the address and that no firewall or VPN is in the way."
            )
        if isinstance(error, requests.exceptions.ReadTimeout):
            return (
                f"{url} accepted the connection but sent no answer within {read_s:g} s. "
                "The server may be overloaded; retry later."
            )
        if isinstance(error, requests.exceptions.ConnectionError):
            if "refused" in text:
                return f"Could not connect to {url}: connection refused. Is the server running?"
            if any(hint in text for hint in _NAME_RESOLUTION_HINTS):
                return f"Could not connect to {url}: the host name does not resolve. Check the URL."
            return f"Could not connect to {url}: {_root_cause(error)}."
        if isinstance(error, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
            return f"{url!r} is not a valid server URL: it should look like https://host:port."
        return f"The request to {url} failed: {_root_cause(error)}."


def body_excerpt(response: requests.Response) -> str:
    """The start of a (plain-text or HTML) body, on one line, for an error message."""
    text = " ".join(response.text.split())
    if len(text) > _MAX_BODY_IN_MESSAGE:
        text = text[: _MAX_BODY_IN_MESSAGE - 1] + "…"
    return text


def _retry_after_s(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date, or absent: fall back to our own backoff


def _root_cause(error: BaseException) -> str:
    """The innermost exception's message: urllib3 wraps the useful part several levels deep."""
    while error.__context__ is not None and error.__context__ is not error:
        error = error.__context__
    cause = error.args[0] if error.args else error
    return str(cause).strip() or type(error).__name__
