"""Loading runs from a real `mlflow server`: paging, counting, the cache and its refresh.

The store is seeded in-process (tests/harness/seed_runs.py) before its server starts, with
a 60-run experiment for small pages and a 2,345-run one for the default page plan and the
run count; the refresh tests log their changes through MLflow's client, as a training
script would.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from mlops_desktop.backends.mlflow_local import LocalTrackingBackend
from mlops_desktop.backends.mlflow_rest import MlflowRestBackend
from mlops_desktop.backends.tracking import RunsPage
from mlops_desktop.services.experiments import (
    PagePlan,
    concat_frames,
    count_runs,
    load_experiments,
    load_runs_frame,
    stream_run_pages,
)
from mlops_desktop.services.runs_cache import RunsCache, refresh_runs
from mlops_desktop.services.tasks import Cancelled, TaskState
from tests.harness.environment import SessionDirs
from tests.harness.mlflow_servers import MlflowServer, ServerFactory
from tests.harness.seed_runs import SeededExperiment, seed_experiment

pytestmark = pytest.mark.integration

SMALL = PagePlan(page_size=7, first_page_size=3, first_rows=12)


@dataclass(frozen=True)
class RunsStore:
    server: MlflowServer
    db: Path
    artifacts: Path
    paging: SeededExperiment  # 60 runs
    big: SeededExperiment  # 2,345 runs


@pytest.fixture(scope="module")
def store(session_dirs: SessionDirs, mlflow_server_factory: ServerFactory) -> RunsStore:
    root = session_dirs.servers / "runs-loading"
    db, artifacts = root / "mlflow.db", root / "artifacts"
    paging = seed_experiment(db, artifacts, "paging", 60)
    big = seed_experiment(db, artifacts, "big", 2_345, seed=11)
    return RunsStore(mlflow_server_factory(db, artifacts), db, artifacts, paging, big)


@pytest.fixture
def rest(store: RunsStore) -> Iterator[MlflowRestBackend]:
    backend = MlflowRestBackend(store.server.url, "runs test server")
    yield backend
    backend.close()


class RecordingRest(MlflowRestBackend):
    """The REST backend, noting the page size of every object search."""

    def __init__(self, url: str) -> None:
        super().__init__(url, "recording")
        self.sizes: list[int] = []

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        max_results: int = 1000,
        page_token: str | None = None,
        order_by: Sequence[str] = (),
    ) -> RunsPage:
        self.sizes.append(max_results)
        return super().search_runs(experiment_ids, filter_string, max_results, page_token, order_by)


def one_page(backend: MlflowRestBackend, experiment_id: str) -> pd.DataFrame:
    """The whole experiment in a single request: the reference the paged loads must equal."""
    return load_runs_frame(backend, [experiment_id], TaskState(), first_page_size=50_000)


# -- paging ---------------------------------------------------------------------------------------


def test_pages_across_several_pages_come_back_whole_and_in_server_order(store, rest):
    pages = list(stream_run_pages(rest, [store.paging.experiment_id], TaskState(), plan=SMALL))
    reference = one_page(rest, store.paging.experiment_id)

    assert [len(p) for p in pages] == [3, 3, 3, 3] + [7] * 6 + [6]
    assert len(reference) == 60
    pd.testing.assert_frame_equal(concat_frames(pages), reference)
    starts = reference["start_time"]
    assert starts.is_monotonic_decreasing, "newest first, as MLflow orders runs"


def test_one_page_at_a_time_gives_the_same_runs_as_several_at_once(store, rest):
    rest.concurrent_pages = 1
    sequential = list(stream_run_pages(rest, [store.paging.experiment_id], TaskState(), plan=SMALL))
    assert [len(p) for p in sequential] == [3, 3, 3, 3] + [7] * 6 + [6]
    pd.testing.assert_frame_equal(
        concat_frames(sequential), one_page(rest, store.paging.experiment_id)
    )


def test_the_default_page_plan_loads_a_big_experiment_with_partials_summing_up(store, rest):
    partials: list[pd.DataFrame] = []
    fractions: list[float] = []
    state = TaskState(on_partial=partials.append, on_progress=lambda f, _: fractions.append(f))
    frame = load_runs_frame(rest, [store.big.experiment_id], state, expected_total=2_345)

    assert len(frame) == 2_345
    assert frame["run_id"].is_unique
    assert sum(len(p) for p in partials) == 2_345
    assert [len(p) for p in partials[:4]] == [250, 250, 250, 250]
    assert fractions[-1] == 1.0
    pd.testing.assert_frame_equal(frame, one_page(rest, store.big.experiment_id))


def test_a_server_filter_is_paged_like_the_whole_experiment(store, rest):
    adam = "params.optimizer = 'adam'"
    pages = list(
        stream_run_pages(rest, [store.paging.experiment_id], TaskState(), adam, plan=SMALL)
    )
    frame = concat_frames(pages)
    assert 0 < len(frame) < 60
    assert (frame["params.optimizer"] == "adam").all()
    everything = one_page(rest, store.paging.experiment_id)
    assert len(frame) == (everything["params.optimizer"] == "adam").sum()


def test_the_local_store_gives_the_same_frame_as_its_server(store, rest):
    local = LocalTrackingBackend(store.db, store.artifacts)
    try:
        for experiment in (store.paging, store.big):
            from_server = load_runs_frame(rest, [experiment.experiment_id], TaskState())
            from_file = load_runs_frame(local, [experiment.experiment_id], TaskState())
            pd.testing.assert_frame_equal(from_file, from_server)
    finally:
        local.close()


# -- counting -------------------------------------------------------------------------------------


def test_a_big_experiment_is_counted_with_one_run_probes_not_paged_through(store):
    rest = RecordingRest(store.server.url)
    try:
        count, latest = count_runs(rest, store.big.experiment_id, TaskState())
    finally:
        rest.close()
    assert count == 2_345
    with sqlite3.connect(store.db) as db:
        (expected,) = db.execute(
            "SELECT MAX(MAX(start_time), MAX(COALESCE(end_time, 0))) FROM runs"
            " WHERE experiment_id = ?",
            (int(store.big.experiment_id),),
        ).fetchone()
    assert latest == expected
    assert set(rest.sizes) == {1}, "one-run probes only"
    assert len(rest.sizes) < 2 * 12 + 3, "about 2 log2(2,345) probes"


def test_experiments_list_their_run_counts(store, rest):
    counts = {s.name: s.run_count for s in load_experiments(rest, TaskState())}
    assert counts["paging"] == 60
    assert counts["big"] == 2_345


# -- cancel ---------------------------------------------------------------------------------------


def test_cancel_mid_load_hands_on_whole_pages_only_and_returns_nothing(store, rest):
    delivered: list[pd.DataFrame] = []

    def cancel_after_two(page: pd.DataFrame) -> None:
        delivered.append(page)
        if len(delivered) == 2:
            state.cancel()

    state = TaskState(on_partial=cancel_after_two)
    with pytest.raises(Cancelled):
        load_runs_frame(rest, [store.paging.experiment_id], state, page_size=5, first_page_size=5)

    assert [len(p) for p in delivered] == [5, 5]
    reference = one_page(rest, store.paging.experiment_id)
    assert pd.concat(delivered)["run_id"].tolist() == reference["run_id"].tolist()[:10]
    # The backend is still usable: the pages still in flight were dropped, not left half-read.
    assert len(load_runs_frame(rest, [store.paging.experiment_id], TaskState())) == 60


# -- the cache and its refresh --------------------------------------------------------------------


def test_a_loaded_frame_round_trips_through_the_cache(store, rest, tmp_path):
    cache = RunsCache(tmp_path)
    frame = load_runs_frame(rest, [store.big.experiment_id], TaskState())
    cache.write(store.server.url, [store.big.experiment_id], "", frame, fetched_at=1234.5)

    cached = cache.read(store.server.url, [store.big.experiment_id], "")
    assert cached is not None
    assert cached.fetched_at == 1234.5
    pd.testing.assert_frame_equal(cached.frame, frame)


def test_a_corrupt_cache_file_is_ignored_and_replaced(store, rest, tmp_path):
    cache = RunsCache(tmp_path)
    frame = load_runs_frame(rest, [store.paging.experiment_id], TaskState())
    cache.write(store.server.url, [store.paging.experiment_id], "", frame)
    parquet = next(tmp_path.rglob("*.parquet"))
    parquet.write_bytes(b"PAR1 this is not a parquet file")

    assert cache.read(store.server.url, [store.paging.experiment_id], "") is None
    cache.write(store.server.url, [store.paging.experiment_id], "", frame)
    cached = cache.read(store.server.url, [store.paging.experiment_id], "")
    assert cached is not None
    pd.testing.assert_frame_equal(cached.frame, frame)


@dataclass
class Training:
    """An experiment a training script is writing to, through MLflow's own client."""

    client: object
    experiment_id: str
    finished: list[str]
    running: str


