"""The one HTTP funnel of every REST adapter: sessions from profiles, timeouts, retries, errors.

`session_for(profile, secret)` builds the one `requests.Session` of a connection: its auth
(basic, bearer, Databricks token, Slurm JWT headers), TLS options (verification, CA bundle,
client certificate), proxy, connection pool and the profile's `(connect, read)` timeouts,
which every call through that session uses.

`HttpClient.send` is the only place that calls `requests`: every request gets an explicit
timeout; idempotent reads are retried with jittered exponential backoff on 408/429/5xx
(honouring `Retry-After`); transport failures become a `ConnectionFailed` subclass
(`NameNotResolved`, `ConnectionRefused`, `TlsFailed`, `ServerTimedOut`) whose sentence names
the host and the cause, and for TLS the certificate the server showed. Status codes are left
to the adapter, which knows how its server words errors; `HttpClient.error_for_status` maps
the common ones for it.
"""

from __future__ import annotations

import datetime as dt
import http.client
import os
import random
import re
import socket
import ssl
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import requests.adapters
import requests.auth
import urllib3.exceptions

from mlops_desktop import __version__
from mlops_desktop.backends.errors import (
    AuthenticationFailed,
    BackendError,
    BadResponse,
    ConnectionFailed,
    ConnectionRefused,
    NameNotResolved,
    NotFound,
    PermissionDenied,
    ServerTimedOut,
    TlsFailed,
)
from mlops_desktop.domain.connections import AuthKind, Profile, TlsOptions

#: (connect, read) seconds. The odd 3.05 is just above a multiple of TCP's 3 s retransmit window.
Timeout = tuple[float, float]
DEFAULT_TIMEOUT: Timeout = (3.05, 30.0)

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
#: Connections kept open per host: one per worker thread that may call at the same time.
POOL_SIZE = 8
USER_AGENT = f"mlops-desktop/{__version__}"
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_MAX_BODY_IN_MESSAGE = 300
_NAME_RESOLUTION_HINTS = (
    "name or service not known",
    "nodename nor servname",
    "temporary failure in name resolution",
    "failed to resolve",
    "getaddrinfo failed",
    "no address associated",
)
_NOT_TLS_HINTS = ("wrong version number", "record layer failure", "unknown protocol")
# OpenSSL's X509_V_ERR_* codes that need their own sentence.
_CERT_EXPIRED = 10
_SELF_SIGNED = 18
_SELF_SIGNED_IN_CHAIN = 19
_UNKNOWN_ISSUER = 20
_NAME_MISMATCH = frozenset({62, 64})  # host name, IP address


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
#: For "Test connection": one try, so a failure is reported at once.
NO_RETRY = RetryPolicy(attempts=1)


# -- sessions made from profiles ------------------------------------------------------------


class ProfileSession(requests.Session):
    """The `requests.Session` of one connection profile (see `session_for`).

    Every call gets the profile's timeout unless it passes its own. An `HttpClient` given
    such a session owns it and closes it with itself: one session per connection.
    """

    def __init__(self, timeout: Timeout, credentials: str = "") -> None:
        super().__init__()
        self.timeout = timeout
        #: Whose credentials the session sends: "user 'alice'", "a token", or "" for none.
        self.credentials = credentials

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        # A Session's own `verify` and `cert` lose to REQUESTS_CA_BUNDLE & co. unless they are
        # passed per call (psf/requests#3829); a profile's CA bundle must win.
        if kwargs.get("verify") is None:
            kwargs["verify"] = self.verify
        if kwargs.get("cert") is None:
            kwargs["cert"] = self.cert
        return super().request(method, url, *args, **kwargs)


class _HeaderAuth(requests.auth.AuthBase):
    """Adds credential headers to each request; set as `session.auth`, so netrc never
    replaces them, and a redirect to another host drops them."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._headers = dict(headers)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.update(self._headers)
        return request

    def __repr__(self) -> str:
        return f"<credential headers {sorted(self._headers)}>"  # names only, never values


def profile_timeout(profile: Profile) -> Timeout:
    """The profile's `(connect, read)` timeout in seconds."""
    return (profile.connect_timeout_s, profile.read_timeout_s)


