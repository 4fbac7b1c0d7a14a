"""Connection profiles: everything needed to reach a server, except its secret."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ProfileKind(StrEnum):
    MLFLOW = "mlflow"  # an MLflow tracking server
    LOCAL = "local"  # a local MLflow store (a folder with mlflow.db)
    RAY = "ray"  # a Ray cluster's dashboard (Jobs REST API)
    KUBERNETES = "kubernetes"
    SLURM = "slurm"  # slurmrestd
    PROMETHEUS = "prometheus"


class AuthKind(StrEnum):
    NONE = "none"
    BASIC = "basic"  # username + password (MLflow basic-auth, Prometheus behind a proxy)
    BEARER = "bearer"  # a token sent as "Authorization: Bearer ..."
    DATABRICKS = "databricks"  # a Databricks personal access token (bearer)
    SLURM_JWT = "slurm_jwt"  # X-SLURM-USER-NAME + X-SLURM-USER-TOKEN


@dataclass(frozen=True)
class TlsOptions:
    verify: bool = True  # on by default; turning it off is shown as a warning
    ca_bundle: str = ""  # a PEM file of extra CAs
    client_cert: str = ""  # PEM certificate (and key, if client_key is empty)
    client_key: str = ""


@dataclass(frozen=True)
class Profile:
    """A saved connection. Never holds a secret: that lives in the keychain by `profile_id`."""

    profile_id: str  # stable, generated once (uuid4 hex); the keychain key
    name: str  # unique, what the user types with --profile
    kind: ProfileKind
    url: str = ""  # server URL, or the folder of a local store
    auth: AuthKind = AuthKind.NONE
    username: str = ""
    tls: TlsOptions = field(default_factory=TlsOptions)
    proxy: str = ""  # e.g. http://proxy:3128; empty = environment defaults
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0
    colour: str = "#2e9d5b"  # shown on every view header so prod is never mistaken for dev
    label: str = ""  # e.g. "prod", "staging", "dev"
    namespace: str = ""  # Kubernetes namespace
    kube_context: str = ""  # a kubeconfig context instead of URL + token
    description: str = ""
    #: The folder of the team's promotion gate policies (`<model>.toml`); "" = the default.
    gates_dir: str = ""

    @property
    def needs_secret(self) -> bool:
        return self.auth is not AuthKind.NONE


@dataclass(frozen=True)
class ConnectionReport:
    """What "Test connection" found: a server that answered, or a sentence saying why not."""

    ok: bool
    message: str  # one sentence a person understands, success or failure
    server_version: str = ""
    round_trip_ms: float | None = None
    user: str = ""  # the authenticated user, when the server says
    failure: str = ""  # "dns", "refused", "tls", "timeout", "auth", "forbidden",
    # "not_server", "keychain", "other"; empty when ok
