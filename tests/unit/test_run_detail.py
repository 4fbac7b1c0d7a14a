"""The run detail services on the demo workspace: detail, every preview kind, downloads.

The demo's local MLflow store is read for real; the few backends written here stand in for
what the demo cannot do on demand (a huge file, a stream that fails or is cancelled half
way, a server that lists a path leading outside the folder).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mlops_desktop.backends.errors import BackendError, NotFound, PermissionDenied
from mlops_desktop.domain.tracking import ArtifactEntry, MetricHistory
from mlops_desktop.services.artifact_preview import (
    TABLE_PREVIEW_ROWS,
    TEXT_PREVIEW_BYTES,
    PreviewKind,
    load_preview,
    parse_mlmodel,
    preview_from_bytes,
)
from mlops_desktop.services.artifacts import (
    download_artifact,
    format_bytes,
    list_artifact_tree,
)
from mlops_desktop.services.run_detail import (
    SPARKLINE_POINTS,
    decimate_min_max,
    load_run_detail,
    run_detail_to_json,
    sparkline,
)
from mlops_desktop.services.tasks import Cancelled, TaskState
from mlops_desktop.services.workspace import Workspace

DEMO_FILES = {
    "model/MLmodel": PreviewKind.MLMODEL,
    "model/conda.yaml": PreviewKind.YAML,
    "model/model.json": PreviewKind.JSON,
    "model/python_env.yaml": PreviewKind.YAML,
    "model/requirements.txt": PreviewKind.TEXT,
    "plots/training_report.png": PreviewKind.IMAGE,
    "feature_importance.csv": PreviewKind.TABLE,
    "metrics_summary.json": PreviewKind.JSON,
    "predictions_sample.csv": PreviewKind.TABLE,
    "training_log.txt": PreviewKind.TEXT,
}


@pytest.fixture(scope="module")
def sweep_run_id(demo_workspace: Workspace) -> str:
    """A churn-sweep trial with a parent, dataset inputs, 500-step curves and artifacts."""
    tracking = demo_workspace.tracking
    sweep = next(e for e in tracking.list_experiments() if e.name == "churn-sweep")
    runs, _ = tracking.search_runs([sweep.experiment_id], max_results=1000)
    return next(r.run_id for r in runs if r.parent_run_id and tracking.list_artifacts(r.run_id))


# -- decimation -------------------------------------------------------------------------------


def test_decimation_keeps_every_minimum_and_maximum_and_the_ends() -> None:
    rng = np.random.default_rng(7)
    values = rng.normal(0.0, 1.0, 10_000)
    values[4321] = 50.0  # a one-step spike
    values[8765] = -40.0  # and a one-step dip
    steps = np.arange(values.size, dtype=np.int64) * 10

    kept_steps, kept_values = decimate_min_max(steps, values, SPARKLINE_POINTS)

    assert len(kept_values) <= SPARKLINE_POINTS
    assert kept_values.max() == 50.0 and kept_values.min() == -40.0
    assert 43210 in kept_steps and 87650 in kept_steps
    assert kept_steps[0] == 0 and kept_steps[-1] == steps[-1]  # the line spans the history
    assert np.all(np.diff(kept_steps) > 0)  # x stays sorted
    # Every kept point is a real point of the series.
    assert np.array_equal(values[kept_steps // 10], kept_values)


def test_decimation_skips_nan_and_leaves_short_series_alone() -> None:
    values = np.array([1.0, np.nan, 3.0, 2.0])
    steps = np.arange(4, dtype=np.int64)
    same_steps, same_values = decimate_min_max(steps, values, 200)
    assert same_steps is steps and same_values is values

    long = np.full(1000, np.nan)
    long[500] = 7.0
    kept_steps, kept_values = decimate_min_max(np.arange(1000, dtype=np.int64), long, 20)
    assert 500 in kept_steps and 7.0 in kept_values
    assert len(kept_values) <= 20


def test_a_sparkline_says_how_long_the_full_history_was() -> None:
    history = MetricHistory(
        "r",
        "loss",
        np.arange(5000, dtype=np.int64),
        np.zeros(5000, dtype=np.int64),
        np.linspace(1.0, 0.1, 5000),
    )
    spark = sparkline(history)
    assert spark.points == 5000
    assert len(spark.values) <= SPARKLINE_POINTS
    assert (spark.minimum, spark.maximum) == (pytest.approx(0.1), pytest.approx(1.0))


# -- the run's detail on the demo -------------------------------------------------------------


def test_run_detail_of_a_demo_sweep_trial(demo_workspace: Workspace, sweep_run_id: str) -> None:
    detail = load_run_detail(demo_workspace.tracking, sweep_run_id, TaskState())

    assert detail.run_id == sweep_run_id
    assert dict(detail.params)["optimizer"] in {"adam", "adamw", "sgd"}
    assert {"train_loss", "val_loss", "val_auc"} <= {k for k, _ in detail.metrics}
    assert not any(k.startswith("system/") for k, _ in detail.metrics)
    # User tags and MLflow's own are apart.
    assert "team" in dict(detail.user_tags)
    assert all(k.startswith("mlflow.") for k, _ in detail.system_tags)
    assert not any(k.startswith("mlflow.") for k, _ in detail.user_tags)
    assert len(detail.source.git_commit) == 40 and detail.source.name == "churn/train.py"
    assert detail.parent_run_id and detail.parent_run_name.startswith("sweep-batch-")
    assert {d.context for d in detail.inputs} == {"training", "validation"}
    assert detail.user and detail.duration_s and detail.duration_s > 0
    # Sparklines: every metric, decimated, knowing the full length.
    curve = detail.sparklines["train_loss"]
    assert curve.points == 500 and len(curve.values) <= SPARKLINE_POINTS
    assert set(detail.sparklines) == {k for k, _ in detail.metrics}
    # The model folder among the artifacts, and the tree in display order.
    assert [(m.origin, m.location, m.flavors) for m in detail.models] == [
        ("artifacts", "model", ("python_function",))
    ]
    assert [e.path for e in detail.artifacts.files] == list(DEMO_FILES)
    assert detail.artifacts.entries[0].path == "model" and detail.artifacts.entries[0].is_dir
    assert detail.problems == ()
    json.dumps(run_detail_to_json(detail))  # plain JSON values only


def test_run_detail_without_histories_reads_no_history(
    demo_workspace: Workspace, sweep_run_id: str
) -> None:
    detail = load_run_detail(demo_workspace.tracking, sweep_run_id, TaskState(), histories=False)
    assert detail.sparklines == {}
    assert detail.metrics


def test_a_part_that_cannot_be_read_is_a_sentence_not_a_failure(
    demo_workspace: Workspace, sweep_run_id: str
) -> None:
    class NoLoggedModels(_Delegating):
        def search_logged_models(self, experiment_id: str, run_id: str) -> list[Any]:
            raise BackendError("the server refused (403): ask for READ on the experiment.")

    detail = load_run_detail(NoLoggedModels(demo_workspace.tracking), sweep_run_id, TaskState())
    assert detail.problems == (
        "The logged models could not be listed: the server refused (403): ask for READ on "
        "the experiment.",
    )
    assert detail.params and detail.artifacts.entries


def test_an_unknown_run_raises_not_found(demo_workspace: Workspace) -> None:
    with pytest.raises(NotFound, match="does not exist"):
        load_run_detail(demo_workspace.tracking, "0" * 32, TaskState())


def test_a_cancelled_detail_load_stops(demo_workspace: Workspace, sweep_run_id: str) -> None:
    state = TaskState()
    state.cancel()
    with pytest.raises(Cancelled):
        load_run_detail(demo_workspace.tracking, sweep_run_id, state)


# -- previews on the demo ---------------------------------------------------------------------


@pytest.mark.parametrize(("path", "kind"), DEMO_FILES.items())
def test_every_demo_artifact_previews_as_its_kind(
    demo_workspace: Workspace, sweep_run_id: str, path: str, kind: PreviewKind
) -> None:
    preview = load_preview(demo_workspace.tracking, sweep_run_id, path, TaskState())
    assert preview.kind is kind
    assert not preview.truncated
    assert preview.size_bytes and preview.size_bytes > 0


def test_demo_previews_hold_what_the_files_hold(
    demo_workspace: Workspace, sweep_run_id: str
) -> None:
    tracking, run_id = demo_workspace.tracking, sweep_run_id

    def preview(path: str):
        return load_preview(tracking, run_id, path, TaskState())

    image = preview("plots/training_report.png")
    assert image.image_format == "png" and image.image.startswith(b"\x89PNG")
    summary = preview("metrics_summary.json")
    assert json.loads(summary.text)["run_id"] == run_id
    assert summary.text.startswith('{\n  "run_id"')  # pretty-printed
    table = preview("predictions_sample.csv").table
    assert table is not None
    assert table.columns == ("id", "score", "predicted", "churned")
    assert len(table.rows) == 50 and not table.more_rows
    model = preview("model/MLmodel").model
    assert model is not None
    assert [f.name for f in model.flavors] == ["python_function"]
    assert model.python_version == "3.11.9" and model.run_id == run_id
    assert len(model.inputs) == 10 and model.outputs[0].name == "score"
    assert "contract_type" in {c.name for c in model.inputs if c.type == "string"}
    conda = preview("model/conda.yaml")
    assert "dependencies:" in conda.text
    log = preview("training_log.txt")
    assert log.text.startswith(f"run {run_id}")


# -- previews of what the demo does not have --------------------------------------------------


def test_a_long_text_shows_its_first_megabyte_and_says_so() -> None:
    line = "step 1 loss=0.5 é\n"  # a two-byte character, so a cut can fall inside one
    body = (line * (2 * TEXT_PREVIEW_BYTES // len(line.encode()))).encode()
    tracking = _Files({"logs/run.log": body})

    preview = load_preview(tracking, "run", "logs/run.log", TaskState(), size_bytes=len(body))

    assert preview.kind is PreviewKind.TEXT and preview.truncated
    assert len(preview.text.encode()) <= TEXT_PREVIEW_BYTES
    assert "\ufffd" not in preview.text  # no half character at the cut
    assert preview.note == (
        f"Showing the first {format_bytes(len(preview.text.encode()))} of "
        f"{format_bytes(len(body))}: download the file to see all of it."
    )
    assert tracking.closed == ["logs/run.log"]  # the stream stopped, not read to the end
    assert tracking.read["logs/run.log"] < len(body)


def test_kinds_from_content_when_the_name_says_nothing() -> None:
    svg = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"></svg>'
    assert preview_from_bytes("plot", svg, False, len(svg)).image_format == "svg"
    assert preview_from_bytes("x", b"\xff\xd8\xff\xe0rest", False, 8).image_format == "jpeg"
    assert preview_from_bytes("x", b"GIF89a....", False, 10).image_format == "gif"
    assert preview_from_bytes("config", b'{"a": [1, 2]}', False, 13).kind is PreviewKind.JSON
    assert preview_from_bytes("notes", b"plain words\n", False, 12).kind is PreviewKind.TEXT
    blob = bytes(range(256)) * 4
    binary = preview_from_bytes("weights", blob, False, len(blob))
    assert binary.kind is PreviewKind.BINARY
    assert binary.note == "No preview for this kind of file (1.0 kB): download it to open it."


def test_a_known_binary_file_is_not_even_read() -> None:
    tracking = _Files({"model.pkl": b"\x80\x04..."})
    preview = load_preview(tracking, "run", "model.pkl", TaskState(), size_bytes=7)
    assert preview.kind is PreviewKind.BINARY and "7 B" in preview.note
    assert tracking.read == {}


def test_broken_json_and_yaml_are_shown_as_text_with_a_reason() -> None:
    broken = preview_from_bytes("a.json", b'{"a": ', False, 6)
    assert broken.kind is PreviewKind.TEXT and broken.text == '{"a": '
    assert broken.note.startswith("This file is not valid JSON (")
    yaml_text = preview_from_bytes("b.yaml", b"a: [1, 2\n", False, 9)
    assert yaml_text.kind is PreviewKind.TEXT
    assert yaml_text.note.startswith("This file is not valid YAML (")
    not_model = preview_from_bytes("MLmodel", b"just: text\n", False, 11)
    assert not_model.kind is PreviewKind.TEXT and "lists no model flavors" in not_model.note


def test_tables_stop_at_their_row_limit_and_drop_a_cut_last_line() -> None:
    rows = "".join(f"{i}\tname-{i}\n" for i in range(TABLE_PREVIEW_ROWS + 50))
    tsv = preview_from_bytes("data.tsv", f"id\tname\n{rows}".encode(), False, None)
    assert tsv.table is not None
    assert tsv.table.columns == ("id", "name")
    assert len(tsv.table.rows) == TABLE_PREVIEW_ROWS and tsv.table.more_rows
    assert tsv.note.startswith(f"Showing the first {TABLE_PREVIEW_ROWS:,} rows")

    cut = preview_from_bytes("data.csv", b"a,b\n1,2\n3,4\n5,", True, 10_000_000)
    assert cut.table is not None and cut.table.rows == (("1", "2"), ("3", "4"))
    ragged = preview_from_bytes("r.csv", b"a\n1,2,3\n", False, 8)
    assert ragged.table is not None and ragged.table.columns == ("a", "column 2", "column 3")


def test_mlmodel_signatures_with_tensors_and_optional_columns() -> None:
    text = b"""
