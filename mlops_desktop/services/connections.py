"""Test a connection profile, and open a workspace on one.

`test_connection(profile, secret, state)` asks the server the cheapest questions that prove
it is reachable, is the kind of server the profile says, and accepts the credentials; it
returns a `ConnectionReport` (server version, round-trip time, the signed-in user) or, for
any connection problem, a report whose one sentence says what went wrong. It never raises
for a connection problem; only `Cancelled` (from `state`) escapes.

`open_workspace(profile, vault, state)` opens an MLflow server or a local store profile as
a `Workspace`, after one signed-in call so that a missing or refused secret surfaces as
`AuthenticationFailed` at once (the UI asks for the secret again on that).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

from mlops_desktop.backends.errors import (
    AuthenticationFailed,
    BackendError,
    NotTheExpectedServer,
    PermissionDenied,
    WorkspaceError,
)
from mlops_desktop.backends.http import (
    DEFAULT_RETRY,
    NO_RETRY,
    HttpClient,
    body_excerpt,
    profile_timeout,
    session_for,
)
from mlops_desktop.backends.secrets import SecretVault
from mlops_desktop.domain.connections import AuthKind, ConnectionReport, Profile, ProfileKind
from mlops_desktop.services.tasks import Cancelled, TaskState
from mlops_desktop.services.workspace import Workspace

if TYPE_CHECKING:
    from mlops_desktop.backends.mlflow_local import LocalTrackingBackend

#: The Slurm REST API version asked for (slurmrestd 22.05 serves it).
SLURM_API = "v0.0.38"
_MLFLOW_API = "api/2.0/mlflow/"
_VERSION_TEXT = re.compile(r"^v?\d+(\.\d+)+[\w.+-]*$")
_SECRET_WORDS = {
    AuthKind.BASIC: "password",
    AuthKind.BEARER: "token",
    AuthKind.DATABRICKS: "personal access token",
    AuthKind.SLURM_JWT: "JWT",
}


@dataclass
class _Found:
    """What a probe learnt from a server that answered as expected."""

    product: str  # "MLflow", "Ray", ...
    version: str = ""
    user: str = ""
    note: str = ""  # a clause added to the success sentence


class _Timer:
    """The fastest request of a test: the closest to the network's round trip."""

    def __init__(self) -> None:
        self.best_ms: float | None = None

    def send(self, client: HttpClient, method: str, path: str, **kwargs: Any) -> requests.Response:
        started = time.perf_counter()
        response = client.send(method, path, **kwargs)
        elapsed = (time.perf_counter() - started) * 1000.0
        self.best_ms = elapsed if self.best_ms is None else min(self.best_ms, elapsed)
        return response


# -- test connection ---------------------------------------------------------------------------


def test_connection(profile: Profile, secret: str | None, state: TaskState) -> ConnectionReport:
    """Reach the profile's server (or local store) and report what answered, or why not."""
    state.progress(-1, f"Testing {profile.name}")
    timer = _Timer()
    try:
        if profile.kind is ProfileKind.LOCAL:
            return _test_local_store(profile, state)
        if profile.kind is ProfileKind.KUBERNETES and not profile.url:
            return ConnectionReport(
                ok=False,
                message=f"Connection {profile.name!r} names the kubeconfig context "
                f"{profile.kube_context!r}, which this version cannot read yet: give the "
                "API server's URL and a token instead.",
                failure="other",
            )
        found = _probe_server(profile, secret, state, timer)
    except Cancelled:
        raise
    except BackendError as error:
        return ConnectionReport(
            ok=False, message=str(error), round_trip_ms=timer.best_ms, failure=error.failure
        )
    except (requests.RequestException, OSError, ValueError) as error:
        # Not mapped by the HTTP layer (a malformed URL, an odd socket error): still a report.
        return ConnectionReport(
            ok=False,
            message=f"Could not test {profile.url}: {error}.",
            round_trip_ms=timer.best_ms,
            failure="other",
        )
    rtt = timer.best_ms or 0.0
    product = f"{found.product} {found.version}".strip()
    as_user = f" as {found.user}" if found.user else ""
    note = f" ({found.note})" if found.note else ""
    return ConnectionReport(
        ok=True,
        message=f"Connected to {product} at {profile.url}{as_user} in {rtt:.0f} ms{note}.",
        server_version=found.version,
        round_trip_ms=rtt,
        user=found.user,
    )


# A service, not a test: keep pytest from collecting it where a test module imports it.
test_connection.__test__ = False  # type: ignore[attr-defined]