@pytest.fixture
def training(store: RunsStore) -> Training:
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag

    client = MlflowClient(tracking_uri=store.server.url)
    experiment_id = client.create_experiment(f"training-{uuid.uuid4().hex[:8]}")
    finished = []
    for number in range(6):
        run = client.create_run(experiment_id, run_name=f"done-{number}")
        client.log_batch(
            run.info.run_id,
            metrics=[Metric("loss", 1 / (number + 1), 0, 10)],
            params=[Param("lr", str(0.1 * (number + 1)))],
            tags=[RunTag("team", "core")],
        )
        client.set_terminated(run.info.run_id, "FINISHED")
        finished.append(run.info.run_id)
    running = client.create_run(experiment_id, run_name="still-training")
    client.log_batch(running.info.run_id, metrics=[Metric("loss", 0.9, 0, 1)])
    return Training(client, experiment_id, finished, running.info.run_id)


def test_refresh_picks_up_a_new_run_a_changed_tag_and_a_running_run_that_finished(
    store, rest, training, tmp_path
):
    from mlflow.entities import Metric

    client = training.client
    cache = RunsCache(tmp_path)
    previous = load_runs_frame(rest, [training.experiment_id], TaskState())
    cache.write(store.server.url, [training.experiment_id], "", previous)
    assert previous.set_index("run_id").loc[training.running, "status"] == "RUNNING"

    new_run = client.create_run(training.experiment_id, run_name="new")
    client.set_terminated(new_run.info.run_id, "FINISHED")
    client.set_tag(training.finished[2], "team", "growth")
    client.log_batch(training.running, metrics=[Metric("loss", 0.2, 0, 50)])
    client.set_terminated(training.running, "FINISHED")

    cached = cache.read(store.server.url, [training.experiment_id], "")
    assert cached is not None
    result = refresh_runs(rest, cached.frame, [training.experiment_id], "", TaskState())

    assert (result.new_runs, result.changed_runs, result.removed_runs) == (1, 2, 0)
    runs = result.frame.set_index("run_id")
    assert new_run.info.run_id in runs.index
    assert runs.loc[training.finished[2], "tags.team"] == "growth"
    assert runs.loc[training.running, "status"] == "FINISHED"
    assert runs.loc[training.running, "metrics.loss"] == 0.2
    assert runs.loc[training.running, "duration_s"] >= 0


def test_refresh_sees_a_deleted_run(store, rest, training):
    previous = load_runs_frame(rest, [training.experiment_id], TaskState())
    training.client.delete_run(training.finished[0])

    result = refresh_runs(rest, previous, [training.experiment_id], "", TaskState())
    assert (result.new_runs, result.changed_runs, result.removed_runs) == (0, 0, 1)
    assert training.finished[0] not in set(result.frame["run_id"])
