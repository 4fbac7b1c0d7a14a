"""`mlops-desktop promote ...`: promotion requests, approvals, rollbacks and the audit trail.

The commands call the same use cases as the window (`services/promotion_flow.py`) on the
workspace `--profile NAME` opens (its secret from the keychain), or on the demo workspace when
no profile is named. Who acts is the profile's user name (the server's signed-in user), else
the OS user. Gate policies come from `--gates DIR`, else the profile's gates folder, else the
demo workspace's, else `<config dir>/gates`. A failure or refusal is one sentence on standard
error and exit status 1. Nothing heavy is imported before a command runs.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_desktop.cli_common import CliError, open_cli_workspace, print_table, run_cli_action

if TYPE_CHECKING:
    from mlops_desktop.domain.promotion import AuditEvent, PromotionRequest
    from mlops_desktop.services.gates import GateReport
    from mlops_desktop.services.promotion_flow import PromotionContext, PromotionOutcome


def add_promote_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `promote` command and its actions."""
    promote = commands.add_parser(
        "promote",
        help="promotion requests, approvals, rollbacks and the audit trail of a model",
        description="Move model aliases through requests, gates and four-eyes approvals, "
        "with every step in the model's audit chain on the server. Acts as the profile's user "
        "(--profile NAME), or as the OS user on the demo workspace.",
    )
    actions = promote.add_subparsers(dest="promote_command", metavar="ACTION", required=True)

    request = actions.add_parser(
        "request",
        help="ask for a version to get an alias (someone else approves)",
        description="Ask for version VERSION of MODEL to get alias ALIAS. Refused when the "
        "version already holds it or a request for that alias is pending.",
    )
    request.add_argument("model", metavar="MODEL")
    request.add_argument("version", metavar="VERSION")
    request.add_argument("alias", metavar="ALIAS", help="e.g. champion")
    request.add_argument("--comment", required=True, help="why this version")
    _add_json(request, "print the outcome as JSON")

    approve = actions.add_parser(
        "approve",
        help="approve a request and apply it: the alias moves",
        description="Approve request REQUEST_ID and move its alias. Refused for its requester "
        "(four-eyes), for a request already decided, and while a gate fails without an "
        "--override reason for it.",
    )
    approve.add_argument("request_id", metavar="REQUEST_ID")
    approve.add_argument("--comment", default="", help="the approval's comment")
    approve.add_argument(
        "--override",
        action="append",
        default=[],
        type=_override,
        metavar="GATE=REASON",
        help="approve over failing gate GATE, for the written REASON (repeatable)",
    )
    approve.add_argument("--model", metavar="MODEL", help="the request's model (faster lookup)")
    _add_json(approve, "print the outcome as JSON")

    reject = actions.add_parser("reject", help="reject a pending request, with a comment")
    reject.add_argument("request_id", metavar="REQUEST_ID")
    reject.add_argument("--comment", required=True, help="why")
    reject.add_argument("--model", metavar="MODEL", help="the request's model (faster lookup)")
    _add_json(reject, "print the outcome as JSON")

    rollback = actions.add_parser(
        "rollback",
        help="put an alias back on the version that held it before its last promotion",
    )
    rollback.add_argument("model", metavar="MODEL")
    rollback.add_argument("alias", metavar="ALIAS")
    rollback.add_argument("--comment", required=True, help="why (an incident number...)")
    _add_json(rollback, "print the outcome as JSON")

    status = actions.add_parser(
        "status",
        help="a model's aliases, pending requests with their gates, unfinished steps",
    )
    status.add_argument("model", metavar="MODEL")
    _add_json(status, "print it as JSON")

    history = actions.add_parser(
        "history",
        help="a model's audit chain, checked; or which version held an alias at a time",
        description="The model's audit events, oldest first, with what the hash-chain check "
        "finds (edited or removed events). With --at and --alias: which version held the "
        "alias at that time.",
    )
    history.add_argument("model", metavar="MODEL")
    history.add_argument(
        "--at",
        type=_iso_time,
        metavar="ISO_TIME",
        help="e.g. 2026-11-20T10:00 (UTC unless it says otherwise); needs --alias",
    )
    history.add_argument("--alias", metavar="ALIAS", help="the alias asked about with --at")
    _add_json(history, "print it as JSON")

    inbox = actions.add_parser("inbox", help="pending requests you may decide (not your own)")
    _add_json(inbox, "print them as JSON")

    repair = actions.add_parser(
        "repair",
        help="complete or undo a model's interrupted promotion steps now",
        description="Complete the interrupted promotion steps of MODEL whose change reached the "
        "registry (the alias moved) and drop those that changed nothing.",
    )
    repair.add_argument("model", metavar="MODEL")

    for parser in actions.choices.values():
        # After the action too ("promote status M --profile prod"); SUPPRESS keeps a --profile
        # given before "promote" from being reset to None.
        parser.add_argument(
            "--profile",
            metavar="NAME",
            default=argparse.SUPPRESS,
            help="the connection profile to use (default: the demo workspace)",
        )
        parser.add_argument(
            "--gates",
            type=Path,
            metavar="DIR",
            help="the folder of gate policies (<model>.toml) to use",
        )


