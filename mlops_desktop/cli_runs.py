"""`mlops-desktop runs ...`: list an experiment's runs, show one, list and download its artifacts.

The commands call the same service functions as the window (the runs loader, the run detail,
the artifact tree and download) on the workspace `--profile NAME` opens, or on the demo
workspace when no profile is named. A failure is one sentence on standard error and exit
status 1. This module imports nothing heavy at start-up: `--help` stays instant.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_desktop.cli_common import CliError, open_cli_workspace, print_table, run_cli_action

if TYPE_CHECKING:
    import pandas as pd

    from mlops_desktop.domain.tracking import Experiment
    from mlops_desktop.services.run_detail import RunDetail, RunModel
    from mlops_desktop.services.tasks import TaskState
    from mlops_desktop.services.workspace import Workspace

FORMATS = ("table", "csv", "json")
#: Short names accepted by --columns for the runs table's fixed columns.
COLUMN_ALIASES = {"name": "run_name", "start": "start_time", "duration": "duration_s"}


def add_runs_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `runs` command and its actions."""
    runs = commands.add_parser(
        "runs",
        help="list an experiment's runs, show a run, list and download its artifacts",
        description="Runs from the command line, on the workspace --profile NAME opens (an "
        "MLflow server or a local store) or, with no profile, on the demo workspace.",
    )
    actions = runs.add_subparsers(dest="runs_command", metavar="ACTION", required=True)

    listing = actions.add_parser(
        "list",
        help="the runs of an experiment, as a table, CSV or JSON",
        description="The runs of an experiment (named or numbered), newest first, filtered "
        "on the server with MLflow's search syntax.",
    )
    listing.add_argument("experiment", metavar="EXPERIMENT", help="an experiment name or id")
    listing.add_argument(
        "--filter",
        default="",
        metavar="MLFLOW_FILTER",
        help="MLflow search syntax, e.g. \"metrics.val_auc > 0.9 and params.optimizer = 'adamw'\"",
    )
    listing.add_argument(
        "--columns",
        default="",
        metavar="A,B",
        help="columns to print, e.g. run_id,name,status,params.lr,metrics.val_auc (a bare "
        "name is looked up among params, metrics and tags); default: the run id and the "
        "columns the window shows first",
    )
    listing.add_argument("--format", choices=FORMATS, default="table", help="default: table")
    listing.add_argument(
        "--limit", type=_positive_int, default=None, metavar="N", help="at most N runs"
    )

    show = actions.add_parser(
        "show",
        help="everything about one run: params, metrics, tags, inputs, source, models",
        description="One run in full: status and times, source and git commit, parent run, "
        "params, latest metrics, system metrics, tags, dataset inputs, logged models and "
        "its artifacts.",
    )
    show.add_argument("run_id", metavar="RUN_ID")
    show.add_argument("--json", action="store_true", help="print it as JSON")

    artifacts = actions.add_parser(
        "artifacts",
        help="a run's artifact files and folders, with their sizes",
        description="Every artifact file and folder of a run (or under PATH), with sizes.",
    )
    artifacts.add_argument("run_id", metavar="RUN_ID")
    artifacts.add_argument("path", metavar="PATH", nargs="?", default="", help="a folder or file")
    artifacts.add_argument("--json", action="store_true", help="print them as JSON")

    download = actions.add_parser(
        "download",
        help="copy a run's artifact file or folder to this machine",
        description="Copy an artifact file, or a folder with everything in it, into DIR. A "
        "file or folder of the same name already there is kept: the copy gets a free name. "
        "An interrupted download leaves nothing behind.",
    )
    download.add_argument("run_id", metavar="RUN_ID")
    download.add_argument("path", metavar="PATH", help="the artifact file or folder")
    download.add_argument("--out", required=True, type=Path, metavar="DIR", help="where to")

    for parser in actions.choices.values():
        # After the action too ("runs list X --profile prod"); SUPPRESS keeps a --profile
        # given before "runs" from being reset to None.
        parser.add_argument(
            "--profile",
            metavar="NAME",
            default=argparse.SUPPRESS,
            help="the connection profile to use (default: the demo workspace)",
        )


def run_runs_command(args: argparse.Namespace) -> int:
    """Run `mlops-desktop runs <action>`; the exit status."""
    handlers: dict[str, Callable[[Workspace, argparse.Namespace], int]] = {
        "list": _runs_list,
        "show": _runs_show,
        "artifacts": _runs_artifacts,
        "download": _runs_download,
    }

    def action() -> int:
        workspace, _ = open_cli_workspace(getattr(args, "profile", None), _progress_state())
        try:
            return handlers[args.runs_command](workspace, args)
        finally:
            workspace.close()

    return run_cli_action(action)


