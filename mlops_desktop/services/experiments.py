"""Browse experiments and their runs: experiment summaries and runs as a columnar DataFrame.

`load_runs_frame` returns one row per run and one column per field: the fixed `RUN_COLUMNS`,
then `params.<key>` (strings, as MLflow stores them), `metrics.<key>` (float64, the latest
value) and `tags.<key>` (MLflow's own `mlflow.*` tags are left out but for `USEFUL_MLFLOW_TAGS`).
Pages are handed to `state.partial` as they arrive so a table can fill while the rest loads.

Loading is the runs table's hot path (100,000 runs must feel instant), so a backend that
offers `ColumnarRunSearch` is read column by column, with no object per run, and, when it
can name pages by offset, several pages at a time: a first small page for the first rows,
then bigger pages `concurrent_pages` at once, handed on in the server's order. An MLflow
server spends about 0.9 ms of CPU per run on a search whatever the page size (ORM, JSON),
so the gain over `mlflow.search_runs` is its client's 0.45 ms per run of protobuf and
entity building, and the server's other workers (tests/benchmarks/bench_runs.py).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from mlops_desktop.backends.tracking import (
    ColumnarRunSearch,
    RunColumns,
    RunColumnsPage,
    TrackingBackend,
)
from mlops_desktop.domain.tracking import Experiment, Run
from mlops_desktop.services.tasks import TaskState

log = logging.getLogger(__name__)

#: The fixed leading columns of a runs frame, in order.
RUN_COLUMNS = (
    "run_id",
    "run_name",
    "status",
    "start_time",  # datetime64[ms, UTC]; NaT when unknown
    "duration_s",  # float64; NaN while running
    "user",
    "parent_run_id",
    "experiment_id",
)
PARAM_PREFIX = "params."
METRIC_PREFIX = "metrics."
TAG_PREFIX = "tags."
#: MLflow-internal tags worth a column; every other `mlflow.*` tag is left out (the run name,
#: user and parent already have their own columns).
USEFUL_MLFLOW_TAGS = frozenset(
    {
        "mlflow.source.git.commit",
        "mlflow.source.git.branch",
        "mlflow.source.name",
        "mlflow.note.content",
    }
)
#: Metrics a reviewer looks at first, in the order the runs table shows them by default.
PREFERRED_METRICS = (
    "val_auc",
    "val_loss",
    "val_accuracy",
    "f1",
    "train_loss",
    "accuracy",
    "auc",
    "loss",
)
_PARENT_TAG = "mlflow.parentRunId"
#: The run columns shown by default, before a few params and metrics.
DEFAULT_RUN_COLUMNS = ("run_name", "status", "start_time", "duration_s")
#: Page size of the searches that page through a backend without offset tokens.
PAGE_SIZE = 1000
#: The rows a user sees first when a big experiment loads...
FIRST_ROWS = 1000
#: ...come in pages this small: the first alone, then the rest of them at once.
FIRST_RUNS_PAGE = 250
#: Its later pages: big enough that the server's per-request cost (it sorts the whole
#: experiment for every page: 0.1 s at 50,000 runs) stays small, small enough to keep
#: several workers busy and each answer well inside the read timeout.
RUNS_PAGE = 2500
MAX_RUNS_PAGE = 5000
#: A big experiment is loaded in about this many later pages (see `PagePlan.for_total`).
_PAGES_PER_LOAD = 10
#: Below this speed-up of the first rows' concurrent pages over one page alone, the server
#: answers one request at a time (one worker): the rest then goes one page at a time.
_PARALLEL_SPEEDUP = 1.25
#: How often a wait on a page looks whether the load was cancelled, in seconds.
_CANCEL_POLL_S = 0.1


@dataclass(frozen=True)
class ExperimentSummary:
    """An experiment with what the experiments list shows next to its name."""

    experiment: Experiment
    run_count: int
    last_activity_ms: int | None  # latest run start or end; else the experiment's own update

    @property
    def experiment_id(self) -> str:
        return self.experiment.experiment_id

    @property
    def name(self) -> str:
        return self.experiment.name

    @property
    def description(self) -> str:
        return self.experiment.description


def load_experiments(tracking: TrackingBackend, state: TaskState) -> list[ExperimentSummary]:
    """Every active experiment with its run count and last activity, most recent first.

    Experiments without runs come last. The tracking API has no count call: see
    `count_runs` for how runs are counted.
    """
    state.progress(-1, "Listing experiments")
    experiments = tracking.list_experiments()
    summaries = []
    for number, experiment in enumerate(experiments):
        state.progress(number / max(1, len(experiments)), f"Counting runs of {experiment.name}")
        count, latest = count_runs(tracking, experiment.experiment_id, state)
        if latest is None:
            latest = experiment.last_update_time_ms or experiment.creation_time_ms
        summaries.append(ExperimentSummary(experiment, count, latest))
    state.progress(1.0, f"{len(summaries)} experiments")
    # Experiments with runs first: an empty one (MLflow's "Default") is rarely what is wanted.
    summaries.sort(key=lambda s: (s.run_count > 0, s.last_activity_ms or 0), reverse=True)
    return summaries


def count_runs(
    tracking: TrackingBackend, experiment_id: str, state: TaskState
) -> tuple[int, int | None]:
    """The experiment's run count and its latest run start or end (None without runs).

    A backend that names pages by offset (an MLflow server, the local store) is asked for
    one-run pages only: the newest run, the latest ended one, and offsets probed until the
    count is found (`_probe_count`, about 2 log2(n) probes: a 50,000-run experiment on a
    server in about 30 small requests, where paging through it costs as much as loading
    it, about 45 s). Other backends are paged through.
    """
    state.check()
    if isinstance(tracking, ColumnarRunSearch):
        newest, token = tracking.search_runs([experiment_id], max_results=1)
        latest = _latest(None, _run_times(newest))
        if token is None:
            return len(newest), latest
        if tracking.page_token_at(token, 1) is not None:
            count = _probe_count(
                tracking, experiment_id, partial(tracking.page_token_at, token), 1, state
            )
            ended, _ = tracking.search_runs(
                [experiment_id], max_results=1, order_by=["attributes.end_time DESC"]
            )
            return count, _latest(latest, _run_times(ended))
    count, latest, token = 0, None, None
    while True:
        state.check()
        page, token = tracking.search_runs([experiment_id], max_results=PAGE_SIZE, page_token=token)
        count += len(page)
        latest = _latest(latest, _run_times(page))
        if not token:
            return count, latest


def _probe_count(
    tracking: TrackingBackend,
    experiment_id: str,
    token_at: Callable[[int], str | None],
    known: int,
    state: TaskState,
) -> int:
    """The run count of an experiment known to have a run at offset `known` (0-based):
    doubling the offset until a one-run page comes back empty, then bisecting."""

    def has_run_at(offset: int) -> bool:
        state.check()
        runs, _ = tracking.search_runs([experiment_id], max_results=1, page_token=token_at(offset))
        return bool(runs)

    low, high = known, 2 * known
    while has_run_at(high):
        low, high = high, 2 * high
    while high - low > 1:  # a run at `low`, none at `high`
        middle = (low + high) // 2
        if has_run_at(middle):
            low = middle
        else:
            high = middle
    return low + 1


def largest_experiment(summaries: Sequence[ExperimentSummary]) -> ExperimentSummary | None:
    """The experiment with the most runs (the first of equals), or None when there is none."""
    return max(summaries, key=lambda s: s.run_count, default=None)


def _run_times(runs: Iterable[Run]) -> Iterable[int]:
    for run in runs:
        if run.start_time_ms is not None:
            yield run.start_time_ms
        if run.end_time_ms is not None:
            yield run.end_time_ms


def _latest(current: int | None, times: Iterable[int]) -> int | None:
    latest = max(times, default=None)
    if latest is None:
        return current
    return latest if current is None else max(current, latest)


@dataclass(frozen=True)
class PagePlan:
    """How a load asks for its pages: `first_page_size` runs a page until the first
    `first_rows` are in, then `page_size` a page."""

    page_size: int = RUNS_PAGE
    first_page_size: int = FIRST_RUNS_PAGE
    first_rows: int = FIRST_ROWS

    def size_at(self, offset: int) -> int:
        """The size of the page that starts at row `offset`."""
        return self.first_page_size if offset < self.first_rows else self.page_size

    @classmethod
    def for_total(cls, expected_total: int | None) -> PagePlan:
        """The default plan for about `expected_total` runs (None: unknown): a big load in
        about `_PAGES_PER_LOAD` pages, each of `RUNS_PAGE` to `MAX_RUNS_PAGE` runs, so the
        number of requests, and the server's per-request cost, stays about the same."""
        wanted = -(-(expected_total or 0) // _PAGES_PER_LOAD)
        return cls(page_size=min(MAX_RUNS_PAGE, max(RUNS_PAGE, wanted)))


def load_runs_frame(
    tracking: TrackingBackend,
    experiment_ids: Sequence[str],
    state: TaskState,
    filter_string: str = "",
    expected_total: int | None = None,
    page_size: int | None = None,
    first_page_size: int = FIRST_RUNS_PAGE,
) -> pd.DataFrame:
    """All runs of the experiments matching `filter_string` (MLflow search syntax).

    Each page's frame goes to `state.partial` as soon as it and every page before it have
    arrived, so a table only ever sees whole pages in the server's order. `expected_total`
    (the experiment's run count, when known and unfiltered) turns progress into a fraction
    and sizes the pages (`PagePlan.for_total`, unless `page_size` is given).
    Returns the whole frame, with the columns of every page in canonical order; a cancel
    raises `Cancelled` and returns nothing.
    """
    pages: list[pd.DataFrame] = []
    loaded = 0
    state.progress(0.0 if expected_total else -1, "Loading runs")
    plan = PagePlan(page_size or PagePlan.for_total(expected_total).page_size, first_page_size)
    stream = stream_run_pages(tracking, experiment_ids, state, filter_string, plan)
    with contextlib.closing(stream):
        for page in stream:
            loaded += len(page)
            pages.append(page)
            state.partial(page)
            if expected_total:
                fraction = min(1.0, loaded / expected_total)
                state.progress(fraction, f"Loaded {loaded:,} of {expected_total:,} runs")
            else:
                state.progress(-1, f"Loaded {loaded:,} runs")
    return concat_frames(pages)


def stream_run_pages(
    tracking: TrackingBackend,
    experiment_ids: Sequence[str],
    state: TaskState,
    filter_string: str = "",
    plan: PagePlan = PagePlan(),
) -> Generator[pd.DataFrame, None, None]:
    """The runs as page frames in the server's order, each run once (close it when done).

    Offset paging is not a snapshot: a run logged during the load shifts the pages, so a
    run already handed on is dropped from a later page.
    """
    seen: set[str] = set()
    if not isinstance(tracking, ColumnarRunSearch):
        for runs in _object_pages(tracking, experiment_ids, state, filter_string, plan):
            yield _unseen(runs_to_frame(runs), seen)
        return
    pager = _Pager(tracking, list(experiment_ids), filter_string, state, plan)
    with contextlib.closing(pager.pages()) as pages:
        for columns in pages:
            yield _unseen(columns_to_frame(columns), seen)


def _object_pages(
    tracking: TrackingBackend,
    experiment_ids: Sequence[str],
    state: TaskState,
    filter_string: str,
    plan: PagePlan,
) -> Generator[Sequence[Run], None, None]:
    """Pages of `Run` objects, for a backend without the columnar search."""
    offset, token = 0, None
    while True:
        state.check()
        runs, token = tracking.search_runs(
            list(experiment_ids),
            filter_string=filter_string,
            max_results=plan.size_at(offset),
            page_token=token,
        )
        yield runs
        if not token:
            return
        offset += len(runs)


class _Pager:
    """The pages of one columnar search, one at a time or several at once."""

    def __init__(
        self,
        tracking: ColumnarRunSearch,
        experiment_ids: list[str],
        filter_string: str,
        state: TaskState,
        plan: PagePlan,
    ) -> None:
        self._tracking, self._ids, self._filter = tracking, experiment_ids, filter_string
        self._state, self._plan = state, plan
        self._alone_s = 0.0  # how long the first page took, alone

    def _fetch(self, size: int, token: str | None) -> RunColumnsPage:
        return self._tracking.search_run_columns(self._ids, self._filter, size, token)

    def pages(self) -> Generator[RunColumns, None, None]:
        """The first page alone (its token says whether pages can be named by offset),
        then the rest."""
        self._state.check()
        size = self._plan.size_at(0)
        started = time.perf_counter()
        columns, token = self._fetch(size, None)
        self._alone_s = time.perf_counter() - started
        yield columns
        if token is None:
            return
        offset = len(columns)
        concurrent = (
            self._tracking.concurrent_pages > 1
            and len(columns) == size
            and self._tracking.page_token_at(token, offset) is not None
        )
        if concurrent:
            yield from self._concurrent(offset, token)
        else:
            yield from self._sequential(offset, token)

    def _sequential(self, offset: int, token: str | None) -> Generator[RunColumns, None, None]:
        while token:
            self._state.check()
            columns, token = self._fetch(self._plan.size_at(offset), token)
            offset += len(columns)
            yield columns

    def _concurrent(self, offset: int, token: str) -> Generator[RunColumns, None, None]:
        """The pages from `offset` on, up to `concurrent_pages` requests in flight, in order.

        Pages are named by offset with `page_token_at`. Requests run ahead of the end until
        a page says it is the last (a page past the end costs the server a query, no runs).
        The first rows' small pages are not mixed with big ones, which would slow them on
        a one-worker server, and how fast they come together tells whether the server
        answers in parallel (`_serves_in_parallel`): if not, the rest goes one page at a
        time, which is as fast there and keeps each answer well inside the read timeout.
        A page shorter than asked that still has a successor means the server capped the
        size: the rest then follows the server's own tokens.
        """
        plan, width = self._plan, self._tracking.concurrent_pages
        pool = ThreadPoolExecutor(width, thread_name_prefix="runs-page")
        in_flight: deque[tuple[int, Future[RunColumnsPage]]] = deque()
        small_pages, small_started = 0, time.perf_counter()
        try:
            while True:
                while len(in_flight) < width and not (
                    offset >= plan.first_rows and in_flight and in_flight[-1][0] < plan.first_rows
                ):
                    if offset >= plan.first_rows and small_pages:
                        if not self._serves_in_parallel(small_pages, small_started):
                            width = 1
                        small_pages = 0
                    elif offset < plan.first_rows:
                        small_pages += 1
                    size = plan.size_at(offset)
                    page_token = self._tracking.page_token_at(token, offset)
                    in_flight.append((offset, pool.submit(self._fetch, size, page_token)))
                    offset += size
                start, future = in_flight.popleft()
                columns, next_token = _result(future, self._state)
                yield columns
                if next_token is None:
                    return
                if len(columns) < plan.size_at(start):
                    yield from self._sequential(start + len(columns), next_token)
                    return
        finally:
            # Requests already sent finish on their own; their answers are dropped.
            pool.shutdown(wait=False, cancel_futures=True)

    def _serves_in_parallel(self, pages: int, started: float) -> bool:
        """Whether `pages` first-row pages asked for together at `started`, all in by now,
        came clearly faster than one after the other would have (each as the first did)."""
        together_s = time.perf_counter() - started
        speedup = pages * self._alone_s / max(together_s, 1e-9)
        parallel = pages < 2 or speedup >= _PARALLEL_SPEEDUP
        log.debug("runs pages: %d together %.2fx faster than alone", pages, speedup)
        return parallel


def _result(future: Future[RunColumnsPage], state: TaskState) -> RunColumnsPage:
    """Wait for a page, looking every `_CANCEL_POLL_S` whether the load was cancelled."""
    while True:
        state.check()
        try:
            return future.result(timeout=_CANCEL_POLL_S)
        except TimeoutError:
            continue


def _unseen(page: pd.DataFrame, seen: set[str]) -> pd.DataFrame:
    """The page without the runs already handed on (offset pages overlap when runs are
    logged during a load)."""
    ids = page["run_id"].tolist()
    fresh = [run_id not in seen for run_id in ids]
    seen.update(ids)
    if all(fresh):
        return page
    return page[np.array(fresh, dtype=bool)].reset_index(drop=True)


def load_runs_by_id(
    tracking: TrackingBackend, run_ids: Sequence[str], state: TaskState
) -> pd.DataFrame:
    """The given runs (from any experiments) as a runs frame, in the order given."""
    runs = []
    for number, run_id in enumerate(run_ids):
        state.progress(number / max(1, len(run_ids)), "Loading the selected runs")
        runs.append(tracking.get_run(run_id))
    return runs_to_frame(runs)


def runs_to_frame(runs: Sequence[Run]) -> pd.DataFrame:
    """One page of runs as a runs frame (columns in canonical order, typed)."""
    return columns_to_frame(runs_to_columns(runs))


def runs_to_columns(runs: Sequence[Run]) -> RunColumns:
    """`Run` objects as the columns a backend's columnar search returns."""
    columns = RunColumns(
        run_id=[r.run_id for r in runs],
        name=[r.name for r in runs],
        status=[r.status.value for r in runs],
        start_time_ms=[r.start_time_ms for r in runs],
        end_time_ms=[r.end_time_ms for r in runs],
        user=[r.user for r in runs],
        experiment_id=[r.experiment_id for r in runs],
    )
    for row, run in enumerate(runs):
        for key, value in run.params.items():
            columns.params.setdefault(key, ([], []))[0].append(row)
            columns.params[key][1].append(value)
        for key, number in run.metrics.items():
            columns.metrics.setdefault(key, ([], []))[0].append(row)
            columns.metrics[key][1].append(number)
        for key, value in run.tags.items():
            columns.tags.setdefault(key, ([], []))[0].append(row)
            columns.tags[key][1].append(value)
    return columns


def columns_to_frame(columns: RunColumns) -> pd.DataFrame:
    """One page of runs as a runs frame (columns in canonical order, typed)."""
    count = len(columns)
    start_ms = _floats(columns.start_time_ms)
    duration_s = (_floats(columns.end_time_ms) - start_ms) / 1000.0
    frame: dict[str, Any] = {
        "run_id": pd.array(columns.run_id, dtype="str"),
        "run_name": pd.array(columns.name, dtype="str"),
        "status": pd.array(columns.status, dtype="str"),
        "start_time": pd.to_datetime(start_ms, unit="ms", utc=True).astype("datetime64[ms, UTC]"),
        "duration_s": duration_s,
        "user": pd.array(columns.user, dtype="str"),
        "parent_run_id": _text(count, columns.tags.get(_PARENT_TAG)),
        "experiment_id": pd.array(columns.experiment_id, dtype="str"),
    }
    for key in sorted(columns.params):
        frame[PARAM_PREFIX + key] = _text(count, columns.params[key])
    for key in sorted(columns.metrics):
        rows, values = columns.metrics[key]
        numbers = np.full(count, np.nan)
        numbers[rows] = values
        frame[METRIC_PREFIX + key] = numbers
    for key in sorted(k for k in columns.tags if _keeps_tag(k)):
        frame[TAG_PREFIX + key] = _text(count, columns.tags[key])
    return pd.DataFrame(frame, index=pd.RangeIndex(count))


def _text(count: int, sparse: tuple[list[int], list[str]] | None) -> Any:
    """A text column of `count` rows from the rows that have a value (missing elsewhere)."""
    if sparse is None:
        return pd.array(np.full(count, None, dtype=object), dtype="str")
    rows, values = sparse
    if len(rows) == count:  # every run has the key: the usual case of a sweep
        return pd.array(values, dtype="str")
    dense = np.full(count, None, dtype=object)
    dense[np.asarray(rows, dtype=np.intp)] = np.array(values, dtype=object)
    return pd.array(dense, dtype="str")


def _floats(values: Iterable[float | int | None]) -> npt.NDArray[np.float64]:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _keeps_tag(key: str) -> bool:
    return not key.startswith("mlflow.") or key in USEFUL_MLFLOW_TAGS


def concat_frames(pages: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Pages of runs as one frame; a column missing from a page is empty for its rows."""
    if not pages:
        return runs_to_frame([])
    frame = pages[0] if len(pages) == 1 else pd.concat(pages, ignore_index=True, sort=False)
    return frame[canonical_order(frame.columns)]


def canonical_order(columns: Iterable[str]) -> list[str]:
    """Run columns first, then params, metrics and tags, each group sorted by name."""
    names = list(columns)
    fixed = [c for c in RUN_COLUMNS if c in names]
    rest = [c for c in names if c not in RUN_COLUMNS]

    def group(prefix: str) -> list[str]:
        return sorted(c for c in rest if c.startswith(prefix))

    grouped = group(PARAM_PREFIX) + group(METRIC_PREFIX) + group(TAG_PREFIX)
    others = [c for c in rest if c not in grouped]
    return fixed + grouped + others


def default_columns(frame: pd.DataFrame, limit: int = 12) -> list[str]:
    """The columns a runs table shows before the user picks, in display order: name, status,
    start, duration, then the preferred metrics and the params that vary, `limit` in all."""
    chosen = [c for c in DEFAULT_RUN_COLUMNS if c in frame.columns]
    metrics = [c for c in frame.columns if c.startswith(METRIC_PREFIX)]
    params = [c for c in frame.columns if c.startswith(PARAM_PREFIX)]
    rank = {name: i for i, name in enumerate(PREFERRED_METRICS)}
    metrics.sort(key=lambda c: (rank.get(c[len(METRIC_PREFIX) :], len(rank)), c))
    varying = [c for c in params if frame[c].nunique(dropna=True) > 1]
    constant = [c for c in params if c not in varying]
    room = limit - len(chosen)
    metric_room = min(len(metrics), max(room // 2, room - len(params)))
    picked_metrics = metrics[:metric_room]
    picked_params = (varying + constant)[: room - len(picked_metrics)]
    # Metrics before params: a reviewer reads the results first.
    return chosen + picked_metrics + picked_params
