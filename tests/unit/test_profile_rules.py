"""The rules a connection profile must follow before it is saved (no Qt, no I/O)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mlops_desktop.domain.connections import AuthKind, Profile, ProfileKind, TlsOptions
from mlops_desktop.services.profile_rules import (
    AUTH_KINDS,
    find_problems,
    find_warnings,
    validate_profile,
    without_unused_fields,
)

GOOD = Profile("id-1", "prod", ProfileKind.MLFLOW, url="https://mlflow.example.com")


def fields(profile: Profile, others: tuple[str, ...] = ()) -> list[str]:
    return [problem.field for problem in find_problems(profile, others)]


def test_a_complete_profile_has_no_problem() -> None:
    assert validate_profile(GOOD, ["dev", "staging"]) == []


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"name": ""}, "name", "Give the connection a name"),
        ({"name": " prod"}, "name", "cannot start or end with a space"),
        ({"name": "a\tb"}, "name", "control characters"),
        ({"url": ""}, "url", "Enter the server URL"),
        ({"url": "mlflow.example.com"}, "url", "must start with http:// or https://"),
        ({"url": "ftp://mlflow.example.com"}, "url", "must start with http:// or https://"),
        ({"url": "https://"}, "url", "has no host name"),
        ({"url": "https://host:99999"}, "url", "is not a valid URL"),
        ({"url": "https://bob:pw@host"}, "url", "Remove the password from the URL"),
        ({"auth": AuthKind.BASIC}, "username", "Enter the user name"),
        ({"auth": AuthKind.SLURM_JWT}, "auth", "does not support that sign-in"),
        ({"proxy": "proxy:3128"}, "proxy", "Proxy: The URL must start with"),
        ({"connect_timeout_s": 0.0}, "connect_timeout_s", "connect timeout"),
        ({"read_timeout_s": -1.0}, "read_timeout_s", "read timeout"),
        ({"colour": "red"}, "colour", "#2e9d5b"),
        ({"tls": TlsOptions(client_key="/k.pem")}, "client_cert", "client certificate"),
    ],
)
def test_each_problem_names_its_field_and_says_what_to_do(
    change: dict[str, object], field: str, words: str
) -> None:
    problems = find_problems(replace(GOOD, **change), [])  # type: ignore[arg-type]
    assert [p.field for p in problems] == [field]
    assert words in problems[0].message


def test_names_are_unique_ignoring_case() -> None:
    assert fields(GOOD, ("PROD",)) == ["name"]
    assert "already exists" in validate_profile(GOOD, ["Prod"])[0]


def test_local_stores_need_a_folder_not_a_url() -> None:
    local = Profile("id-2", "laptop", ProfileKind.LOCAL, url="/data/mlruns")
    assert fields(local) == []
    assert "folder" in validate_profile(replace(local, url=""), [])[0]


def test_kubernetes_with_a_kubeconfig_context_needs_no_url() -> None:
    cluster = Profile("id-3", "k8s", ProfileKind.KUBERNETES, kube_context="prod-eu")
    assert fields(cluster) == []
    assert fields(replace(cluster, kube_context="")) == ["url"]


def test_every_kind_offers_a_sign_in() -> None:
    assert set(AUTH_KINDS) == set(ProfileKind)
    assert AUTH_KINDS[ProfileKind.SLURM] == (AuthKind.SLURM_JWT,)
    assert AUTH_KINDS[ProfileKind.LOCAL] == (AuthKind.NONE,)


def test_risky_choices_are_warnings_not_problems() -> None:
    insecure = replace(GOOD, tls=TlsOptions(verify=False))
    assert fields(insecure) == []
    assert [w.field for w in find_warnings(insecure)] == ["verify"]

    plain_http = replace(GOOD, url="http://mlflow.example.com", auth=AuthKind.BEARER)
    assert [w.field for w in find_warnings(plain_http)] == ["url"]
    loopback = replace(plain_http, url="http://127.0.0.1:5000")
    assert find_warnings(loopback) == []


def test_unused_fields_are_cleared() -> None:
    messy = replace(
        GOOD,
        kind=ProfileKind.LOCAL,
        url="  /data/mlruns ",
        auth=AuthKind.BASIC,
        username="alice",
        proxy="http://proxy:3128",
        namespace="ml",
        tls=TlsOptions(verify=False),
    )
    clean = without_unused_fields(messy)
    assert clean.url == "/data/mlruns"
    assert clean.auth is AuthKind.NONE
    assert (clean.username, clean.proxy, clean.namespace) == ("", "", "")
    assert clean.tls == TlsOptions()
    databricks = replace(GOOD, auth=AuthKind.DATABRICKS, namespace=" ml ")
    kube = without_unused_fields(replace(databricks, kind=ProfileKind.KUBERNETES))
    assert kube.namespace == "ml"
    assert kube.auth is AuthKind.BEARER, "a sign-in the kind lacks becomes its default"