def _progress_state() -> TaskState:
    """A task state that shows progress on standard error when it is a terminal."""
    from mlops_desktop.services.tasks import TaskState

    if not sys.stderr.isatty():
        return TaskState()

    def report(fraction: float, message: str) -> None:
        if message:
            percent = f"{fraction:4.0%}" if fraction >= 0 else "    "
            print(f"\r\033[K{percent} {message}", end="", file=sys.stderr, flush=True)

    return TaskState(on_progress=report)


def _end_progress_line() -> None:
    if sys.stderr.isatty():
        print("\r\033[K", end="", file=sys.stderr, flush=True)


# -- runs list ------------------------------------------------------------------------------


def _runs_list(workspace: Workspace, args: argparse.Namespace) -> int:
    experiment = find_experiment(workspace, args.experiment)
    frame = load_runs(workspace, experiment.experiment_id, args.filter, args.limit)
    columns = choose_columns(frame, args.columns)
    rows = [[_cell(frame[c].iat[i]) for c in columns] for i in range(len(frame))]
    if args.format == "json":
        print(json.dumps([dict(zip(columns, row, strict=True)) for row in rows], indent=2))
    elif args.format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([["" if v is None else v for v in row] for row in rows])
    elif not rows:
        where = f" matching {args.filter!r}" if args.filter else ""
        print(f"No runs in experiment {experiment.name!r}{where}.")
    else:
        print_table([list(columns), *([_text(v) for v in row] for row in rows)])
    return 0


def find_experiment(workspace: Workspace, wanted: str) -> Experiment:
    """The experiment with id `wanted`, else the one named so; a sentence when none is."""
    experiments = workspace.tracking.list_experiments()
    for experiment in experiments:
        if experiment.experiment_id == wanted:
            return experiment
    for experiment in experiments:
        if experiment.name == wanted:
            return experiment
    names = ", ".join(repr(e.name) for e in experiments[:10]) or "none"
    more = f" and {len(experiments) - 10} more" if len(experiments) > 10 else ""
    raise CliError(
        f"{workspace.label} has no experiment named or numbered {wanted!r}; its experiments "
        f"are {names}{more}."
    )


def load_runs(
    workspace: Workspace, experiment_id: str, filter_string: str, limit: int | None
) -> pd.DataFrame:
    """The experiment's runs as the window loads them, stopping after `limit` runs."""
    import contextlib

    from mlops_desktop.services.experiments import concat_frames, stream_run_pages

    pages, loaded = [], 0
    stream = stream_run_pages(workspace.tracking, [experiment_id], _progress_state(), filter_string)
    with contextlib.closing(stream):
        for page in stream:
            pages.append(page)
            loaded += len(page)
            if limit and loaded >= limit:
                break
    _end_progress_line()
    frame = concat_frames(pages)
    return frame.iloc[:limit].reset_index(drop=True) if limit else frame


def choose_columns(frame: pd.DataFrame, wanted: str) -> list[str]:
    """The columns `--columns` names (short names resolved), or the window's defaults."""
    from mlops_desktop.services.experiments import default_columns

    if not wanted.strip():
        return ["run_id", *default_columns(frame)]
    chosen = []
    for name in (part.strip() for part in wanted.split(",")):
        if not name:
            continue
        name = COLUMN_ALIASES.get(name, name)
        candidates = [name, f"params.{name}", f"metrics.{name}", f"tags.{name}"]
        found = next((c for c in candidates if c in frame.columns), None)
        if found is None:
            if frame.empty:
                continue  # no runs: no column to check against, an empty list is right
            known = ", ".join(list(frame.columns)[:12])
            raise CliError(
                f"No column {name!r} in these runs; columns include {known} (params.*, "
                "metrics.* and tags.* for the rest)."
            )
        chosen.append(found)
    return chosen


