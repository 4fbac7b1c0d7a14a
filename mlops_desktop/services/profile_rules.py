"""What makes a connection profile valid, and which fields and sign-ins each kind of profile has.

Pure rules, no I/O and no Qt: the profile dialog shows these problems next to the fields
they concern, and the CLI prints the same sentences. `existing_names` are the names of the
*other* profiles (leave the edited profile's own name out).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from mlops_desktop.domain.connections import AuthKind, Profile, ProfileKind, TlsOptions

#: The sign-ins each kind of server accepts, the default first.
AUTH_KINDS: dict[ProfileKind, tuple[AuthKind, ...]] = {
    ProfileKind.MLFLOW: (AuthKind.NONE, AuthKind.BASIC, AuthKind.BEARER, AuthKind.DATABRICKS),
    ProfileKind.LOCAL: (AuthKind.NONE,),
    ProfileKind.RAY: (AuthKind.NONE, AuthKind.BEARER),
    ProfileKind.KUBERNETES: (AuthKind.BEARER, AuthKind.NONE),
    ProfileKind.SLURM: (AuthKind.SLURM_JWT,),
    ProfileKind.PROMETHEUS: (AuthKind.NONE, AuthKind.BASIC, AuthKind.BEARER),
}

#: Kinds reached over HTTP(S): they have TLS, proxy and timeout options.
REMOTE_KINDS = frozenset(set(ProfileKind) - {ProfileKind.LOCAL})

#: Sign-ins that need a user name besides the secret.
AUTH_WITH_USERNAME = frozenset({AuthKind.BASIC, AuthKind.SLURM_JWT})

URL_SCHEMES = ("http", "https")
PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")
MAX_TIMEOUT_S = 3600.0
MAX_NAME_LENGTH = 64
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True)
class Problem:
    """One reason a profile cannot be saved; `field` names the Profile field it concerns."""

    field: str
    message: str


def has_kube_context(profile: Profile) -> bool:
    return profile.kind is ProfileKind.KUBERNETES and bool(profile.kube_context.strip())


def url_required(profile: Profile) -> bool:
    """Every kind needs a URL (a folder for a local store) except Kubernetes with a context."""
    return not has_kube_context(profile)


def find_problems(profile: Profile, existing_names: Iterable[str]) -> list[Problem]:
    """Every problem of `profile`, in the order of the dialog's fields; empty when valid."""
    problems: list[Problem] = []
    problems += _name_problems(profile.name, existing_names)
    problems += _url_problems(profile)
    problems += _auth_problems(profile)
    problems += _network_problems(profile)
    if not _COLOUR.match(profile.colour):
        problems.append(Problem("colour", "The colour must look like #2e9d5b."))
    return problems


def validate_profile(profile: Profile, existing_names: Iterable[str]) -> list[str]:
    """The sentences of `find_problems`: what to fix before the profile can be saved."""
    return [problem.message for problem in find_problems(profile, existing_names)]


def find_warnings(profile: Profile) -> list[Problem]:
    """Choices that are allowed but risky: said next to the field, never blocking."""
    if profile.kind not in REMOTE_KINDS:
        return []
    warnings: list[Problem] = []
    if not profile.tls.verify:
        warnings.append(
            Problem(
                "verify",
                "Certificates will not be checked: anyone on the network path can read and "
                "change the traffic, credentials included. Prefer a CA bundle.",
            )
        )
    try:
        parts = urlsplit(profile.url.strip())
        scheme, host = parts.scheme.lower(), parts.hostname or ""
    except ValueError:
        scheme, host = "", ""
    if profile.needs_secret and scheme == "http" and host not in _LOOPBACK_HOSTS:
        warnings.append(
            Problem(
                "url",
                "With http:// the secret travels unencrypted; use https:// outside this machine.",
            )
        )
    return warnings


