"""The local runs cache: a second visit shows the runs table at once, then refreshes it.

`RunsCache` keeps one runs frame per server, experiments and server filter, under its root
(`RunsCache.in_cache_dir(paths)`: `runs/` in the user cache dir): a parquet file with the
frame and a small JSON meta beside it (format version, when the runs were fetched, row
count, what the entry holds). Both are written to a temporary file and moved into place,
and each names the same entry id, so a crash between the two moves is seen as a mismatch.
A damaged, mismatched or older-format entry is deleted and read as a miss: the cache is
never an error for the user, only slower. Reading 50,000 cached runs takes about 0.05 s.

`refresh_runs` is the background refresh after a cached reopen. MLflow has no "changed
since" query, and a tag can change on any run, finished or not (as can a deletion), so the
only correct refresh reads every run again: a filter on start time and status would see
new and running runs but miss a tag set on a finished run. Its cost is the fast loader's
(`services.experiments`, about 0.6-0.75 of `mlflow.search_runs`), run without partial
pages while the table shows the cached runs, then diffed against them for the counts.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from mlops_desktop.backends.tracking import TrackingBackend
from mlops_desktop.services.experiments import RUN_COLUMNS, concat_frames, stream_run_pages
from mlops_desktop.services.paths import AppPaths
from mlops_desktop.services.tasks import TaskState

log = logging.getLogger(__name__)

#: Bumped whenever the stored frame's layout changes; other versions are read as misses.
FORMAT_VERSION = 1
#: Entries kept per workspace; the least recently written go first.
MAX_ENTRIES = 64
_ENTRY_KEY = b"mlops_desktop.runs_cache"
_PARQUET, _META = ".parquet", ".json"


@dataclass(frozen=True)
class CachedRuns:
    """A cached runs frame and when its runs were fetched (epoch seconds)."""

    frame: pd.DataFrame
    fetched_at: float


@dataclass(frozen=True)
class RefreshResult:
    """The runs as the server has them now, and how they differ from the cached ones."""

    frame: pd.DataFrame
    new_runs: int
    changed_runs: int
    removed_runs: int
    fetched_at: float  # epoch seconds when the fetch started: nothing older is missed


class RunsCache:
    """Runs frames on disk, per workspace, experiments and server filter."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @classmethod
    def in_cache_dir(cls, paths: AppPaths) -> RunsCache:
        """The app's runs cache: `runs/` in the user cache dir."""
        return cls(paths.cache_dir / "runs")

    def read(
        self, workspace_key: str, experiment_ids: Sequence[str], filter_string: str
    ) -> CachedRuns | None:
        """The cached runs, or None when there are none (or they were unusable: then they
        are deleted, and the next `write` replaces them)."""
        parquet, meta_path = self._paths(workspace_key, experiment_ids, filter_string)
        if not meta_path.exists() or not parquet.exists():
            return None
        try:
            return self._load(parquet, meta_path, workspace_key, experiment_ids, filter_string)
        except _Unusable as reason:
            log.info("Ignoring the cached runs %s: %s", parquet, reason)
        except Exception as error:  # pyarrow and json raise many kinds on damaged files
            log.warning("Ignoring the damaged cached runs %s: %r", parquet, error)
        _remove(parquet, meta_path)
        return None

    def write(
        self,
        workspace_key: str,
        experiment_ids: Sequence[str],
        filter_string: str,
        frame: pd.DataFrame,
        fetched_at: float | None = None,
    ) -> None:
        """Store `frame` as the runs of these experiments and filter, fetched at
        `fetched_at` (default: now). A failure to write is logged, never raised: the
        cache only saves time."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        parquet, meta_path = self._paths(workspace_key, experiment_ids, filter_string)
        entry = uuid.uuid4().hex
        meta = {
            "format": FORMAT_VERSION,
            "entry": entry,
            "fetched_at": time.time() if fetched_at is None else float(fetched_at),
            "rows": len(frame),
            "workspace": workspace_key,
            "experiment_ids": _normal_ids(experiment_ids),
            "filter": filter_string.strip(),
        }
        try:
            parquet.parent.mkdir(parents=True, exist_ok=True)
            table = _to_arrow(frame).replace_schema_metadata({_ENTRY_KEY: entry.encode()})
            _write_atomically(parquet, lambda path: pq.write_table(table, path))
            _write_atomically(
                meta_path, lambda path: path.write_text(json.dumps(meta), encoding="utf-8")
            )
        except (OSError, pa.ArrowException) as error:
            log.warning("Could not cache the runs in %s: %s", parquet.parent, error)
            return
        self._prune(parquet.parent)

    def _prune(self, folder: Path) -> None:
        """Keep the `MAX_ENTRIES` most recently written entries of a workspace: every
        server filter typed makes an entry, and old ones would pile up."""
        try:
            metas = sorted(folder.glob("*" + _META), key=lambda p: p.stat().st_mtime)
        except OSError as error:
            log.warning("Could not list the runs cache %s: %s", folder, error)
            return
        for meta in metas[: max(0, len(metas) - MAX_ENTRIES)]:
            _remove(meta.with_suffix(_PARQUET), meta)

    def clear(self, workspace_key: str | None = None) -> None:
        """Forget the cached runs of one workspace, or of every workspace."""
        target = self.root if workspace_key is None else self._folder(workspace_key)
        try:
            shutil.rmtree(target)
        except FileNotFoundError:
            pass
        except OSError as error:
            log.warning("Could not clear the runs cache %s: %s", target, error)

    # -- layout -------------------------------------------------------------------------------

    def _folder(self, workspace_key: str) -> Path:
        return self.root / ("ws-" + _digest(workspace_key)[:20])

    def _paths(
        self, workspace_key: str, experiment_ids: Sequence[str], filter_string: str
    ) -> tuple[Path, Path]:
        name = _digest(json.dumps([_normal_ids(experiment_ids), filter_string.strip()]))[:32]
        folder = self._folder(workspace_key)
        return folder / (name + _PARQUET), folder / (name + _META)

    def _load(
        self,
        parquet: Path,
        meta_path: Path,
        workspace_key: str,
        experiment_ids: Sequence[str],
        filter_string: str,
    ) -> CachedRuns:
        import pyarrow.parquet as pq

        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if not isinstance(meta, dict) or meta.get("format") != FORMAT_VERSION:
            raise _Unusable("written by another version of the app")
        wanted = (workspace_key, _normal_ids(experiment_ids), filter_string.strip())
        if (meta.get("workspace"), meta.get("experiment_ids"), meta.get("filter")) != wanted:
            raise _Unusable("it holds other runs (a name collision)")
        table = pq.read_table(parquet)
        entry = (table.schema.metadata or {}).get(_ENTRY_KEY, b"").decode()
        if entry != meta.get("entry") or table.num_rows != meta.get("rows"):
            raise _Unusable("its frame and its meta file do not belong together")
        frame = table.to_pandas()
        missing = [c for c in RUN_COLUMNS if c not in frame.columns]
        if missing:
            raise _Unusable(f"it lacks the columns {missing}")
        return CachedRuns(frame, float(meta["fetched_at"]))


def _to_arrow(frame: pd.DataFrame) -> Any:
    """The frame as an Arrow table, column by column.

    `pa.Table.from_pandas` reads a time zone-aware column through `Series.values`, which
    pandas 3.1 deprecates (a warning, an error under the tests): such a column goes in as
    its int64 ticks, and comes back from `to_pandas` with the same dtype.
    """
    import pyarrow as pa

    arrays = []
    for name in frame.columns:
        series = frame[name]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            kind = pa.timestamp(series.dtype.unit, tz=str(series.dtype.tz))
            arrays.append(pa.array(series.array.asi8, kind, mask=series.isna().to_numpy()))
        else:
            arrays.append(pa.array(series.array))
    return pa.Table.from_arrays(arrays, names=[str(name) for name in frame.columns])


class _Unusable(Exception):
    """A cache entry that is readable but cannot be used (the message says why)."""


def _normal_ids(experiment_ids: Sequence[str]) -> list[str]:
    """The same experiments give the same entry, whatever their order."""
    return sorted({str(e) for e in experiment_ids})


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _write_atomically(target: Path, write: Any) -> None:
    """Write through `write(temp_path)` to a temporary file beside `target`, then move it
    into place: a reader sees the old file or the new one, never half of one."""
    handle, name = tempfile.mkstemp(dir=target.parent, prefix="." + target.name, suffix=".tmp")
    os.close(handle)
    temporary = Path(name)
    try:
        write(temporary)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def _remove(*paths: Path) -> None:
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError as error:
            log.warning("Could not remove the cache file %s: %s", path, error)


# -- the background refresh ----------------------------------------------------------------


def refresh_runs(
    tracking: TrackingBackend,
    previous: pd.DataFrame,
    experiment_ids: Sequence[str],
    filter_string: str,
    state: TaskState,
) -> RefreshResult:
    """Every run of the experiments again, and how they differ from `previous`.

    Reads every run (see the module docstring for why) with the runs loader, without
    handing pages on: the table keeps showing `previous` until the result replaces it.
    Progress is a fraction of the previous run count.
    """
    fetched_at = time.time()
    expected = len(previous)
    state.progress(0.0 if expected else -1, "Checking the runs for changes")
    pages: list[pd.DataFrame] = []
    loaded = 0
    stream = stream_run_pages(tracking, experiment_ids, state, filter_string)
    with contextlib.closing(stream):
        for page in stream:
            pages.append(page)
            loaded += len(page)
            if expected:
                state.progress(min(1.0, loaded / expected), f"Checked {loaded:,} runs")
    frame = concat_frames(pages)
    new, changed, removed = diff_runs(previous, frame)
    return RefreshResult(frame, new, changed, removed, fetched_at)


def diff_runs(old: pd.DataFrame, new: pd.DataFrame) -> tuple[int, int, int]:
    """(new, changed, removed) run counts from `old` to `new`, matched by run id.

    A run changed when any of its cells differs (a column one frame lacks is empty there);
    missing equals missing.
    """
    old = old.drop_duplicates("run_id").set_index("run_id")
    new = new.drop_duplicates("run_id").set_index("run_id")
    common = new.index.intersection(old.index)
    added = len(new.index) - len(common)
    removed = len(old.index) - len(common)
    before, after = old.loc[common], new.loc[common]
    changed = np.zeros(len(common), dtype=bool)
    for column in before.columns.union(after.columns):
        if column not in before.columns:
            changed |= after[column].notna().to_numpy()
        elif column not in after.columns:
            changed |= before[column].notna().to_numpy()
        else:
            changed |= _differs(before[column], after[column])
    return added, int(changed.sum()), removed


def _differs(before: pd.Series, after: pd.Series) -> npt.NDArray[np.bool_]:
    """Row by row: the values differ (missing equals missing), whatever the two dtypes."""
    both_missing = before.isna().to_numpy() & after.isna().to_numpy()
    if before.dtype == after.dtype:
        equal = np.asarray(before.array == after.array, dtype=bool)
    else:
        equal = np.asarray(before.astype(object).to_numpy() == after.astype(object).to_numpy())
    return ~(equal.astype(bool) | both_missing)