def _cell(value: Any) -> Any:
    """A frame value as a JSON value: None for missing, ISO text for times."""
    import pandas as pd

    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ") if value.tzinfo else None
    if isinstance(value, float | int) and not isinstance(value, bool):
        number = float(value)
        return None if math.isnan(number) else number
    if hasattr(value, "item"):  # a numpy scalar
        return _cell(value.item())
    if value is pd.NA:
        return None
    return str(value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


# -- runs show ------------------------------------------------------------------------------


def _runs_show(workspace: Workspace, args: argparse.Namespace) -> int:
    from mlops_desktop.services.run_detail import load_run_detail, run_detail_to_json

    detail = load_run_detail(workspace.tracking, args.run_id, _progress_state(), histories=False)
    _end_progress_line()
    if args.json:
        print(json.dumps(run_detail_to_json(detail), indent=2))
    else:
        print("\n".join(describe_run(detail)))
    return 0


def describe_run(detail: RunDetail) -> list[str]:
    """The run as readable text: a header, its fields, then one section per kind of data."""
    from mlops_desktop.services.artifacts import format_bytes

    run, source = detail.run, detail.source
    parent = detail.parent_run_id
    if parent and detail.parent_run_name:
        parent = f"{detail.parent_run_name} ({parent})"
    lines = [f"Run {detail.name} ({run.run_id}): {run.status.value}", ""]
    lines += _aligned(
        [
            ("Experiment", run.experiment_id),
            ("User", detail.user),
            ("Started", _utc(run.start_time_ms)),
            ("Ended", _utc(run.end_time_ms) if run.end_time_ms else "still running"),
            ("Duration", f"{detail.duration_s:.0f} s" if detail.duration_s is not None else ""),
            ("Source", " ".join(v for v in (source.name, f"({source.type})") if v != "()")),
            ("Entry point", source.entry_point),
            ("Git commit", source.git_commit),
            ("Git branch", source.git_branch),
            ("Repository", source.git_repo),
            ("Parent run", parent),
            ("Artifacts at", run.artifact_uri),
            ("Description", detail.description),
        ]
    )
    sections: list[tuple[str, list[tuple[str, str]]]] = [
        ("Params", list(detail.params)),
        ("Metrics", [(k, f"{v:.6g}") for k, v in detail.metrics]),
        ("System metrics", [(k, f"{v:.6g}") for k, v in detail.system_metrics]),
        ("Tags", list(detail.user_tags)),
        (
            "Dataset inputs",
            [
                (d.name, f"digest {d.digest}, {d.source_type} {d.source}, context {d.context}")
                for d in detail.inputs
            ],
        ),
        ("Models", [(m.name, _model_text(m)) for m in detail.models]),
    ]
    for title, pairs in sections:
        if pairs:
            lines += ["", f"{title} ({len(pairs)}):"]
            lines += ["  " + line for line in _aligned(pairs)]
    files = detail.artifacts.files
    lines += [
        "",
        f"Artifacts: {len(files)} files, {format_bytes(detail.artifacts.total_bytes)}"
        + (" (more not listed)" if detail.artifacts.truncated else "")
        + ("; `mlops-desktop runs artifacts RUN_ID` lists them." if files else "."),
    ]
    if detail.problems:
        lines += ["", *(f"Note: {problem}" for problem in detail.problems)]
    return lines


def _model_text(model: RunModel) -> str:
    if model.origin == "artifacts":
        flavors = ", ".join(model.flavors) or "no flavors"
        return f"an MLmodel in the artifact folder {model.location or '/'} ({flavors})"
    kind = f", {model.model_type}" if model.model_type else ""
    return f"logged model {model.model_id} ({model.status.lower() or 'no status'}{kind})"


def _aligned(pairs: Sequence[tuple[str, str]]) -> list[str]:
    shown = [(k, v) for k, v in pairs if v]
    width = max((len(k) for k, _ in shown), default=0)
    return [f"{k.ljust(width)}  {v}" for k, v in shown]


def _utc(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


# -- runs artifacts and download ----------------------------------------------------------------


def _runs_artifacts(workspace: Workspace, args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from mlops_desktop.services.artifacts import (
        artifact_entry,
        format_bytes,
        list_artifact_tree,
    )
    from mlops_desktop.services.tasks import TaskState

    tracking = workspace.tracking
    tracking.get_run(args.run_id)  # an unknown run is a sentence, not an empty list
    entry = artifact_entry(tracking, args.run_id, args.path.strip("/"))
    if entry.is_dir:
        tree = list_artifact_tree(tracking, args.run_id, TaskState(), entry.path)
        entries, truncated = list(tree.entries), tree.truncated
    else:
        entries, truncated = [entry], False
    if args.json:
        print(json.dumps([asdict(e) for e in entries], indent=2))
        return 0
    if not entries:
        print("This run has no artifacts." if not args.path else f"{args.path} is empty.")
        return 0
    rows = [
        ("" if e.is_dir else format_bytes(e.size_bytes), e.path + ("/" if e.is_dir else ""))
        for e in entries
    ]
    width = max(len(size) for size, _ in rows)
    for size, path in rows:
        print(f"{size.rjust(width)}  {path}")
    if truncated:
        print("(more artifacts not listed)")
    return 0


def _runs_download(workspace: Workspace, args: argparse.Namespace) -> int:
    from mlops_desktop.services.artifacts import download_artifact, format_bytes

    state = _progress_state()
    result = download_artifact(workspace.tracking, args.run_id, args.path, args.out, state)
    _end_progress_line()
    files = "1 file" if result.files == 1 else f"{result.files} files"
    print(f"Saved {files} ({format_bytes(result.bytes)}) to {result.path}")
    return 0


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("the limit must be at least 1")
    return value
