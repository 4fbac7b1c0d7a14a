"""Run the benchmark areas and write build/bench/<area>.json for each.

    python -m tests.benchmarks.run [--only AREA] [--out DIR]

An area is a module `tests/benchmarks/bench_<area>.py` with `run() -> list[Record]`.
Prints one table of all records; exits non-zero if an area failed to run.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
import traceback
from pathlib import Path

from tests.benchmarks.records import Record

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parents[1]
DEFAULT_OUT = REPO_ROOT / "build" / "bench"


def available_areas() -> list[str]:
    return sorted(path.stem.removeprefix("bench_") for path in BENCH_DIR.glob("bench_*.py"))


def run_area(area: str, out_dir: Path) -> list[Record]:
    module = importlib.import_module(f"tests.benchmarks.bench_{area}")
    records = module.run()
    if not isinstance(records, list) or not all(isinstance(r, Record) for r in records):
        raise TypeError(f"bench_{area}.run() must return a list of Record")
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{area}.json"
    partial = target.with_suffix(".json.tmp")
    partial.write_text(json.dumps([r.to_json() for r in records], indent=2) + "\n")
    partial.replace(target)
    return records


def format_table(rows: list[tuple[str, Record]]) -> str:
    header = ("area", "name", "ours", "peer", "ratio", "goal", "met")
    lines = [header]
    for area, r in rows:
        peer = f"{r.peer_name} {r.peer:.3g} {r.unit}" if r.peer is not None else "-"
        ratio = f"{r.ratio:.3f}" if r.ratio is not None else "-"
        goal = (
            "-"
            if r.goal is None
            else (f"<= {r.goal:g}" if r.peer is not None else f"<= {r.goal:g} {r.unit}")
        )
        met = {True: "yes", False: "NO", None: "-"}[r.met]
        lines.append((area, r.name, f"{r.ours:.3g} {r.unit}", peer, ratio, goal, met))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = [
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    ]
    text.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(text)


def main(argv: list[str] | None = None) -> int:
    areas = available_areas()
    parser = argparse.ArgumentParser(
        prog="make bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", metavar="AREA", help=f"one area: {', '.join(areas)}")
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="where the <area>.json files go (default: build/bench)",
    )
    args = parser.parse_args(argv)
    if args.only and args.only not in areas:
        parser.error(f"unknown area {args.only!r}; the areas are: {', '.join(areas)}")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    rows: list[tuple[str, Record]] = []
    failed: list[str] = []
    for area in [args.only] if args.only else areas:
        started = time.monotonic()
        print(f"bench {area} ...", flush=True)
        try:
            records = run_area(area, args.out)
        except Exception:
            traceback.print_exc()
            failed.append(area)
            continue
        rows.extend((area, record) for record in records)
        print(
            f"bench {area}: {len(records)} records in {time.monotonic() - started:.1f} s, "
            f"written to {args.out / (area + '.json')}",
            flush=True,
        )
    print()
    print(format_table(rows))
    if failed:
        print(f"\nfailed areas: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