def session_for(profile: Profile, secret: str | None) -> ProfileSession:
    """A Session with the profile's auth, TLS options, proxy, pool and timeouts applied.

    `secret` is the password or token from the keychain (None when there is none: the
    session then sends no credentials, and the server's 401 says so). Raises `TlsFailed`
    when a CA bundle or client certificate file of the profile is missing.
    """
    check_tls_files(profile.tls)
    auth, credentials = _auth_for(profile, secret)
    session = ProfileSession(profile_timeout(profile), credentials)
    session.headers["User-Agent"] = USER_AGENT
    session.auth = auth
    tls = profile.tls
    session.verify = tls.ca_bundle if (tls.verify and tls.ca_bundle) else tls.verify
    if not tls.verify:
        _silence_unverified_warning(profile.url)
    if tls.client_cert:
        session.cert = (tls.client_cert, tls.client_key) if tls.client_key else tls.client_cert
    if profile.proxy:
        session.proxies = {"http": profile.proxy, "https": profile.proxy}
        # The environment would add its own proxy rules (NO_PROXY...): the profile's wins.
        session.trust_env = False
        if session.verify is True:
            # ...but keep the machine's CA bundle setting, which trust_env=False would drop.
            env_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            if env_bundle:
                session.verify = env_bundle
    # urllib3 does no retries of its own: HttpClient decides what is safe to retry.
    adapter = requests.adapters.HTTPAdapter(
        pool_connections=4, pool_maxsize=POOL_SIZE, max_retries=0
    )
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def _silence_unverified_warning(url: str) -> None:
    """The user turned verification off for this host (the UI shows that as a warning):
    urllib3 need not warn again on every request. Other hosts still warn."""
    host = urlsplit(url).hostname
    if host:
        warnings.filterwarnings(
            "ignore",
            message=f"Unverified HTTPS request is being made to host '{re.escape(host)}'",
            category=urllib3.exceptions.InsecureRequestWarning,
        )


def check_tls_files(tls: TlsOptions) -> None:
    """Raise `TlsFailed` naming the first TLS file of a profile that cannot be read."""
    for path, what in (
        (tls.ca_bundle if tls.verify else "", "CA bundle"),
        (tls.client_cert, "client certificate"),
        (tls.client_key, "client key"),
    ):
        if path and not Path(path).is_file():
            raise TlsFailed(
                f"The {what} file {path} of this connection does not exist or is not a "
                "file: fix its path in the connection's TLS settings."
            )


def _auth_for(profile: Profile, secret: str | None) -> tuple[requests.auth.AuthBase | None, str]:
    if profile.auth is AuthKind.NONE:
        return None, ""
    if profile.auth is AuthKind.SLURM_JWT:
        headers = {"X-SLURM-USER-NAME": profile.username}
        if secret is not None:
            headers["X-SLURM-USER-TOKEN"] = secret
        return _HeaderAuth(headers), f"user {profile.username!r}"
    if secret is None:
        return None, ""
    if profile.auth is AuthKind.BASIC:
        # UTF-8, not requests' default latin-1, which cannot encode most passwords.
        user, password = profile.username.encode(), secret.encode()
        return requests.auth.HTTPBasicAuth(user, password), f"user {profile.username!r}"
    # BEARER and DATABRICKS (a personal access token is a bearer token).
    return _HeaderAuth({"Authorization": f"Bearer {secret}"}), "a token"