def without_unused_fields(profile: Profile) -> Profile:
    """The profile with the fields its kind and sign-in do not use cleared (nothing stale)."""
    remote = profile.kind in REMOTE_KINDS
    auth = profile.auth if profile.auth in AUTH_KINDS[profile.kind] else AUTH_KINDS[profile.kind][0]
    kubernetes = profile.kind is ProfileKind.KUBERNETES
    return replace(
        profile,
        name=profile.name.strip(),
        url=profile.url.strip(),
        auth=auth,
        username=profile.username.strip() if auth in AUTH_WITH_USERNAME else "",
        tls=profile.tls if remote else TlsOptions(),
        proxy=profile.proxy.strip() if remote else "",
        namespace=profile.namespace.strip() if kubernetes else "",
        kube_context=profile.kube_context.strip() if kubernetes else "",
        label=profile.label.strip(),
        description=profile.description.strip(),
    )


def _name_problems(name: str, existing_names: Iterable[str]) -> list[Problem]:
    stripped = name.strip()
    if not stripped:
        return [Problem("name", "Give the connection a name.")]
    if stripped != name:
        return [Problem("name", "The name cannot start or end with a space.")]
    if any(ord(character) < 32 for character in name):
        return [Problem("name", "The name cannot contain control characters.")]
    if len(name) > MAX_NAME_LENGTH:
        return [Problem("name", f"The name is too long (at most {MAX_NAME_LENGTH} characters).")]
    taken = {existing.casefold() for existing in existing_names}
    if name.casefold() in taken:
        return [Problem("name", f"A connection named {name!r} already exists.")]
    return []


def _url_problems(profile: Profile) -> list[Problem]:
    url = profile.url.strip()
    if profile.kind is ProfileKind.LOCAL:
        return [] if url else [Problem("url", "Choose the folder of the local MLflow store.")]
    if not url:
        if not url_required(profile):
            return []
        hint = " (or a kubeconfig context)" if profile.kind is ProfileKind.KUBERNETES else ""
        return [Problem("url", f"Enter the server URL{hint}.")]
    return [Problem("url", message) for message in _url_shape_problems(url, URL_SCHEMES)]


def _url_shape_problems(url: str, schemes: tuple[str, ...]) -> list[str]:
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError on a port that is not a number in range
    except ValueError:
        return [f"{url!r} is not a valid URL."]
    wanted = " or ".join(f"{scheme}://" for scheme in schemes)
    if parts.scheme.lower() not in schemes:
        return [f"The URL must start with {wanted} (for example {schemes[-1]}://host:5000)."]
    if not parts.hostname:
        return [f"The URL {url!r} has no host name."]
    if port == 0:
        return [f"The URL {url!r} has port 0, which no server listens on."]
    if parts.password is not None:
        return [
            "Remove the password from the URL and enter it as the secret: it goes to the OS "
            "keychain, never into the profile file."
        ]
    if any(character.isspace() for character in url):
        return [f"The URL {url!r} contains a space."]
    return []


def _auth_problems(profile: Profile) -> list[Problem]:
    allowed = AUTH_KINDS[profile.kind]
    if profile.auth not in allowed and not has_kube_context(profile):
        return [Problem("auth", "This kind of connection does not support that sign-in.")]
    if profile.auth in AUTH_WITH_USERNAME and not profile.username.strip():
        return [Problem("username", "Enter the user name to sign in with.")]
    return []


def _network_problems(profile: Profile) -> list[Problem]:
    if profile.kind not in REMOTE_KINDS:
        return []
    problems: list[Problem] = []
    tls = profile.tls
    if tls.client_key.strip() and not tls.client_cert.strip():
        problems.append(
            Problem("client_cert", "A client key needs its client certificate as well.")
        )
    if profile.proxy.strip():
        problems += [
            Problem("proxy", f"Proxy: {message}")
            for message in _url_shape_problems(profile.proxy.strip(), PROXY_SCHEMES)
        ]
    for field, value, what in (
        ("connect_timeout_s", profile.connect_timeout_s, "connect"),
        ("read_timeout_s", profile.read_timeout_s, "read"),
    ):
        if not 0 < value <= MAX_TIMEOUT_S:
            problems.append(
                Problem(field, f"The {what} timeout must be between 0 and {MAX_TIMEOUT_S:g} s.")
            )
    return problems