flavors:
  sklearn: {pickled_model: model.pkl, sklearn_version: 1.5.2}
  python_function: {python_version: 3.12.1, env: {conda: conda.yaml}}
signature:
  inputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}]'
  outputs: '[{"type": "long", "name": "label", "required": false}]'
model_id: m-123
"""
    model = parse_mlmodel(text)
    assert [f.name for f in model.flavors] == ["sklearn", "python_function"]
    assert dict(model.flavors[1].details)["env"] == "conda: conda.yaml"
    assert model.inputs[0].type == "tensor float32 (-1, 4)"
    assert model.outputs[0].required is False and model.model_id == "m-123"
    assert model.python_version == "3.12.1"


# -- the artifact tree and downloads ----------------------------------------------------------


def test_artifact_tree_lists_folders_first_and_stops_at_its_limit(
    demo_workspace: Workspace, sweep_run_id: str
) -> None:
    tree = list_artifact_tree(demo_workspace.tracking, sweep_run_id, TaskState())
    assert [e.path for e in tree.children()][:2] == ["model", "plots"]
    assert [e.path for e in tree.children("plots")] == ["plots/training_report.png"]
    assert tree.find("model/MLmodel") is not None and not tree.truncated
    small = list_artifact_tree(demo_workspace.tracking, sweep_run_id, TaskState(), limit=4)
    assert len(small.entries) == 4 and small.truncated


def test_download_a_file_and_a_folder_from_the_demo(
    demo_workspace: Workspace, sweep_run_id: str, tmp_path: Path
) -> None:
    tracking = demo_workspace.tracking
    expected = tracking.read_artifact(sweep_run_id, "plots/training_report.png")
    reports: list[tuple[float, str]] = []
    state = TaskState(on_progress=lambda f, m: reports.append((f, m)))

    result = download_artifact(tracking, sweep_run_id, "plots/training_report.png", tmp_path, state)

    assert result.path == tmp_path / "training_report.png"
    assert result.path.read_bytes() == expected and result.files == 1
    assert reports[-1] == (1.0, f"Downloaded training_report.png ({format_bytes(len(expected))})")
    folder = download_artifact(tracking, sweep_run_id, "model", tmp_path, TaskState())
    assert sorted(p.name for p in folder.path.iterdir()) == [
        "MLmodel",
        "conda.yaml",
        "model.json",
        "python_env.yaml",
        "requirements.txt",
    ]
    # A second download keeps the first and takes a free name.
    again = download_artifact(tracking, sweep_run_id, "plots/training_report.png", tmp_path, state)
    assert again.path == tmp_path / "training_report (2).png"
    everything = download_artifact(tracking, sweep_run_id, "", tmp_path, TaskState())
    assert everything.files == len(DEMO_FILES)
    assert (everything.path / "plots" / "training_report.png").read_bytes() == expected
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left


def test_a_cancelled_download_leaves_no_partial_file(tmp_path: Path) -> None:
    tracking = _Files({"big.bin": b"x" * (5 << 20)})
    progress: list[float] = []

    def cancel_after_first_report(fraction: float, message: str) -> None:
        progress.append(fraction)
        if fraction > 0:
            state.cancel()

    state = TaskState(on_progress=cancel_after_first_report)
    with pytest.raises(Cancelled):
        download_artifact(tracking, "run", "big.bin", tmp_path, state)
    assert any(0 < f < 1 for f in progress)  # it had started writing
    assert list(tmp_path.iterdir()) == []
    assert tracking.closed == ["big.bin"]


def test_a_failing_folder_download_leaves_nothing(tmp_path: Path) -> None:
    tracking = _Files({"out/a.txt": b"a" * 100, "out/b.txt": _FAIL})
    with pytest.raises(BackendError, match="connection reset"):
        download_artifact(tracking, "run", "out", tmp_path, TaskState())
    assert list(tmp_path.iterdir()) == []


def test_a_listed_path_leading_outside_the_folder_is_refused(tmp_path: Path) -> None:
    tracking = _Files({"out/../../evil.txt": b"boo"})
    with pytest.raises(PermissionDenied, match="leads outside"):
        download_artifact(tracking, "run", "out", tmp_path / "dest", TaskState())
    assert list((tmp_path / "dest").iterdir()) == []
    assert not (tmp_path / "evil.txt").exists()


def test_downloading_a_missing_artifact_says_so(
    demo_workspace: Workspace, sweep_run_id: str, tmp_path: Path
) -> None:
    with pytest.raises(NotFound, match=r"has no artifact 'nope\.txt'"):
        download_artifact(demo_workspace.tracking, sweep_run_id, "nope.txt", tmp_path, TaskState())


# -- stand-ins ---------------------------------------------------------------------------------

_FAIL = b"<fail>"


class _Delegating:
    """A tracking backend that forwards to a real one, so one method can be replaced."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@dataclass
class _Files:
    """Artifact files in memory, streamed in 64 kB chunks; `_FAIL` fails half way."""

    files: dict[str, bytes]
    label: str = "files"
    location: str = "memory"

    def __post_init__(self) -> None:
        self.read: dict[str, int] = {}
        self.closed: list[str] = []

    def list_artifacts(self, run_id: str, path: str = "") -> list[ArtifactEntry]:
        prefix = f"{path}/" if path else ""
        entries: dict[str, ArtifactEntry] = {}
        for name, data in self.files.items():
            if not name.startswith(prefix):
                continue
            head, _, rest = name[len(prefix) :].partition("/")
            if rest:
                entries[prefix + head] = ArtifactEntry(prefix + head, True)
            else:
                entries[name] = ArtifactEntry(name, False, len(data))
        return list(entries.values())

    def iter_artifact(self, run_id: str, path: str, chunk_size: int = 1 << 16) -> Iterator[bytes]:
        data = self.files[path]
        try:
            if data == _FAIL:
                yield b"half"
                raise BackendError("The server closed the connection (connection reset).")
            for start in range(0, len(data), 1 << 16):
                self.read[path] = start + (1 << 16)
                yield data[start : start + (1 << 16)]
        finally:
            self.closed.append(path)