# -- the funnel ---------------------------------------------------------------------------


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
        owns_session: bool | None = None,
    ) -> None:
        """`owns_session` (default: a new session, or one from `session_for`) closes the
        session when the client closes."""
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retry = retry
        self._auth = auth
        if owns_session is None:
            owns_session = session is None or isinstance(session, ProfileSession)
        self._owns_session = owns_session
        self._session = session if session is not None else requests.Session()
        self._headers = {"User-Agent": USER_AGENT}

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

        Returns the response whatever its status (see `error_for_status`) and raises a
        `ConnectionFailed` subclass when no response came back. `idempotent` defaults to
        True for GET/HEAD/OPTIONS; pass True for a POST that only reads (a search).
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
                raise self.transport_error(error) from error
            except OSError as error:  # requests checks TLS files before it connects
                message = f"Could not use the TLS files of this connection: {error}."
                raise TlsFailed(message) from None
            if response.status_code not in RETRYABLE_STATUSES or attempt == attempts:
                return response
            retry_after = _retry_after_s(response)
            response.close()
            time.sleep(self.retry.delay_s(attempt, retry_after))
        raise AssertionError("unreachable: the last attempt always returns")

    @property
    def credentials(self) -> str:
        """Whose credentials this client sends ("user 'alice'", "a token"), or ""."""
        if self._auth is not None:
            return f"user {self._auth[0]!r}"
        return self._session.credentials if isinstance(self._session, ProfileSession) else ""

    def error_for_status(
        self,
        response: requests.Response,
        server_message: str,
        *,
        doing: str,
        permission: str = "",
    ) -> BackendError:
        """Map an HTTP error status to a typed error; `doing` names the action ("list runs").

        `permission` names what a 403 lacks, in the server's words ("EDIT").
        """
        status = response.status_code
        detail = f": {server_message.strip().rstrip('.')}" if server_message.strip() else ""
        if status == 401:
            if not self.credentials:
                return AuthenticationFailed(
                    f"{self.base_url} asks for a sign-in to {doing}{detail}. "
                    "Add a user name and password (or token) to this connection."
                )
            return AuthenticationFailed(
                f"{self.base_url} refused the credentials of {self.credentials} while "
                f"trying to {doing}{detail}. Check the user name and password (or token)."
            )
        if status == 403:
            if server_message.strip().lower().rstrip(".") == "permission denied":
                detail = ""  # MLflow's whole 403 body: the sentence already says it
            lacking = f": you lack permission {permission}" if permission else ""
            return PermissionDenied(
                f"Permission denied: you may not {doing}{detail}{lacking}. Ask an "
                f"administrator of {self.base_url} for the permission."
            )
        if status == 404:
            return NotFound(f"Could not {doing}: not found{detail}.")
        if status >= 500:
            return BadResponse(
                f"{self.base_url} failed to {doing} (HTTP {status}){detail}. Retry later."
            )
        return BadResponse(f"{self.base_url} refused to {doing} (HTTP {status}){detail}.")

    def close(self) -> None:
        """Close the session if this client owns it (a caller's plain session stays open)."""
        if self._owns_session:
            self._session.close()

    def transport_error(self, error: requests.RequestException) -> ConnectionFailed:
        """The typed error, with its sentence, for a request that got no response."""
        url = self.base_url
        parts = urlsplit(url)
        host = parts.hostname or url
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            port = 0
        connect_s, read_s = self.timeout
        causes = list(_causes(error))
        text = " ".join(str(cause) for cause in causes).lower()
        if isinstance(error, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
            return ConnectionFailed(
                f"{url!r} is not a valid server URL: it should look like https://host:port."
            )
        if isinstance(error, requests.exceptions.InvalidSchema):
            return ConnectionFailed(
                f"{url!r} is not an http:// or https:// URL: check the connection's URL."
            )
        if isinstance(error, requests.exceptions.ProxyError):
            return ConnectionFailed(
                f"Could not reach {url} through the proxy ({_root_cause(error)}): check the "
                "proxy setting of this connection."
            )
        if isinstance(error, requests.exceptions.SSLError):
            return self._tls_error(error, causes, host, port)
        if isinstance(error, requests.exceptions.ConnectTimeout):
            return ServerTimedOut(
                f"{url} did not answer within {connect_s:g} s: check the address, and that no "
                "firewall or VPN is in the way."
            )
        if isinstance(error, requests.exceptions.ReadTimeout):
            return ServerTimedOut(
                f"{url} did not answer within {read_s:g} s: it accepted the connection, but "
                "the server may be overloaded or stuck; retry later."
            )
        if any(isinstance(cause, socket.gaierror) for cause in causes) or any(
            hint in text for hint in _NAME_RESOLUTION_HINTS
        ):
            return NameNotResolved(
                f"The name {host} could not be resolved: check the URL or your DNS/VPN."
            )
        if any(isinstance(cause, ConnectionRefusedError) for cause in causes) or (
            "refused" in text
        ):
            return ConnectionRefused(
                f"{host} refused the connection on port {port}: is the server running?"
            )
        if any(
            isinstance(cause, ConnectionResetError | http.client.RemoteDisconnected)
            for cause in causes
        ):
            return ConnectionFailed(
                f"{url} closed the connection without answering: is it an HTTP server, and "
                "is the URL's scheme (http or https) right?"
            )
        return ConnectionFailed(f"Could not connect to {url}: {_root_cause(error)}.")

    def _tls_error(
        self, error: BaseException, causes: list[BaseException], host: str, port: int
    ) -> TlsFailed:
        origin = f"https://{host}:{port}"
        verification = next(
            (cause for cause in causes if isinstance(cause, ssl.SSLCertVerificationError)), None
        )
        if verification is None:
            cause = _root_cause(error)
            text = " ".join(str(item) for item in causes).lower()
            if any(hint in text for hint in _NOT_TLS_HINTS):
                return TlsFailed(
                    f"{origin} did not answer in TLS ({cause}): should the URL start with "
                    "http:// instead of https://?"
                )
            return TlsFailed(
                f"The TLS handshake with {origin} failed ({cause}): check the TLS settings of "
                "this connection (CA bundle, client certificate)."
            )
        certificate = peer_certificate(host, port, timeout_s=self.timeout[0])
        shown = certificate.describe() if certificate else "its certificate could not be read"
        code = verification.verify_code
        if code in _NAME_MISMATCH:
            names = ", ".join(certificate.names) if certificate and certificate.names else "?"
            return TlsFailed(
                f"The TLS certificate of {origin} is for other names than {host} ({shown}; "
                f"valid for {names}): use a URL with one of those names."
            )
        if code == _CERT_EXPIRED:
            return TlsFailed(
                f"The TLS certificate of {origin} has expired ({shown}): ask the server's "
                "administrator to renew it."
            )
        if code == _SELF_SIGNED or (certificate is not None and certificate.self_signed):
            why = "self-signed"
        elif code == _SELF_SIGNED_IN_CHAIN:
            why = "its CA is self-signed and not trusted here"
        elif code == _UNKNOWN_ISSUER:
            why = "issued by a CA this computer does not trust"
        else:
            why = str(verification.verify_message or verification)
        return TlsFailed(
            f"The TLS certificate of {origin} is not trusted ({shown}; {why}). Add its CA "
            "bundle to the connection, or turn off certificate verification for it if you "
            "trust this network."
        )


# -- the certificate a server shows ---------------------------------------------------------


@dataclass(frozen=True)
class CertificateInfo:
    """What a TLS error message says about the certificate the server presented."""

    subject: str  # RFC 4514, e.g. "CN=mlflow.example.com,O=Example"
    issuer: str
    names: tuple[str, ...]  # subject alternative names (DNS names and IP addresses)
    not_after: dt.datetime | None
    self_signed: bool

    def describe(self) -> str:
        text = f"subject {self.subject or '(empty)'}, issued by {self.issuer or '(empty)'}"
        if self.not_after is not None and self.not_after < dt.datetime.now(dt.UTC):
            text += f", expired on {self.not_after:%Y-%m-%d}"
        return text


def peer_certificate(host: str, port: int, timeout_s: float = 5.0) -> CertificateInfo | None:
    """The certificate `host:port` presents, read without verifying it; None if unreadable.

    Only for describing a TLS failure: nothing is sent after the handshake.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with (
            socket.create_connection((host, port), timeout=timeout_s) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            der = tls.getpeercert(binary_form=True)
    except (OSError, ValueError):
        return None
    return _parse_certificate(der) if der else None


def _parse_certificate(der: bytes) -> CertificateInfo | None:
    try:
        from cryptography import x509
    except ImportError:  # comes with mlflow; without it the message just omits the subject
        return None
    try:
        certificate = x509.load_der_x509_certificate(der)
        subject = _readable_name(certificate.subject)
        issuer = _readable_name(certificate.issuer)
        names: tuple[str, ...] = ()
        try:
            alternatives = certificate.extensions.get_extension_for_class(
                x509.SubjectAlternativeName
            ).value
            names = tuple(
                [str(name) for name in alternatives.get_values_for_type(x509.DNSName)]
                + [str(ip) for ip in alternatives.get_values_for_type(x509.IPAddress)]
            )
        except x509.ExtensionNotFound:
            pass
        return CertificateInfo(
            subject=subject,
            issuer=issuer,
            names=names,
            not_after=certificate.not_valid_after_utc,
            self_signed=certificate.subject == certificate.issuer,
        )
    except ValueError:
        return None


def _readable_name(name: Any) -> str:
    """An X.509 name as people read it: the CN first, then the rest in certificate order
    ("CN=mlflow.example.com,O=Example,C=DE"); RFC 4514 would put the CN last."""
    parts = [rdn.rfc4514_string() for rdn in name.rdns]
    common = [part for part in parts if part.upper().startswith("CN=")]
    return ",".join(common + [part for part in parts if part not in common])


# -- helpers -------------------------------------------------------------------------------


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


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error and everything it wraps: urllib3 nests the useful part several levels deep,
    in `__cause__`, `__context__`, `.reason` and `.args`."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        reason = getattr(current, "reason", None)
        nested = [current.__cause__, current.__context__, reason, *current.args]
        pending.extend(item for item in nested if isinstance(item, BaseException))


def _root_cause(error: BaseException) -> str:
    """The innermost exception's message: urllib3 wraps the useful part several levels deep."""
    while error.__context__ is not None and error.__context__ is not error:
        error = error.__context__
    if isinstance(error, OSError) and error.strerror:
        cause: object = error.strerror  # ssl.SSLError's args[0] is a bare number
    else:
        cause = error.args[0] if error.args else error
    text = re.sub(r"\s*\(_ssl\.c:\d+\)", "", str(cause)).strip()
    return text or type(error).__name__
