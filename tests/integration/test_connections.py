"""Test connection and open workspace against real sockets and real servers.

Each failure a person can meet has its own sentence: a closed port, a name that does not
resolve, a TLS server with a self-signed certificate (made here), a server that accepts and
never answers, a web server that is not MLflow, and MLflow's basic-auth app refusing a
password, a revoked password, or a permission.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import http.server
import ipaddress
import json
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import certifi
import keyring
import pytest
import requests

from mlops_desktop.backends.errors import (
    AuthenticationFailed,
    ConnectionFailed,
    PermissionDenied,
    WorkspaceError,
)
from mlops_desktop.backends.http import HttpClient, peer_certificate, session_for
from mlops_desktop.backends.secrets import SERVICE_NAME, SecretVault, SessionSecretStore
from mlops_desktop.domain.connections import (
    AuthKind,
    ConnectionReport,
    Profile,
    ProfileKind,
    TlsOptions,
)
from mlops_desktop.services import connections
from mlops_desktop.services.profiles import new_profile_id
from mlops_desktop.services.tasks import TaskState
from tests.harness.keychain import Keychain
from tests.harness.mlflow_servers import MlflowAuthServer, free_port

pytestmark = pytest.mark.integration


def profile(url: str, **changes: Any) -> Profile:
    fields: dict[str, Any] = {
        "profile_id": new_profile_id(),
        "name": "under test",
        "kind": ProfileKind.MLFLOW,
        "url": url,
        "connect_timeout_s": 3.0,
        "read_timeout_s": 10.0,
    }
    fields.update(changes)
    return Profile(**fields)


def check(p: Profile, secret: str | None = None) -> ConnectionReport:
    return connections.test_connection(p, secret, TaskState())


# -- small servers on loopback --------------------------------------------------------------


Routes = dict[str, tuple[int, str, bytes]]  # path -> (status, content type, body)


def _handler(routes: Routes) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            path = self.path.split("?", 1)[0]
            status, content_type, body = routes.get(path, routes.get("*", (404, "text/plain", b"")))
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


class _TlsHttpServer(http.server.ThreadingHTTPServer):
    """Does the TLS handshake in the request's thread, so a client that gives up on the
    certificate does not stall the accept loop."""

    def __init__(
        self, handler: type[http.server.BaseHTTPRequestHandler], context: ssl.SSLContext
    ) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.context = context

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # the client refused our certificate: that is the test
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            tls.close()


@pytest.fixture
def serve() -> Iterator[Callable[..., str]]:
    """serve(routes, tls=None) -> the base URL of a server answering those routes."""
    servers: list[tuple[http.server.ThreadingHTTPServer, threading.Thread]] = []

    def start(routes: Routes, tls: ssl.SSLContext | None = None) -> str:
        handler = _handler(routes)
        server: http.server.ThreadingHTTPServer = (
            _TlsHttpServer(handler, tls)
            if tls is not None
            else http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        )
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        scheme = "https" if tls is not None else "http"
        return f"{scheme}://127.0.0.1:{server.server_port}"

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join()


FAKE_MLFLOW: Routes = {
    "/version": (200, "text/plain", b"3.17.2"),
    "/api/2.0/mlflow/experiments/search": (200, "application/json", b'{"experiments": []}'),
}
INTRANET: Routes = {
    "*": (200, "text/html", b"<html><body><h1>Welcome to the intranet</h1></body></html>")
}


@dataclasses.dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path
    common_name: str


def make_certificate(
    directory: Path, common_name: str, names: list[str], ips: list[str]
) -> Certificate:
    """A self-signed certificate (its own CA) for loopback TLS servers."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "MLOps Desktop tests"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    alternatives: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
    alternatives += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / f"{common_name}.pem", directory / f"{common_name}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Certificate(cert_path, key_path, common_name)


def server_context(certificate: Certificate) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate.cert, certificate.key)
    return context


# -- transport failures -----------------------------------------------------------------------