def _probe_server(profile: Profile, secret: str | None, state: TaskState, timer: _Timer) -> _Found:
    probe = _PROBES[profile.kind]
    client = HttpClient(
        profile.url,
        session=session_for(profile, secret),
        timeout=profile_timeout(profile),
        retry=NO_RETRY,
    )
    try:
        return probe(client, profile, secret, state, timer)
    finally:
        client.close()


def _probe_mlflow(
    client: HttpClient, profile: Profile, secret: str | None, state: TaskState, timer: _Timer
) -> _Found:
    version_reply = timer.send(client, "GET", "version")
    _raise_for_auth(version_reply, client, profile, secret, doing="read its version")
    text = version_reply.text.strip() if version_reply.status_code == 200 else ""
    version = text if _VERSION_TEXT.match(text) else ""
    state.check()
    check_mlflow_api(client, profile, secret, timer)
    state.check()
    found = _Found("MLflow", version=version)
    if profile.auth is AuthKind.BASIC and secret is not None:
        _read_mlflow_user(client, profile, timer, found)
    elif profile.auth is AuthKind.DATABRICKS:
        me = _optional_json(timer.send(client, "GET", "api/2.0/preview/scim/v2/Me"))
        found.user = str(me.get("userName", "")) if me else ""
    if not version:
        found.note = "it did not say its version"
    return found


def check_mlflow_api(
    client: HttpClient, profile: Profile, secret: str | None, timer: _Timer | None = None
) -> None:
    """One signed-in MLflow API call: raises AuthenticationFailed (401), PermissionDenied
    (403) or NotTheExpectedServer when the answer is not MLflow's."""
    path = _MLFLOW_API + "experiments/search"
    reply, payload = _get_json(
        client,
        timer,
        profile,
        secret,
        path,
        params={"max_results": 1},
        doing="list its experiments",
    )
    experiments = payload.get("experiments", []) if payload is not None else None
    if not isinstance(experiments, list):
        raise _not_the_server(reply, client, "an MLflow tracking server", path)


def _read_mlflow_user(client: HttpClient, profile: Profile, timer: _Timer, found: _Found) -> None:
    # MLflow's basic-auth app lets a user read their own record; a server without that app
    # has no such endpoint and accepts any credentials.
    reply = timer.send(
        client, "GET", _MLFLOW_API + "users/get", params={"username": profile.username}
    )
    user = (_optional_json(reply) or {}).get("user") if reply.status_code == 200 else None
    if isinstance(user, dict) and user.get("username"):
        found.user = str(user["username"])
        if user.get("is_admin"):
            found.note = "an administrator"
    elif reply.status_code == 404:
        found.note = "this server does not check credentials: anyone may use it"


def _probe_ray(
    client: HttpClient, profile: Profile, secret: str | None, state: TaskState, timer: _Timer
) -> _Found:
    path = "api/version"
    reply, payload = _get_json(client, timer, profile, secret, path, doing="read its version")
    if payload is None or "ray_version" not in payload:
        raise _not_the_server(reply, client, "a Ray dashboard", path)
    return _Found("Ray", version=str(payload["ray_version"]))


def _probe_prometheus(
    client: HttpClient, profile: Profile, secret: str | None, state: TaskState, timer: _Timer
) -> _Found:
    path = "api/v1/status/buildinfo"
    doing = "read its build information"
    reply, payload = _get_json(client, timer, profile, secret, path, doing=doing)
    data = payload.get("data") if payload is not None else None
    if not isinstance(data, dict) or payload is None or payload.get("status") != "success":
        raise _not_the_server(reply, client, "a Prometheus server", path)
    found = _Found("Prometheus", version=str(data.get("version", "")))
    if profile.auth is AuthKind.BASIC and secret is not None:
        found.user = profile.username
    return found