def _add_json(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument("--json", action="store_true", help=help)


def _override(text: str) -> tuple[str, str]:
    gate, sep, reason = text.partition("=")
    if not sep or not gate.strip() or not reason.strip():
        raise argparse.ArgumentTypeError(
            f"expected GATE=REASON with a written reason, got {text!r}"
        )
    return gate.strip(), reason.strip()


def _iso_time(text: str) -> int:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO time such as 2026-11-20T10:00, got {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def run_promote_command(args: argparse.Namespace) -> int:
    """Run `mlops-desktop promote <action>`; the exit status."""
    handlers: dict[str, Callable[[PromotionContext, argparse.Namespace], int]] = {
        "request": _request,
        "approve": _approve,
        "reject": _reject,
        "rollback": _rollback,
        "status": _status,
        "history": _history,
        "inbox": _inbox,
        "repair": _repair,
    }

    def action() -> int:
        if args.promote_command == "history" and (args.at is None) != (args.alias is None):
            raise CliError("--at and --alias go together: which version held ALIAS at ISO_TIME.")
        from mlops_desktop.services.paths import AppPaths
        from mlops_desktop.services.promotion_flow import context_for

        workspace, profile = open_cli_workspace(getattr(args, "profile", None))
        try:
            ctx = context_for(workspace, AppPaths.from_environment(), profile, args.gates)
            return handlers[args.promote_command](ctx, args)
        finally:
            workspace.close()

    return run_cli_action(action)


# -- the steps ----------------------------------------------------------------------------------


def _request(ctx: PromotionContext, args: argparse.Namespace) -> int:
    from mlops_desktop.services.promotion_flow import request_promotion

    return _report(
        request_promotion(ctx, args.model, args.version, args.alias, args.comment), args.json
    )


def _approve(ctx: PromotionContext, args: argparse.Namespace) -> int:
    from mlops_desktop.services.promotion_flow import approve_request

    overrides = dict(args.override)
    if len(overrides) != len(args.override):
        raise CliError("Each gate can be overridden once: one --override GATE=REASON per gate.")
    outcome = approve_request(
        ctx, args.request_id, args.comment, overrides=overrides, model_name=args.model
    )
    return _report(outcome, args.json)


def _reject(ctx: PromotionContext, args: argparse.Namespace) -> int:
    from mlops_desktop.services.promotion_flow import reject_request

    return _report(
        reject_request(ctx, args.request_id, args.comment, model_name=args.model), args.json
    )


def _rollback(ctx: PromotionContext, args: argparse.Namespace) -> int:
    from mlops_desktop.services.promotion_flow import rollback_alias

    return _report(rollback_alias(ctx, args.model, args.alias, args.comment), args.json)


def _repair(ctx: PromotionContext, args: argparse.Namespace) -> int:
    from mlops_desktop.services.promotion_flow import repair_model

    sentences = repair_model(ctx, args.model)
    for sentence in sentences:
        print(sentence)
    if not sentences:
        print(f"{args.model} has no interrupted promotion step.")
    return 0


def _report(outcome: PromotionOutcome, as_json: bool) -> int:
    if as_json:
        print(json.dumps(_outcome_json(outcome), indent=2))
    else:
        print(outcome.message)
    return 0


def _outcome_json(outcome: PromotionOutcome) -> dict[str, Any]:
    return {
        "action": outcome.action,
        "model": outcome.model_name,
        "alias": outcome.alias,
        "version": outcome.version,
        "previous_version": outcome.previous_version,
        "applied": outcome.applied,
        "request": _request_json(outcome.request) if outcome.request else None,
        "events": [_event_json(e) for e in outcome.events],
        "repairs": list(outcome.repairs),
        "message": outcome.message,
    }


# -- reading ----------------------------------------------------------------------------------


def _status(ctx: PromotionContext, args: argparse.Namespace) -> int:
    from mlops_desktop.services.gates import policy_path
    from mlops_desktop.services.promotion_flow import load_status

    status = load_status(ctx, args.model)
    overview = status.overview
    if args.json:
        print(
            json.dumps(
                {
                    "model": overview.name,
                    "aliases": dict(overview.aliases),
                    "gates_dir": str(ctx.gates_dir) if ctx.gates_dir else None,
                    "pending": [
                        {
                            **_request_json(review.request),
                            "gates": _gates_json(review.gates) if review.gates else None,
                            "gate_error": review.gate_error,
                        }
                        for review in status.reviews
                    ],
                    "audit": {
                        "events": len(overview.audit.events),
                        "intact": overview.audit.intact,
                        "problems": list(overview.audit.problems),
                    },
                    "alias_mismatches": list(overview.alias_mismatches),
                    "unfinished_steps": [step.sentence for step in status.interrupted],
                },
                indent=2,
            )
        )
        return 0
    print(overview.name)
    policy = policy_path(ctx.gates_dir, overview.name) if ctx.gates_dir else None
    print(f"Gate policy: {policy if policy and policy.is_file() else 'none'}")
    print("Aliases:")
    for alias, version in overview.aliases or (("(none)", ""),):
        print(f"  {alias:<12} {'version ' + version if version else ''}".rstrip())
    print("Pending requests:" if status.reviews else "Pending requests: none")
    for review in status.reviews:
        request = review.request
        print(
            f"  {request.request_id}  version {request.version} -> {request.alias}  by "
            f"{request.requester}  {_utc(request.created_ms)}  {request.comment}"
        )
        if review.gates is None:
            print(f"    gates not checked: {review.gate_error}")
            continue
        for line in _gate_lines(review.gates):
            print(f"    {line}")
    chain = overview.audit
    state = "intact" if chain.intact else f"{len(chain.problems)} problem(s)"
    print(f"Audit chain: {len(chain.events)} event(s), {state}.")
    for problem in (*chain.problems, *overview.alias_mismatches):
        print(f"  {problem}")
    for step in status.interrupted:
        print(step.sentence)
    return 0


def _gate_lines(report: GateReport) -> list[str]:
    if not report.results:
        return [report.policy_source if "No gate" in report.policy_source else "no gates"]
    width = max(len(r.name) for r in report.results)
    lines = [
        f"{r.outcome.value.replace('_', ' '):<13} {r.name:<{width}}  {r.evidence}"
        for r in report.results
    ]
    if report.all_passed:
        lines.append("every gate passes")
    else:
        names = " ".join(f"--override {r.name}=REASON" for r in report.failing)
        lines.append(f"{len(report.failing)} gate(s) fail: approving needs {names}")
    return lines


def _history(ctx: PromotionContext, args: argparse.Namespace) -> int:
    from mlops_desktop.services.promotion_flow import holder_at, load_history

    if args.at is not None:
        answer = holder_at(ctx.tracking, args.model, args.alias, args.at)
        if args.json:
            print(
                json.dumps(
                    {
                        "model": args.model,
                        "alias": answer.alias,
                        "time": _utc(answer.time_ms),
                        "version": answer.version,
                        "event_seq": answer.event.seq if answer.event else None,
                        "sentence": answer.sentence,
                        "chain_problems": list(answer.chain_problems),
                    },
                    indent=2,
                )
            )
        else:
            print(answer.sentence)
        return 0
    history = load_history(ctx.tracking, args.model)
    if args.json:
        print(
            json.dumps(
                {
                    "model": history.model_name,
                    "intact": history.intact,
                    "problems": list(history.problems),
                    "events": [_event_json(e) for e in history.events],
                },
                indent=2,
            )
        )
        return 0
    rows = [("SEQ", "TIME (UTC)", "ACTOR", "ACTION", "VERSION", "ALIAS", "COMMENT")]
    for event in history.events:
        comment = event.comment
        if event.overrides:
            overridden = "; ".join(f"{g}: {r}" for g, r in event.overrides.items())
            comment = f"{comment} [OVERRIDE {overridden}]".strip()
        rows.append(
            (
                str(event.seq),
                _utc(event.time_ms),
                event.actor,
                event.action,
                event.version or "-",
                event.alias,
                comment,
            )
        )
    print_table(rows)
    if history.intact:
        print(f"The audit chain of {history.model_name} is intact ({len(history.events)} events).")
    else:
        print(f"The audit chain of {history.model_name} is damaged:")
        for problem in history.problems:
            print(f"  {problem}")
    return 0 if history.intact else 1


def _inbox(ctx: PromotionContext, args: argparse.Namespace) -> int:
    from mlops_desktop.services.promotion_flow import requests_awaiting

    waiting = requests_awaiting(ctx.tracking, ctx.actor)
    if args.json:
        print(json.dumps([_request_json(r) for r in waiting], indent=2))
        return 0
    if not waiting:
        print(f"No promotion request awaits {ctx.actor}.")
        return 0
    rows = [("REQUEST", "MODEL", "VERSION", "ALIAS", "BY", "SINCE (UTC)", "COMMENT")]
    rows += [
        (
            r.request_id,
            r.model_name,
            r.version,
            r.alias,
            r.requester,
            _utc(r.created_ms),
            r.comment,
        )
        for r in waiting
    ]
    print_table(rows)
    return 0


# -- formatting --------------------------------------------------------------------------------


def _request_json(request: PromotionRequest) -> dict[str, Any]:
    return {
        "request_id": request.request_id,
        "model": request.model_name,
        "version": request.version,
        "alias": request.alias,
        "requester": request.requester,
        "comment": request.comment,
        "state": request.state.value,
        "created": _utc(request.created_ms),
        "updated": _utc(request.updated_ms) if request.updated_ms else None,
        "decided_by": request.decided_by,
        "decision_comment": request.decision_comment,
        "overrides": dict(request.overrides),
        "previous_version": request.previous_version,
    }


def _gates_json(report: GateReport) -> dict[str, Any]:
    return {
        "policy": report.policy_source,
        "holder_version": report.holder_version,
        "all_passed": report.all_passed,
        "results": [
            {
                "name": r.name,
                "kind": r.kind,
                "title": r.title,
                "outcome": r.outcome.value,
                "evidence": r.evidence,
            }
            for r in report.results
        ],
    }


def _event_json(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "time": _utc(event.time_ms),
        "time_ms": event.time_ms,
        "actor": event.actor,
        "action": event.action,
        "version": event.version,
        "alias": event.alias,
        "comment": event.comment,
        "details": dict(event.details),
        "hash": event.hash,
        "prev_hash": event.prev_hash,
    }


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
