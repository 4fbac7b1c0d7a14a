"""services.runs_cache: runs frames on disk, damaged entries ignored, and the refresh diff."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

import pandas as pd
import pytest

from mlops_desktop.domain.tracking import Experiment, RunStatus
from mlops_desktop.services import runs_cache
from mlops_desktop.services.experiments import load_runs_frame, runs_to_frame
from mlops_desktop.services.paths import AppPaths
from mlops_desktop.services.runs_cache import (
    FORMAT_VERSION,
    CachedRuns,
    RunsCache,
    diff_runs,
    refresh_runs,
)
from mlops_desktop.services.tasks import Cancelled, TaskState
from tests.unit.test_experiments_service import FakeTracking, make_run

WS = "profile-1234"


@pytest.fixture
def cache(tmp_path: Path) -> RunsCache:
    return RunsCache(tmp_path / "runs")


@pytest.fixture
def frame() -> pd.DataFrame:
    runs = [make_run(n) for n in range(50)]
    runs[3] = make_run(3, status=RunStatus.RUNNING, end_time_ms=None)
    runs[7] = make_run(7, tags={"mlflow.parentRunId": "run00001", "team": "risk"})
    return runs_to_frame(runs)


def entry_files(cache: RunsCache) -> list[Path]:
    return sorted(p for p in cache.root.rglob("*") if p.is_file())


def test_a_frame_comes_back_identical_with_its_fetch_time(cache, frame):
    cache.write(WS, ["1"], "", frame, fetched_at=1_700_000_000.5)
    cached = cache.read(WS, ["1"], "")

    assert isinstance(cached, CachedRuns)
    assert cached.fetched_at == 1_700_000_000.5
    pd.testing.assert_frame_equal(cached.frame, frame)
    assert [p.suffix for p in entry_files(cache)] == [".json", ".parquet"]


def test_the_meta_file_says_what_the_entry_holds(cache, frame):
    before = time.time()
    cache.write(WS, ["2", "1"], " metrics.val_auc > 0.8 ", frame)
    meta = json.loads(next(p for p in entry_files(cache) if p.suffix == ".json").read_text())
    assert meta["format"] == FORMAT_VERSION
    assert meta["rows"] == len(frame)
    assert meta["experiment_ids"] == ["1", "2"]
    assert meta["filter"] == "metrics.val_auc > 0.8"
    assert before <= meta["fetched_at"] <= time.time()


def test_entries_are_per_workspace_experiments_and_filter(cache, frame):
    cache.write(WS, ["1", "2"], "params.model = 'gbdt'", frame)
    assert cache.read(WS, ["2", "1"], "params.model = 'gbdt'") is not None  # order is no key
    assert cache.read(WS, ["1"], "params.model = 'gbdt'") is None
    assert cache.read(WS, ["1", "2"], "") is None
    assert cache.read("another-server", ["1", "2"], "params.model = 'gbdt'") is None


def test_a_write_replaces_the_entry_and_leaves_no_temporary_file(cache, frame):
    cache.write(WS, ["1"], "", frame)
    cache.write(WS, ["1"], "", frame.iloc[:10])
    cached = cache.read(WS, ["1"], "")
    assert cached is not None and len(cached.frame) == 10
    assert len(entry_files(cache)) == 2


def test_only_the_most_recently_written_entries_are_kept(cache, frame, monkeypatch):
    monkeypatch.setattr(runs_cache, "MAX_ENTRIES", 3)
    written_at = time.time() - 100
    for number in range(5):
        cache.write(WS, ["1"], f"params.n = '{number}'", frame)
        for meta in cache.root.rglob("*.json"):  # the entries in writing order, a second apart
            if json.loads(meta.read_text())["filter"] == f"params.n = '{number}'":
                os.utime(meta, (written_at + number, written_at + number))
    cache.write("other", ["1"], "", frame)
    kept = [n for n in range(5) if cache.read(WS, ["1"], f"params.n = '{n}'") is not None]
    assert kept == [2, 3, 4]
    assert cache.read("other", ["1"], "") is not None


def test_the_app_cache_lives_in_the_user_cache_dir(tmp_path):
    paths = AppPaths(tmp_path / "c", tmp_path / "d", tmp_path / "cache", tmp_path / "l")
    assert RunsCache.in_cache_dir(paths).root == tmp_path / "cache" / "runs"


def test_clear_forgets_one_workspace_or_all(cache, frame):
    cache.write(WS, ["1"], "", frame)
    cache.write("other", ["1"], "", frame)
    cache.clear(WS)
    assert cache.read(WS, ["1"], "") is None
    assert cache.read("other", ["1"], "") is not None
    cache.clear()
    assert cache.read("other", ["1"], "") is None
    cache.clear()  # clearing an empty cache is fine


def test_an_empty_frame_round_trips(cache):
    empty = runs_to_frame([])
    cache.write(WS, ["1"], "", empty)
    cached = cache.read(WS, ["1"], "")
    assert cached is not None
    assert list(cached.frame.columns) == list(empty.columns)
    assert len(cached.frame) == 0


def _damage_parquet(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:200])


def _garbage_meta(path: Path) -> None:
    path.write_text("{not json")


def _old_format(path: Path) -> None:
    meta = json.loads(path.read_text())
    path.write_text(json.dumps(dict(meta, format=FORMAT_VERSION - 1)))


def _wrong_rows(path: Path) -> None:
    meta = json.loads(path.read_text())
    path.write_text(json.dumps(dict(meta, rows=meta["rows"] + 1)))


@pytest.mark.parametrize(
    ("suffix", "damage"),
    [
        (".parquet", _damage_parquet),
        (".parquet", lambda p: p.write_bytes(b"")),
        (".json", _garbage_meta),
        (".json", _old_format),
        (".json", _wrong_rows),
        (".json", lambda p: p.write_text("[1, 2]")),
    ],
    ids=["truncated", "empty", "garbage-meta", "old-format", "wrong-rows", "meta-not-object"],
)
def test_a_damaged_entry_is_a_miss_and_is_replaced(cache, frame, suffix, damage, caplog):
    cache.write(WS, ["1"], "", frame)
    damage(next(p for p in entry_files(cache) if p.suffix == suffix))

    with caplog.at_level(logging.INFO, logger="mlops_desktop.services.runs_cache"):
        assert cache.read(WS, ["1"], "") is None
    assert "Ignoring" in caplog.text
    assert entry_files(cache) == [], "the unusable entry is deleted"
    cache.write(WS, ["1"], "", frame)
    cached = cache.read(WS, ["1"], "")
    assert cached is not None
    pd.testing.assert_frame_equal(cached.frame, frame)


def test_a_frame_and_meta_of_different_writes_do_not_pair(cache, frame):
    """A crash between moving the frame and moving the meta leaves a mismatched pair."""
    cache.write(WS, ["1"], "", frame)
    meta = next(p for p in entry_files(cache) if p.suffix == ".json")
    stale = meta.read_bytes()
    cache.write(WS, ["1"], "", frame)
    meta.write_bytes(stale)
    assert cache.read(WS, ["1"], "") is None


def test_a_frame_without_the_run_columns_is_not_used(cache):
    cache.write(WS, ["1"], "", pd.DataFrame({"something": [1, 2]}))
    assert cache.read(WS, ["1"], "") is None


def test_an_unwritable_cache_logs_and_goes_on(tmp_path, frame, caplog):
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("")
    cache = RunsCache(blocker / "runs")
    with caplog.at_level(logging.WARNING, logger="mlops_desktop.services.runs_cache"):
        cache.write(WS, ["1"], "", frame)
    assert "Could not cache the runs" in caplog.text
    assert cache.read(WS, ["1"], "") is None


# -- the refresh diff ---------------------------------------------------------------------------


def test_diff_counts_new_changed_and_removed_runs():
    old = runs_to_frame([make_run(n) for n in range(10)])
    changed_tag = make_run(2, tags={"team": "risk"})
    finished = make_run(3, metrics={"val_auc": 0.99, "val_loss": 0.1})
    new = runs_to_frame(
        [make_run(n) for n in (0, 1, 4, 5, 6, 7, 8)] + [changed_tag, finished, make_run(42)]
    )  # run 9 removed, run 42 new, rows in another order
    assert diff_runs(old, new) == (1, 2, 1)
    assert diff_runs(old, old) == (0, 0, 0)


def test_diff_sees_a_key_that_appears_or_disappears_and_missing_equals_missing():
    metrics = {"val_auc": 0.8, "val_loss": 0.5}
    gains_a_metric = runs_to_frame(
        [make_run(1, metrics={**metrics, "f1": 0.3}), make_run(2, params={})]
    )
    old = runs_to_frame([make_run(1, metrics=metrics), make_run(2, params={})])  # 2: no params
    assert diff_runs(old, gains_a_metric) == (0, 1, 0)
    assert diff_runs(gains_a_metric, old) == (0, 1, 0)


def test_refresh_reads_every_run_and_counts_the_differences():
    runs = [make_run(n) for n in range(30)]
    tracking = FakeTracking([Experiment("1", "sweep")], runs)
    previous = load_runs_frame(tracking, ["1"], TaskState())
    # Run 0 deleted, run 5 tagged, run 99 logged.
    tracking.runs = [r for r in runs[1:] if r.run_id != "run00005"]
    tracking.runs += [make_run(5, tags={"team": "new"}), make_run(99)]
    fractions: list[float] = []
    partials: list[object] = []
    state = TaskState(on_progress=lambda f, _: fractions.append(f), on_partial=partials.append)

    before = time.time()
    result = refresh_runs(tracking, previous, ["1"], "", state)

    assert (result.new_runs, result.changed_runs, result.removed_runs) == (1, 1, 1)
    assert len(result.frame) == 30
    assert result.frame.set_index("run_id").loc["run00005", "tags.team"] == "new"
    assert before <= result.fetched_at <= time.time()
    assert partials == [], "the table keeps the cached frame until the refresh is done"
    assert fractions[-1] == 1.0


def test_a_cancelled_refresh_returns_nothing():
    tracking = FakeTracking([Experiment("1", "sweep")], [make_run(n) for n in range(3_000)])
    previous = runs_to_frame([])
    state = TaskState()
    state.cancel()
    with pytest.raises(Cancelled):
        refresh_runs(tracking, previous, ["1"], "", state)