def test_a_closed_port_is_refused() -> None:
    port = free_port()
    report = check(profile(f"http://127.0.0.1:{port}"))
    assert not report.ok
    assert report.failure == "refused"
    assert report.message == (
        f"127.0.0.1 refused the connection on port {port}: is the server running?"
    )


def test_a_name_that_does_not_resolve() -> None:
    report = check(profile("http://no-such-host.invalid:5000"))
    assert (report.ok, report.failure) == (False, "dns")
    assert report.message == (
        "The name no-such-host.invalid could not be resolved: check the URL or your DNS/VPN."
    )


def test_a_server_that_never_answers_times_out_in_time() -> None:
    # The kernel accepts connections into the backlog; nobody ever reads or answers.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        report = check(profile(url, read_timeout_s=1.0))
        elapsed = time.monotonic() - started
    assert (report.ok, report.failure) == (False, "timeout")
    assert report.message.startswith(f"{url} did not answer within 1 s: it accepted")
    assert elapsed < 4.0, f"took {elapsed:.1f} s for a 1 s timeout"


def test_a_self_signed_certificate_is_named_then_trusted_with_its_ca_bundle(
    serve: Callable[..., str], tmp_path: Path
) -> None:
    certificate = make_certificate(
        tmp_path, "mlops-test-tls", names=["localhost"], ips=["127.0.0.1"]
    )
    url = serve(FAKE_MLFLOW, tls=server_context(certificate))

    report = check(profile(url))
    assert (report.ok, report.failure) == (False, "tls")
    assert report.message.startswith(
        f"The TLS certificate of {url} is not trusted (subject "
        "CN=mlops-test-tls,O=MLOps Desktop tests, issued by CN=mlops-test-tls,"
        "O=MLOps Desktop tests; self-signed). Add its CA bundle to the connection"
    ), report.message

    trusted = check(profile(url, tls=TlsOptions(ca_bundle=str(certificate.cert))))
    assert trusted.ok, trusted.message
    assert trusted.server_version == "3.17.2"

    unverified = check(profile(url, tls=TlsOptions(verify=False)))
    assert unverified.ok, unverified.message


def test_a_certificate_for_another_name_says_which_names_it_has(
    serve: Callable[..., str], tmp_path: Path
) -> None:
    certificate = make_certificate(tmp_path, "elsewhere", names=["mlflow.elsewhere.org"], ips=[])
    url = serve(FAKE_MLFLOW, tls=server_context(certificate))
    report = check(profile(url, tls=TlsOptions(ca_bundle=str(certificate.cert))))
    assert (report.ok, report.failure) == (False, "tls")
    assert "is for other names than 127.0.0.1" in report.message
    assert "valid for mlflow.elsewhere.org" in report.message
    assert "subject CN=elsewhere" in report.message


def test_https_to_a_plain_http_server_suggests_http(serve: Callable[..., str]) -> None:
    url = serve(FAKE_MLFLOW).replace("http://", "https://")
    report = check(profile(url))
    assert (report.ok, report.failure) == (False, "tls")
    assert "did not answer in TLS" in report.message
    assert "should the URL start with http://" in report.message


def test_a_missing_ca_bundle_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.pem"
    report = check(profile("https://127.0.0.1:1", tls=TlsOptions(ca_bundle=str(missing))))
    assert (report.ok, report.failure) == (False, "tls")
    assert report.message.startswith(f"The CA bundle file {missing} of this connection")


def test_peer_certificate_reads_an_untrusted_certificate(
    serve: Callable[..., str], tmp_path: Path
) -> None:
    certificate = make_certificate(tmp_path, "peer", names=["localhost"], ips=["127.0.0.1"])
    url = serve(FAKE_MLFLOW, tls=server_context(certificate))
    info = peer_certificate("127.0.0.1", int(url.rsplit(":", 1)[1]))
    assert info is not None
    assert info.subject == info.issuer == "CN=peer,O=MLOps Desktop tests"
    assert info.self_signed
    assert set(info.names) == {"localhost", "127.0.0.1"}