def _probe_kubernetes(
    client: HttpClient, profile: Profile, secret: str | None, state: TaskState, timer: _Timer
) -> _Found:
    path = "version"
    reply, payload = _get_json(client, timer, profile, secret, path, doing="read its version")
    if payload is None or "gitVersion" not in payload:
        raise _not_the_server(reply, client, "a Kubernetes API server", path)
    found = _Found("Kubernetes", version=str(payload["gitVersion"]))
    state.check()
    # Who the token belongs to (Kubernetes 1.28+); older servers just leave the user out.
    review = timer.send(
        client,
        "POST",
        "apis/authentication.k8s.io/v1/selfsubjectreviews",
        json={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
        idempotent=True,
    )
    status = (_optional_json(review) or {}).get("status") if review.status_code < 300 else None
    user_info = status.get("userInfo") if isinstance(status, dict) else None
    if isinstance(user_info, dict) and user_info.get("username"):
        found.user = str(user_info["username"])
    if profile.namespace:
        found.note = f"namespace {profile.namespace}"
    return found


def _probe_slurm(
    client: HttpClient, profile: Profile, secret: str | None, state: TaskState, timer: _Timer
) -> _Found:
    path = f"slurm/{SLURM_API}/ping"
    reply = timer.send(client, "GET", path)
    _raise_for_auth(reply, client, profile, secret, doing="ping the controller")
    payload = _optional_json(reply)
    if payload is None or "meta" not in payload:
        raise _not_the_server(reply, client, f"a Slurm REST API ({SLURM_API})", path)
    errors = [
        str(e.get("error") or e.get("description") or e)
        for e in payload.get("errors") or ()
        if isinstance(e, dict)
    ]
    if reply.status_code >= 400 or errors:
        detail = "; ".join(errors) or body_excerpt(reply)
        raise client.error_for_status(reply, detail, doing="ping the Slurm controller")
    meta = payload.get("meta") or {}
    slurm = meta.get("Slurm") or meta.get("slurm") or {}
    version = str(slurm.get("release", "")) if isinstance(slurm, dict) else ""
    found = _Found("Slurm", version=version, user=profile.username if secret else "")
    pings = [p for p in payload.get("pings") or () if isinstance(p, dict)]
    if pings:
        found.note = ", ".join(f"{p.get('hostname', '?')} {p.get('ping', '?')}" for p in pings)
    return found


_Probe = Callable[[HttpClient, Profile, str | None, TaskState, _Timer], _Found]
_PROBES: dict[ProfileKind, _Probe] = {
    ProfileKind.MLFLOW: _probe_mlflow,
    ProfileKind.RAY: _probe_ray,
    ProfileKind.PROMETHEUS: _probe_prometheus,
    ProfileKind.KUBERNETES: _probe_kubernetes,
    ProfileKind.SLURM: _probe_slurm,
}


def _test_local_store(profile: Profile, state: TaskState) -> ConnectionReport:
    started = time.perf_counter()
    backend = _open_local_store(profile)
    try:
        state.check()
        experiments = backend.list_experiments()
    finally:
        backend.close()
    elapsed = (time.perf_counter() - started) * 1000.0
    version = _installed_mlflow_version()
    return ConnectionReport(
        ok=True,
        message=f"Opened the local MLflow store {backend.location} "
        f"({len(experiments)} experiments) in {elapsed:.0f} ms.",
        server_version=version,
        round_trip_ms=elapsed,
    )


# -- open a workspace ------------------------------------------------------------------------


def open_workspace(profile: Profile, vault: SecretVault, state: TaskState) -> Workspace:
    """Open an MLflow server or local store profile as the window's workspace.

    Raises `AuthenticationFailed` when the profile needs a secret and none is saved, or the
    server refuses it (the UI asks for it again), `KeychainUnavailable` when the keychain
    cannot be read, `WorkspaceError` for other kinds of profiles or a missing local store,
    and the HTTP layer's `ConnectionFailed` subclasses when the server cannot be reached.
    """
    if profile.kind is ProfileKind.LOCAL:
        state.progress(-1, f"Opening {profile.name}")
        return Workspace(
            label=profile.name,
            kind="local",
            tracking=_open_local_store(profile),
            profile_id=profile.profile_id,
            colour=profile.colour,
        )
    if profile.kind is not ProfileKind.MLFLOW:
        raise WorkspaceError(
            f"Connection {profile.name!r} is a {profile.kind.value} connection: the window "
            "opens MLflow tracking servers and local stores as workspaces."
        )
    from mlops_desktop.backends.mlflow_rest import MlflowRestBackend

    secret: str | None = None
    if profile.needs_secret:
        secret = vault.get(profile.profile_id)
        if secret is None:
            raise AuthenticationFailed(
                f"No {_SECRET_WORDS[profile.auth]} is saved for connection {profile.name!r}: "
                "enter it to connect."
            )
    state.progress(-1, f"Connecting to {profile.name}")
    session = session_for(profile, secret)
    backend = MlflowRestBackend(
        profile.url, profile.name, session=session, timeout=profile_timeout(profile)
    )
    try:
        check = HttpClient(
            profile.url,
            session=session,
            owns_session=False,
            timeout=profile_timeout(profile),
            retry=DEFAULT_RETRY,
        )
        try:
            check_mlflow_api(check, profile, secret)
        except AuthenticationFailed:
            if secret is None:
                raise
            raise AuthenticationFailed(
                f"{profile.url} refused the saved {_SECRET_WORDS[profile.auth]} of connection "
                f"{profile.name!r} (401): it may have been changed or revoked; enter it again."
            ) from None
    except BaseException:
        backend.close()
        raise
    return Workspace(
        label=profile.name,
        kind="mlflow",
        tracking=backend,
        profile_id=profile.profile_id,
        colour=profile.colour,
    )


# -- helpers -------------------------------------------------------------------------------------


def _raise_for_auth(
    reply: requests.Response,
    client: HttpClient,
    profile: Profile,
    secret: str | None,
    *,
    doing: str,
) -> None:
    """Raise the connection test's sentence for a 401 or 403; other statuses pass."""
    if reply.status_code == 401:
        raise AuthenticationFailed(_sentence_for_401(profile, secret))
    if reply.status_code == 403:
        raise PermissionDenied(
            f"The server accepted the credentials, but you lack permission to {doing} (403): "
            f"ask an administrator of {client.base_url} to grant you access."
        )


def _sentence_for_401(profile: Profile, secret: str | None) -> str:
    if profile.auth is AuthKind.NONE:
        return (
            "The server asks for credentials (401): set a user name and password, or a "
            "token, for this connection."
        )
    what = _SECRET_WORDS[profile.auth]
    if secret is None:
        return (
            f"The server asks for credentials (401), and no {what} is saved for this "
            "connection: enter it."
        )
    if profile.auth is AuthKind.BASIC:
        return "The server refused the credentials (401): check the username and password."
    if profile.auth is AuthKind.SLURM_JWT:
        return "The server refused the credentials (401): check the user name and the JWT."
    return f"The server refused the credentials (401): check the {what}."


def _not_the_server(
    reply: requests.Response, client: HttpClient, what: str, path: str
) -> NotTheExpectedServer:
    content_type = reply.headers.get("Content-Type", "").split(";")[0].strip()
    kind = "an HTML page" if content_type == "text/html" else (content_type or "a reply")
    excerpt = body_excerpt(reply)
    shown = f": {excerpt[:80]!r}" if excerpt else ""
    return NotTheExpectedServer(
        f"{client.base_url} answered, but it is not {what}: GET /{path} gave HTTP "
        f"{reply.status_code} with {kind}{shown}. Check the URL and its path."
    )


def _optional_json(reply: requests.Response) -> dict[str, Any] | None:
    try:
        payload = reply.json()
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def _get_json(
    client: HttpClient,
    timer: _Timer | None,
    profile: Profile,
    secret: str | None,
    path: str,
    *,
    doing: str,
    params: dict[str, Any] | None = None,
) -> tuple[requests.Response, dict[str, Any] | None]:
    """GET `path`: the reply, and its JSON object when the status is 200 (else None).
    A 401 or 403 raises the connection test's sentence."""
    if timer is not None:
        reply = timer.send(client, "GET", path, params=params)
    else:
        reply = client.send("GET", path, params=params)
    _raise_for_auth(reply, client, profile, secret, doing=doing)
    return reply, (_optional_json(reply) if reply.status_code == 200 else None)


def _local_store_paths(profile: Profile) -> tuple[Path, Path]:
    """(store file, artifact root) of a local profile: a folder with mlflow.db, or the file."""
    location = Path(profile.url).expanduser()
    if location.is_dir():
        return location / "mlflow.db", location / "artifacts"
    return location, location.parent / "artifacts"


def _open_local_store(profile: Profile) -> LocalTrackingBackend:
    from mlops_desktop.backends.mlflow_local import LocalTrackingBackend

    store, artifacts = _local_store_paths(profile)
    if not store.parent.is_dir():
        raise WorkspaceError(
            f"The folder {store.parent} of connection {profile.name!r} does not exist: check "
            "the local store's path."
        )
    if not store.is_file():
        raise NotTheExpectedServer(
            f"{store.parent} holds no mlflow.db: it is not a local MLflow store."
        )
    try:
        return LocalTrackingBackend(store, artifacts, label=profile.name)
    except WorkspaceError as error:
        raise NotTheExpectedServer(str(error)) from None


def _installed_mlflow_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mlflow")
    except PackageNotFoundError:
        return ""
