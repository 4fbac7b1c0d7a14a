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

from mlops_desktop import APP_TITLE, __version__

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
    parser.add_argument("--exit-after-paint", action="store_true", help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

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
    if args.command == "demo":
        return _demo_init(args) if args.demo_command == "init" else _demo_info(args)
    if args.command == "screenshot":
        from mlops_desktop.ui.screenshot import take_screenshot

        return take_screenshot(args.view, args.out, args.size, args.theme, args.timeout)
    from mlops_desktop.ui.app import run_app

    return run_app(initial_view=args.view, exit_after_paint=args.exit_after_paint)


if __name__ == "__main__":
    raise SystemExit(main())