def test_a_web_server_that_is_not_mlflow(serve: Callable[..., str]) -> None:
    url = serve(INTRANET)
    report = check(profile(url))
    assert (report.ok, report.failure) == (False, "not_server")
    assert report.message.startswith(f"{url} answered, but it is not an MLflow tracking server")
    assert "an HTML page" in report.message


def test_a_session_uses_the_profile_timeouts_and_its_ca_bundle_over_the_environment(
    serve: Callable[..., str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    certificate = make_certificate(tmp_path, "envtest", names=[], ips=["127.0.0.1"])
    url = serve(FAKE_MLFLOW, tls=server_context(certificate))
    # A machine-wide bundle that does not hold our CA must not override the profile's.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    p = profile(url, tls=TlsOptions(ca_bundle=str(certificate.cert)), connect_timeout_s=1.5)
    session = session_for(p, None)
    assert session.timeout == (1.5, 10.0)
    assert session.get(f"{url}/version").text == "3.17.2"
    session.close()


def test_proxy_settings_replace_the_environment() -> None:
    p = profile("https://mlflow.example.com", proxy="http://proxy.example.com:3128")
    session = session_for(p, None)
    assert session.proxies == {
        "http": "http://proxy.example.com:3128",
        "https": "http://proxy.example.com:3128",
    }
    assert session.trust_env is False
    assert session_for(profile("https://mlflow.example.com"), None).trust_env is True


def test_credentials_never_show_in_a_session_repr() -> None:
    for auth in (AuthKind.BEARER, AuthKind.DATABRICKS, AuthKind.SLURM_JWT):
        session = session_for(
            profile("https://x.example.com", auth=auth, username="u"), "tok-3f9a8e"
        )
        assert "tok-3f9a8e" not in repr(session.auth)
        assert "tok-3f9a8e" not in repr(session.__dict__)


# -- other kinds of servers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "routes", "expected"),
    [
        (
            ProfileKind.RAY,
            {
                "/api/version": (
                    200,
                    "application/json",
                    b'{"version": "4", "ray_version": "2.9.3"}',
                )
            },
            "Connected to Ray 2.9.3 at ",
        ),
        (
            ProfileKind.PROMETHEUS,
            {
                "/api/v1/status/buildinfo": (
                    200,
                    "application/json",
                    b'{"status": "success", "data": {"version": "2.42.0"}}',
                )
            },
            "Connected to Prometheus 2.42.0 at ",
        ),
        (
            ProfileKind.KUBERNETES,
            {
                "/version": (200, "application/json", b'{"major": "1", "gitVersion": "v1.29.2"}'),
                "/apis/authentication.k8s.io/v1/selfsubjectreviews": (
                    201,
                    "application/json",
                    b'{"status": {"userInfo": {"username": "system:serviceaccount:ml:runner"}}}',
                ),
            },
            "Connected to Kubernetes v1.29.2 at ",
        ),
        (
            ProfileKind.SLURM,
            {
                "/slurm/v0.0.38/ping": (
                    200,
                    "application/json",
                    json.dumps(
                        {
                            "meta": {"Slurm": {"release": "22.05.8"}},
                            "errors": [],
                            "pings": [{"hostname": "ctl", "ping": "UP"}],
                        }
                    ).encode(),
                )
            },
            "Connected to Slurm 22.05.8 at ",
        ),
    ],
)
def test_other_kinds_report_their_version(
    serve: Callable[..., str], kind: ProfileKind, routes: Routes, expected: str
) -> None:
    auth = AuthKind.SLURM_JWT if kind is ProfileKind.SLURM else AuthKind.NONE
    url = serve(routes)
    report = check(profile(url, kind=kind, auth=auth, username="ml"), "jwt" if auth else None)
    assert report.ok, report.message
    assert report.message.startswith(expected + url)
    assert report.round_trip_ms is not None and report.round_trip_ms >= 0
    if kind is ProfileKind.KUBERNETES:
        assert report.user == "system:serviceaccount:ml:runner"
    # The same URL answers nothing a different kind expects.
    other = ProfileKind.PROMETHEUS if kind is not ProfileKind.PROMETHEUS else ProfileKind.RAY
    assert check(profile(url, kind=other)).failure == "not_server"


# -- local stores --------------------------------------------------------------------------------


def test_a_local_store(demo_root: Path, tmp_path: Path) -> None:
    local = profile(str(demo_root), kind=ProfileKind.LOCAL, name="demo copy", colour="#123456")
    report = check(local)
    assert report.ok, report.message
    assert report.message.startswith(f"Opened the local MLflow store {demo_root / 'mlflow.db'}")
    assert report.server_version == version("mlflow")

    workspace = connections.open_workspace(
        local, SecretVault(session=SessionSecretStore()), TaskState()
    )
    try:
        assert (workspace.label, workspace.kind) == ("demo copy", "local")
        assert (workspace.profile_id, workspace.colour) == (local.profile_id, "#123456")
        assert workspace.tracking.list_experiments()
    finally:
        workspace.close()

    empty = check(profile(str(tmp_path), kind=ProfileKind.LOCAL))
    assert (empty.ok, empty.failure) == (False, "not_server")
    assert "holds no mlflow.db" in empty.message
    missing = check(profile(str(tmp_path / "gone" / "mlflow.db"), kind=ProfileKind.LOCAL))
    assert not missing.ok and "does not exist" in missing.message


def test_only_tracking_kinds_open_as_workspaces() -> None:
    ray = profile("http://127.0.0.1:8265", kind=ProfileKind.RAY)
    with pytest.raises(WorkspaceError, match="is a ray connection"):
        connections.open_workspace(ray, SecretVault(), TaskState())


# -- MLflow's basic-auth server -------------------------------------------------------------------


def _admin(server: MlflowAuthServer, method: str, path: str, **body: str) -> None:
    response = requests.request(
        method, f"{server.url}/{path}", json=body, auth=server.admin_auth, timeout=10
    )
    assert response.status_code == 200, response.text


def create_user(server: MlflowAuthServer, password: str) -> str:
    username = f"user-{uuid.uuid4().hex[:8]}"
    _admin(server, "POST", "api/2.0/mlflow/users/create", username=username, password=password)
    return username


def basic(server: MlflowAuthServer, username: str, **changes: Any) -> Profile:
    return profile(server.url, auth=AuthKind.BASIC, username=username, **changes)


def test_the_right_password_connects_and_shows_the_user(
    mlflow_auth_server: MlflowAuthServer,
) -> None:
    server = mlflow_auth_server
    report = check(basic(server, server.admin_username), server.admin_password)
    assert report.ok, report.message
    assert report.user == "admin"
    assert report.server_version == version("mlflow")
    assert report.round_trip_ms is not None and 0 < report.round_trip_ms < 5000
    assert report.message.startswith(
        f"Connected to MLflow {version('mlflow')} at {server.url} as admin in "
    )
    assert report.message.endswith(" ms (an administrator).")

    user = create_user(server, "plain-user-password")
    as_user = check(basic(server, user), "plain-user-password")
    assert as_user.ok and as_user.user == user
    assert as_user.message.endswith(" ms.")


def test_a_wrong_password_gives_the_401_sentence(mlflow_auth_server: MlflowAuthServer) -> None:
    report = check(basic(mlflow_auth_server, "admin"), "not-the-password")
    assert (report.ok, report.failure) == (False, "auth")
    assert report.message == (
        "The server refused the credentials (401): check the username and password."
    )


def test_no_secret_says_one_is_missing(mlflow_auth_server: MlflowAuthServer) -> None:
    report = check(basic(mlflow_auth_server, "admin"), None)
    assert (report.ok, report.failure) == (False, "auth")
    assert report.message == (
        "The server asks for credentials (401), and no password is saved for this "
        "connection: enter it."
    )
    anonymous = check(profile(mlflow_auth_server.url))
    assert anonymous.failure == "auth"
    assert anonymous.message.startswith("The server asks for credentials (401): set a user name")


def test_a_revoked_password_makes_open_workspace_ask_again(
    mlflow_auth_server: MlflowAuthServer, keychain: Keychain
) -> None:
    server = mlflow_auth_server
    user = create_user(server, "first-password-123")
    p = basic(server, user, name="revoked")
    vault = SecretVault()
    with pytest.raises(AuthenticationFailed, match="No password is saved for connection"):
        connections.open_workspace(p, vault, TaskState())

    vault.set(p.profile_id, "first-password-123")
    try:
        assert keyring.get_password(SERVICE_NAME, p.profile_id) == "first-password-123"
        workspace = connections.open_workspace(p, vault, TaskState())
        assert (workspace.label, workspace.kind, workspace.profile_id) == (
            "revoked",
            "mlflow",
            p.profile_id,
        )
        assert workspace.tracking.list_experiments()
        workspace.close()

        _admin(
            server,
            "PATCH",
            "api/2.0/mlflow/users/update-password",
            username=user,
            password="second-password-456",
        )
        with pytest.raises(AuthenticationFailed) as caught:
            connections.open_workspace(p, vault, TaskState())
        assert caught.value.failure == "auth"
        assert str(caught.value) == (
            f"{server.url} refused the saved password of connection 'revoked' (401): it may "
            "have been changed or revoked; enter it again."
        )
        assert "first-password-123" not in str(caught.value)
        assert check(p, "first-password-123").failure == "auth"

        vault.set(p.profile_id, "second-password-456")  # what the re-prompt does
        connections.open_workspace(p, vault, TaskState()).close()
    finally:
        vault.delete(p.profile_id)


def test_a_missing_permission_is_named(mlflow_auth_server: MlflowAuthServer) -> None:
    server = mlflow_auth_server
    model = f"fraud-{uuid.uuid4().hex[:6]}"
    _admin(server, "POST", "api/2.0/mlflow/registered-models/create", name=model)
    user = create_user(server, "reader-password-123")
    _admin(
        server,
        "POST",
        "api/3.0/mlflow/users/permissions/grant",
        username=user,
        resource_type="registered_model",
        resource_id=model,
        permission="DENY",
    )
    vault = SecretVault(session=SessionSecretStore())
    p = basic(server, user)
    vault.set(p.profile_id, "reader-password-123", session_only=True)
    workspace = connections.open_workspace(p, vault, TaskState())
    try:
        with pytest.raises(PermissionDenied) as caught:
            workspace.tracking.get_registered_model(model)
        assert caught.value.failure == "forbidden"
        assert str(caught.value) == (
            f"Permission denied: you may not read registered model {model!r}: you lack "
            f"permission READ. Ask an administrator of {server.url} for the permission."
        )
    finally:
        workspace.close()

    # A READ-only user (the default) may not change a model: that needs EDIT.
    writer = HttpClient(server.url, session=session_for(p, "reader-password-123"))
    reply = writer.send(
        "POST",
        "api/2.0/mlflow/registered-models/set-tag",
        json={"name": model, "key": "k", "value": "v"},
    )
    assert reply.status_code == 403
    writer.close()


def test_a_broken_url_is_a_report_not_an_exception() -> None:
    report = check(profile("http://[::1"))
    assert not report.ok and report.failure == "other"


def test_connection_failed_subclasses_carry_their_failure() -> None:
    port = free_port()
    client = HttpClient(f"http://127.0.0.1:{port}")
    with pytest.raises(ConnectionFailed) as caught:
        client.send("GET", "/")
    assert caught.value.failure == "refused"
    client.close()
