"""`mlops-desktop runs ...` on the demo workspace, run as a user would (a subprocess).

With no --profile the commands use the demo workspace in the session's data dir, which the
`demo_root` fixture seeds once. The same commands on a server, through a profile, are in
tests/integration/test_run_detail_server.py.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_desktop.services.workspace import Workspace


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlops_desktop", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env=os.environ.copy(),
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def trial(demo_root: Path, demo_workspace: Workspace) -> str:
    """A churn-sweep trial with a parent and artifacts."""
    tracking = demo_workspace.tracking
    sweep = next(e for e in tracking.list_experiments() if e.name == "churn-sweep")
    runs, _ = tracking.search_runs([sweep.experiment_id], max_results=1000)
    return next(r.run_id for r in runs if r.parent_run_id and tracking.list_artifacts(r.run_id))


@pytest.mark.parametrize(
    "command",
    [["runs"], ["runs", "list"], ["runs", "show"], ["runs", "artifacts"], ["runs", "download"]],
)
def test_every_runs_command_has_help(command: list[str]) -> None:
    result = cli(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: mlops-desktop runs")


def test_list_prints_a_table_with_the_run_id_and_the_windows_columns(demo_root: Path) -> None:
    result = cli("runs", "list", "churn-sweep", "--limit", "5")
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split()[:5] == ["run_id", "run_name", "status", "start_time", "duration_s"]
    assert "metrics.val_auc" in header.split()
    assert len(rows) == 5
    assert all(len(row.split()[0]) == 32 for row in rows)


def test_list_as_csv_with_chosen_columns_and_short_names(demo_root: Path) -> None:
    result = cli(
        "runs", "list", "churn-sweep", "--format", "csv",
        "--columns", "name,status,optimizer,val_auc,tags.team",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == [
        "run_name",
        "status",
        "params.optimizer",
        "metrics.val_auc",
        "tags.team",
    ]
    assert len(rows) >= 300  # no --limit: every run
    finished = [r for r in rows if r["status"] == "FINISHED" and r["params.optimizer"]]
    assert finished and all(0.5 < float(r["metrics.val_auc"]) < 1 for r in finished)
    assert {r["tags.team"] for r in rows} == {"growth-ml"}


def test_list_as_json_with_a_server_filter(demo_root: Path) -> None:
    result = cli(
        "runs", "list", "churn-sweep", "--format", "json",
        "--filter", "params.optimizer = 'sgd' and attributes.status = 'FINISHED'",
        "--columns", "run_id,optimizer,start,duration", "--limit", "3",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    runs = json.loads(result.stdout)
    assert 1 <= len(runs) <= 3
    for run in runs:
        assert run["params.optimizer"] == "sgd"
        assert run["start_time"].endswith("Z") and run["duration_s"] > 0


def test_list_of_an_unknown_experiment_names_the_ones_there(demo_root: Path) -> None:
    result = cli("runs", "list", "no-such-experiment")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "mlops-desktop: Demo workspace has no experiment named or numbered "
        "'no-such-experiment'; its experiments are 'Default', 'churn-retraining', "
        "'fraud-detection', 'churn-sweep', 'churn-baselines'."
    ]


def test_list_with_an_unknown_column_or_a_bad_filter_fails_in_one_sentence(
    demo_root: Path,
) -> None:
    column = cli("runs", "list", "churn-sweep", "--columns", "run_id,bogus")
    assert column.returncode == 1
    [line] = column.stderr.splitlines()
    assert line.startswith("mlops-desktop: No column 'bogus' in these runs; columns include ")
    bad = cli("runs", "list", "churn-sweep", "--filter", "metrics.val_auc >>> 1")
    assert bad.returncode == 1
    [line] = bad.stderr.splitlines()
    assert "Invalid comparator '>>>'" in line


def test_show_prints_the_run_as_text_and_as_json(demo_root: Path, trial: str) -> None:
    text = cli("runs", "show", trial)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0].startswith("Run sweep-") and lines[0].endswith(f"({trial}): FINISHED")
    assert any(line.startswith("Git commit    ") for line in lines)
    assert "Params (12):" in lines and "Metrics (8):" in lines
    assert "  model  an MLmodel in the artifact folder model (python_function)" in lines
    assert lines[-1].startswith("Artifacts: 10 files, ")

    as_json = cli("runs", "show", trial, "--json")
    assert as_json.returncode == 0, as_json.stderr
    detail = json.loads(as_json.stdout)
    assert detail["run_id"] == trial and detail["status"] == "FINISHED"
    assert detail["parent_run_name"].startswith("sweep-batch-")
    assert len(detail["params"]) == 12 and "val_auc" in detail["metrics"]
    assert all(not k.startswith("mlflow.") for k in detail["tags"])
    assert {d["context"] for d in detail["dataset_inputs"]} == {"training", "validation"}
    assert len([a for a in detail["artifacts"] if not a["is_dir"]]) == 10


def test_show_of_an_unknown_run_is_one_sentence(demo_root: Path) -> None:
    result = cli("runs", "show", "0" * 32)
    assert result.returncode == 1
    assert result.stderr == "mlops-desktop: Run 00000000… does not exist in Demo workspace.\n"


def test_artifacts_lists_the_tree_a_folder_or_a_file(demo_root: Path, trial: str) -> None:
    everything = cli("runs", "artifacts", trial)
    assert everything.returncode == 0, everything.stderr
    paths = [line.split()[-1] for line in everything.stdout.splitlines()]
    assert paths[:2] == ["model/", "model/MLmodel"]
    assert "plots/training_report.png" in paths and len(paths) == 12
    folder = cli("runs", "artifacts", trial, "plots", "--json")
    [entry] = json.loads(folder.stdout)
    assert (entry["path"], entry["is_dir"]) == ("plots/training_report.png", False)
    assert entry["size_bytes"] > 10_000
    missing = cli("runs", "artifacts", trial, "nope")
    assert missing.returncode == 1
    assert missing.stderr == f"mlops-desktop: Run {trial[:8]}… has no artifact 'nope'.\n"


def test_download_writes_a_file_and_a_folder(
    demo_root: Path, demo_workspace: Workspace, trial: str, tmp_path: Path
) -> None:
    result = cli("runs", "download", trial, "plots/training_report.png", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    written = tmp_path / "training_report.png"
    expected = demo_workspace.tracking.read_artifact(trial, "plots/training_report.png")
    assert written.read_bytes() == expected
    assert result.stdout.startswith("Saved 1 file (") and str(written) in result.stdout
    folder = cli("runs", "download", trial, "model", "--out", str(tmp_path))
    assert folder.returncode == 0, folder.stderr
    assert len(list((tmp_path / "model").iterdir())) == 5
    assert folder.stdout.startswith("Saved 5 files (")
