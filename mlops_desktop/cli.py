"""The `mlops-desktop` command: no sub-command opens the window; sub-commands are the CLI.

Start-up stays light: Qt, mlflow and pandas are imported only by the sub-command that needs
them, so `--version` and `--help` answer at once.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_desktop import APP_TITLE, __version__
from mlops_desktop.cli_promote import add_promote_parser, run_promote_command
from mlops_desktop.cli_runs import add_runs_parser, run_runs_command
from mlops_desktop.domain.connections import AuthKind, ProfileKind

if TYPE_CHECKING:
    from mlops_desktop.domain.connections import Profile
    from mlops_desktop.services.profiles import ProfileStore

VIEW_NAMES = (
    "connections",
    "experiments",
    "compare",
    "models",
    "monitoring",
    "jobs",
    "bundles",
    "audit",
)


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        message = f"expected WIDTHxHEIGHT such as 1400x900, got {text!r}"
        raise argparse.ArgumentTypeError(message) from None
    if not (320 <= width <= 8000 and 240 <= height <= 8000):
        raise argparse.ArgumentTypeError("the size must be between 320x240 and 8000x8000")
    return width, height


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlops-desktop",
        description=f"{APP_TITLE}: MLflow runs, model promotions, monitoring and retraining "
        "in one window. With no command, opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"mlops-desktop {__version__}")
    parser.add_argument(
        "--view",
        choices=VIEW_NAMES,
        help="open the window on this view instead of the last one used",
    )
    parser.add_argument(
        "--profile",
        metavar="NAME",
        help="the connection profile to use (see `mlops-desktop connections list`)",
    )
    parser.add_argument("--exit-after-paint", action="store_true", help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_connections_parser(commands)
    add_runs_parser(commands)
    add_promote_parser(commands)

    demo = commands.add_parser("demo", help="the embedded demo workspace")
    demo_commands = demo.add_subparsers(dest="demo_command", metavar="ACTION", required=True)
    init = demo_commands.add_parser(
        "init",
        help="create the demo workspace (a seeded local MLflow store)",
        description="Create the demo workspace: a local MLflow SQLite store seeded with a "
        "hyper-parameter sweep, a registered model with champion and challenger, promotion "
        "history and 30 days of monitoring series.",
    )
    init.add_argument(
        "--path",
        type=Path,
        help="where to create it (default: the demo folder in the user data dir)",
    )
    init.add_argument(
        "--force", action="store_true", help="rebuild it even if a demo workspace is already there"
    )
    init.add_argument("--json", action="store_true", help="print the summary as JSON")
    info = demo_commands.add_parser("info", help="where the demo workspace is and what it holds")
    info.add_argument("--json", action="store_true", help="print as JSON")

    shot = commands.add_parser(
        "screenshot",
        help="render a view offscreen to a PNG file",
        description="Render one view of the window offscreen (no display needed) on the "
        "current workspace, and write it as a PNG.",
    )
    shot.add_argument("--view", required=True, choices=VIEW_NAMES)
    shot.add_argument("--out", required=True, type=Path, help="the PNG file to write")
    shot.add_argument(
        "--size",
        type=_size,
        default=(1400, 900),
        metavar="WxH",
        help="window size in pixels (default 1400x900)",
    )
    shot.add_argument("--theme", choices=("light", "dark"), default="light")
    shot.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        help="seconds to wait for the view's data (default 120)",
    )
    return parser


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("the timeout must be more than 0 seconds")
    return value


def _add_connections_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    connections = commands.add_parser(
        "connections",
        help="connection profiles: list, add, test, remove, export, import",
        description="Connection profiles: MLflow servers, local stores, clusters and metrics "
        "stores. Profiles live in the user config dir and never hold a secret: passwords and "
        "tokens go to the OS keychain, read from a prompt or standard input, never from the "
        "command line.",
    )
    actions = connections.add_subparsers(
        dest="connections_command", metavar="ACTION", required=True
    )

    listing = actions.add_parser("list", help="the saved connection profiles")
    listing.add_argument("--json", action="store_true", help="print them as JSON")

    add = actions.add_parser(
        "add",
        help="save a new connection profile (and its secret in the OS keychain)",
        description="Save a new connection profile. When it signs in (--auth), its password "
        "or token is asked for at a prompt, or read from standard input with --secret-stdin, "
        "and stored in the OS keychain.",
    )
    add.add_argument("name", metavar="NAME", help="a unique name, e.g. prod")
    add.add_argument("--kind", required=True, choices=[kind.value for kind in ProfileKind])
    add.add_argument("--url", required=True, help="the server URL, or a local store's folder")
    add.add_argument(
        "--auth",
        choices=[auth.value for auth in AuthKind],
        help="how to sign in (default: the kind's usual one, none for MLflow)",
    )
    add.add_argument("--username", default="", help="the user name (basic and slurm_jwt auth)")
    _add_secret_stdin(add)
    add.add_argument(
        "--session-only",
        action="store_true",
        help="do not store the secret in the keychain (commands that need it ask again)",
    )
    tls = add.add_argument_group("TLS")
    tls.add_argument(
        "--no-verify-tls", action="store_true", help="do not check the server's certificate"
    )
    tls.add_argument("--ca-bundle", default="", metavar="FILE", help="a PEM file of extra CAs")
    tls.add_argument("--client-cert", default="", metavar="FILE", help="a PEM client certificate")
    tls.add_argument("--client-key", default="", metavar="FILE", help="its key, if separate")
    network = add.add_argument_group("network")
    network.add_argument("--proxy", default="", help="e.g. http://proxy:3128")
    network.add_argument(
        "--connect-timeout", type=_positive_seconds, default=5.0, metavar="S", help="default 5"
    )
    network.add_argument(
        "--read-timeout", type=_positive_seconds, default=30.0, metavar="S", help="default 30"
    )
    looks = add.add_argument_group("appearance")
    looks.add_argument("--label", default="", help="e.g. prod, staging, dev")
    looks.add_argument("--colour", default="#2e9d5b", help="#rrggbb shown on every view header")
    looks.add_argument("--description", default="")
    kubernetes = add.add_argument_group("Kubernetes")
    kubernetes.add_argument("--namespace", default="")
    kubernetes.add_argument("--kube-context", default="", metavar="C")

    test = actions.add_parser(
        "test",
        help="connect to a profile's server and report its version, user and round trip",
        description="Connect to the profile's server: print what answered (version, user, "
        "round-trip time) or why it could not. Exit status 0 when it works, 1 when not.",
    )
    test.add_argument("name", metavar="NAME", nargs="?", help="the profile (default: --profile)")
    test.add_argument("--json", action="store_true", help="print the report as JSON")
    _add_secret_stdin(test, "use this secret instead of the keychain's")

    remove = actions.add_parser("remove", help="delete a profile and its keychain secret")
    remove.add_argument("name", metavar="NAME")

    secret = actions.add_parser(
        "set-secret",
        help="store a profile's password or token in the OS keychain",
        description="Store (or replace) a profile's password or token in the OS keychain, "
        "e.g. after importing profiles: secrets are never exported.",
    )
    secret.add_argument("name", metavar="NAME")
    _add_secret_stdin(secret)

    export = actions.add_parser(
        "export", help="write profiles (never their secrets) to a file to share"
    )
    export.add_argument("file", metavar="FILE", type=Path)
    export.add_argument("names", metavar="NAME", nargs="*", help="the profiles (default: all)")

    imports = actions.add_parser(
        "import", help="add the profiles of an exported file (renamed on a name clash)"
    )
    imports.add_argument("file", metavar="FILE", type=Path)
    # No abbreviations: "--secret" must never be taken for --secret-stdin.
    for parser in (connections, *actions.choices.values()):
        parser.allow_abbrev = False


def _add_secret_stdin(
    parser: argparse.ArgumentParser, help: str = "read the password or token from standard input"
) -> None:
    parser.add_argument("--secret-stdin", action="store_true", help=help)


class _Refused(Exception):
    """A CLI usage problem, said in one sentence (exit status 2)."""


def _connections(args: argparse.Namespace) -> int:
    from mlops_desktop.backends.errors import BackendError

    handlers = {
        "list": _connections_list,
        "add": _connections_add,
        "test": _connections_test,
        "remove": _connections_remove,
        "set-secret": _connections_set_secret,
        "export": _connections_export,
        "import": _connections_import,
    }
    try:
        return handlers[args.connections_command](args)
    except _Refused as error:
        print(f"mlops-desktop: {error}", file=sys.stderr)
        return 2
    except (BackendError, OSError) as error:
        print(f"mlops-desktop: {error}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, EOFError):
        print("\nmlops-desktop: cancelled.", file=sys.stderr)
        return 130


def _profile_store() -> ProfileStore:
    from mlops_desktop.services.paths import AppPaths
    from mlops_desktop.services.profiles import ProfileStore

    return ProfileStore(AppPaths.from_environment().profiles_file)


def _read_secret(args: argparse.Namespace, profile: Profile) -> str:
    """The secret from standard input (--secret-stdin) or a prompt; never from argv."""
    what = "token" if profile.auth in (AuthKind.BEARER, AuthKind.DATABRICKS) else "password"
    if profile.auth is AuthKind.SLURM_JWT:
        what = "JWT"
    if args.secret_stdin:
        secret = sys.stdin.read()
        # One trailing line break is the shell's, not the secret's.
        secret = secret[:-1] if secret.endswith("\n") else secret
        secret = secret[:-1] if secret.endswith("\r") else secret
        if not secret:
            raise _Refused(f"No {what} on standard input.")
        return secret
    if not sys.stdin.isatty():
        raise _Refused(
            f"No terminal to ask for the {what} of {profile.name!r}: pipe it in with "
            "--secret-stdin."
        )
    import getpass

    who = f" of {profile.username}" if profile.username else ""
    secret = getpass.getpass(f"The {what}{who} for {profile.name} ({profile.url}): ")
    if not secret:
        raise _Refused(f"No {what} entered.")
    return secret


def _connections_list(args: argparse.Namespace) -> int:
    from mlops_desktop.services.profiles import profile_to_json

    profiles = _profile_store().load()
    if args.json:
        print(json.dumps([profile_to_json(p) for p in profiles], indent=2))
        return 0
    if not profiles:
        print(
            "No connection profiles yet: add one with "
            "mlops-desktop connections add NAME --kind mlflow --url URL"
        )
        return 0
    rows = [("NAME", "KIND", "URL", "AUTH", "LABEL")] + [
        (p.name, p.kind.value, p.url or p.kube_context, p.auth.value, p.label) for p in profiles
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    return 0


def _connections_add(args: argparse.Namespace) -> int:
    from mlops_desktop.backends.errors import BackendError
    from mlops_desktop.backends.secrets import SecretVault
    from mlops_desktop.domain.connections import Profile, TlsOptions
    from mlops_desktop.services import profile_rules
    from mlops_desktop.services.profiles import new_profile_id

    kind = ProfileKind(args.kind)
    auth = AuthKind(args.auth) if args.auth else profile_rules.AUTH_KINDS[kind][0]
    profile = profile_rules.without_unused_fields(
        Profile(
            profile_id=new_profile_id(),
            name=args.name,
            kind=kind,
            url=args.url,
            auth=auth,
            username=args.username,
            tls=TlsOptions(
                verify=not args.no_verify_tls,
                ca_bundle=args.ca_bundle,
                client_cert=args.client_cert,
                client_key=args.client_key,
            ),
            proxy=args.proxy,
            connect_timeout_s=args.connect_timeout,
            read_timeout_s=args.read_timeout,
            colour=args.colour,
            label=args.label,
            namespace=args.namespace,
            kube_context=args.kube_context,
            description=args.description,
        )
    )
    store = _profile_store()
    problems = profile_rules.validate_profile(profile, [p.name for p in store.load()])
    if problems:
        raise _Refused(" ".join(problems))
    vault = SecretVault()
    where = ""
    if profile.needs_secret:
        secret = _read_secret(args, profile)
        try:
            vault.set(profile.profile_id, secret, session_only=args.session_only)
        except BackendError as error:
            raise type(error)(
                f"{str(error).rstrip('.')}. The connection was not added: add it with "
                "--session-only to keep no secret."
            ) from None
        where = (
            "; its secret was not stored (--session-only): commands that need it ask again"
            if args.session_only
            else "; its secret is in the OS keychain"
        )
    try:
        store.save(profile)
    except BaseException:
        if profile.needs_secret and not args.session_only:
            vault.delete(profile.profile_id)
        raise
    print(f"Added connection {profile.name!r} ({kind.value}, {profile.url}){where}.")
    return 0


def _connections_test(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from mlops_desktop.backends.secrets import KeychainUnavailable, SecretVault
    from mlops_desktop.domain.connections import ConnectionReport
    from mlops_desktop.services.connections import test_connection
    from mlops_desktop.services.tasks import TaskState

    name = args.name or args.profile
    if not name:
        raise _Refused(
            "Name the connection to test: mlops-desktop connections test NAME "
            "(or mlops-desktop --profile NAME connections test)."
        )
    profile = _profile_store().get(name)
    secret: str | None = None
    report: ConnectionReport | None = None
    if args.secret_stdin:
        secret = _read_secret(args, profile)
    elif profile.needs_secret:
        try:
            secret = SecretVault().get(profile.profile_id)
        except KeychainUnavailable as error:
            if sys.stdin.isatty():
                secret = _read_secret(args, profile)
            else:
                report = ConnectionReport(ok=False, message=str(error), failure=error.failure)
        if secret is None and report is None and sys.stdin.isatty():
            secret = _read_secret(args, profile)
    if report is None:
        report = test_connection(profile, secret, TaskState())
    if args.json:
        print(json.dumps({"profile": profile.name, **asdict(report)}))
    elif report.ok:
        print(report.message)
    else:
        print(f"mlops-desktop: {report.message}", file=sys.stderr)
    return 0 if report.ok else 1


def _connections_remove(args: argparse.Namespace) -> int:
    from mlops_desktop.backends.secrets import KeychainUnavailable, SecretVault

    profile = _profile_store().remove(args.name)
    try:
        SecretVault().delete(profile.profile_id)
    except KeychainUnavailable as error:
        if profile.needs_secret:
            print(
                f"mlops-desktop: removed connection {profile.name!r}, but its secret could not "
                f"be removed from the keychain: {error}",
                file=sys.stderr,
            )
            return 1
    print(f"Removed connection {profile.name!r}.")
    return 0


def _connections_set_secret(args: argparse.Namespace) -> int:
    from mlops_desktop.backends.secrets import SecretVault

    profile = _profile_store().get(args.name)
    if not profile.needs_secret:
        raise _Refused(
            f"Connection {profile.name!r} signs in with no secret (auth {profile.auth.value})."
        )
    SecretVault().set(profile.profile_id, _read_secret(args, profile))
    print(f"The secret of connection {profile.name!r} is in the OS keychain.")
    return 0


def _connections_export(args: argparse.Namespace) -> int:
    count = _profile_store().export(args.file, args.names or None)
    print(f"Exported {count} connection(s) to {args.file}, without their secrets.")
    return 0


def _connections_import(args: argparse.Namespace) -> int:
    imported = _profile_store().import_file(args.file)
    names = ", ".join(repr(p.name) for p in imported) or "none"
    print(f"Imported {len(imported)} connection(s) from {args.file}: {names}.")
    needing = [p.name for p in imported if p.needs_secret]
    if needing:
        print(
            "Secrets are never exported: store each with "
            "`mlops-desktop connections set-secret NAME` ("
            + ", ".join(repr(name) for name in needing)
            + ")."
        )
    return 0


def _demo_init(args: argparse.Namespace) -> int:
    from mlops_desktop.backends.errors import BackendError
    from mlops_desktop.services import demo
    from mlops_desktop.services.paths import AppPaths
    from mlops_desktop.services.tasks import TaskState

    root = args.path or AppPaths.from_environment().demo_dir

    def report(fraction: float, message: str) -> None:
        if not args.json and message:
            percent = f"{fraction:4.0%}" if fraction >= 0 else "    "
            print(f"{percent} {message}", file=sys.stderr)

    try:
        summary = demo.init_demo_workspace(
            root, state=TaskState(on_progress=report), force=args.force
        )
    except BackendError as error:
        print(f"mlops-desktop: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(
            json.dumps(
                {
                    "path": str(summary.path),
                    "experiments": summary.experiments,
                    "runs": summary.runs,
                    "metric_points": summary.metric_points,
                    "model_versions": summary.model_versions,
                    "seconds": round(summary.seconds, 3),
                }
            )
        )
    else:
        print(
            f"Demo workspace ready at {summary.path}: {summary.experiments} experiments, "
            f"{summary.runs} runs, {summary.metric_points} metric points, "
            f"{summary.model_versions} model versions ({summary.seconds:.1f} s)."
        )
    return 0


def _demo_info(args: argparse.Namespace) -> int:
    from mlops_desktop.services import demo
    from mlops_desktop.services.paths import AppPaths

    root = AppPaths.from_environment().demo_dir
    exists = demo.is_demo_workspace(root)
    if args.json:
        print(json.dumps({"path": str(root), "exists": exists}))
    elif exists:
        print(f"Demo workspace: {root}")
    else:
        print(
            f"No demo workspace yet at {root}; `mlops-desktop demo init` creates it "
            "(the window also creates it on first start)."
        )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    if args.command == "runs":
        return run_runs_command(args)
    if args.command == "promote":
        return run_promote_command(args)
    if args.command == "connections":
        return _connections(args)
    if args.command == "demo":
        return _demo_init(args) if args.demo_command == "init" else _demo_info(args)
    if args.profile and not _profile_exists(args.profile):
        return 1
    if args.command == "screenshot":
        from mlops_desktop.ui.screenshot import take_screenshot

        return take_screenshot(
            args.view, args.out, args.size, args.theme, args.timeout, profile=args.profile
        )
    from mlops_desktop.ui.app import run_app

    return run_app(
        initial_view=args.view, exit_after_paint=args.exit_after_paint, profile=args.profile
    )


def _profile_exists(name: str) -> bool:
    """Check --profile before any window opens: a typo is one sentence, not a dialog."""
    from mlops_desktop.backends.errors import BackendError

    try:
        _profile_store().get(name)
    except BackendError as error:
        print(f"mlops-desktop: {error}", file=sys.stderr)
        return False
    return True


if __name__ == "__main__":
    raise SystemExit(main())
