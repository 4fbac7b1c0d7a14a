"""The runs loader's paging: pages by offset, several at once, handed on whole and in order.

A fake columnar backend makes what a real server rarely shows on demand: pages finishing
out of order, a server that caps the page size, runs logged during a load, a slow page
while the user cancels. The real server is in tests/integration/test_runs_loading.py.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pandas as pd
import pytest

from mlops_desktop.backends.tracking import ColumnarRunSearch, RunColumnsPage
from mlops_desktop.domain.tracking import Run, RunStatus
from mlops_desktop.services.experiments import (
    PagePlan,
    load_runs_frame,
    runs_to_columns,
    runs_to_frame,
    stream_run_pages,
)
from mlops_desktop.services.tasks import Cancelled, TaskState

T0 = 1_750_000_000_000


def make_run(number: int) -> Run:
    return Run(
        run_id=f"run{number:05d}",
        experiment_id="1",
        name=f"trial-{number}",
        status=RunStatus.FINISHED,
        start_time_ms=T0 - number * 1000,  # newest first, as a server answers
        end_time_ms=T0 - number * 1000 + 5_000,
        params={"lr": str(number % 3)},
        metrics={"auc": number / 1000},
        tags={"team": "a" if number % 2 else "b"},
    )


class FakeColumnarTracking:
    """Runs in a list, pages named `offset:N`, with optional delays and a page-size cap."""

    label = "Fake"
    location = "memory"

    def __init__(self, runs: Sequence[Run], concurrent_pages: int = 4) -> None:
        self.runs = list(runs)
        self.concurrent_pages = concurrent_pages
        self.max_page: int | None = None
        self.delay_s: dict[int, float] = {}  # offset -> seconds before answering
        self.requests: list[tuple[int, int]] = []  # (offset, size) in the order asked
        self.on_request = lambda offset: None
        self._lock = threading.Lock()
        self.answer_s = 0.0  # how long every page takes the "server"
        self.one_worker = False  # answer one request at a time, as a one-worker server
        self._worker = threading.Lock()
        self.in_flight = 0
        self.most_in_flight_after: dict[int, int] = {}  # offset -> most requests at once

    def search_run_columns(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> RunColumnsPage:
        offset = int(page_token.removeprefix("offset:")) if page_token else 0
        with self._lock:
            self.requests.append((offset, max_results))
            self.in_flight += 1
            for since in self.most_in_flight_after:
                if offset >= since:
                    self.most_in_flight_after[since] = max(
                        self.most_in_flight_after[since], self.in_flight
                    )
        try:
            self.on_request(offset)
            threading.Event().wait(self.delay_s.get(offset, 0.0))
            if self.one_worker:
                with self._worker:
                    threading.Event().wait(self.answer_s)
            else:
                threading.Event().wait(self.answer_s)
        finally:
            with self._lock:
                self.in_flight -= 1
        size = min(max_results, self.max_page or max_results)
        page = self.runs[offset : offset + size]
        end = offset + len(page)
        return runs_to_columns(page), (f"offset:{end}" if end < len(self.runs) else None)

    def page_token_at(self, token: str, offset: int) -> str | None:
        return f"offset:{offset}" if token.startswith("offset:") else None

    # The object search, which the loader must not use when columns are offered.
    def search_runs(self, *args: object, **kwargs: object) -> object:
        raise AssertionError("the columnar search should have been used")


def collect(tracking: FakeColumnarTracking, plan: PagePlan) -> list[pd.DataFrame]:
    stream = stream_run_pages(tracking, ["1"], TaskState(), plan=plan)
    return list(stream)


def test_the_fake_is_a_columnar_backend():
    assert isinstance(FakeColumnarTracking([]), ColumnarRunSearch)


def test_small_pages_for_the_first_rows_then_big_pages_all_in_server_order():
    runs = [make_run(n) for n in range(1_000)]
    tracking = FakeColumnarTracking(runs)
    pages = collect(tracking, PagePlan(page_size=300, first_page_size=50, first_rows=200))

    assert [len(p) for p in pages] == [50, 50, 50, 50, 300, 300, 200]
    whole = pd.concat(pages, ignore_index=True)
    assert whole["run_id"].tolist() == [r.run_id for r in runs]
    pd.testing.assert_frame_equal(
        load_runs_frame(tracking, ["1"], TaskState()), runs_to_frame(runs), check_like=False
    )


def test_pages_finishing_out_of_order_are_handed_on_in_order():
    runs = [make_run(n) for n in range(400)]
    tracking = FakeColumnarTracking(runs)
    tracking.delay_s = {100: 0.3}  # the second page is the slowest of those in flight
    pages = collect(tracking, PagePlan(page_size=100, first_page_size=100, first_rows=100))

    assert pd.concat(pages)["run_id"].tolist() == [r.run_id for r in runs]
    offsets = [offset for offset, _ in tracking.requests]
    assert offsets[:4] == [0, 100, 200, 300], "pages 2-4 were asked for together"


def test_the_first_rows_pages_are_not_slowed_by_big_pages():
    tracking = FakeColumnarTracking([make_run(n) for n in range(2_000)])
    asked_while_first_rows_pending: list[int] = []
    first_rows_done = threading.Event()

    def watch(offset: int) -> None:
        if not first_rows_done.is_set() and offset >= 400:
            asked_while_first_rows_pending.append(offset)

    tracking.on_request = watch
    plan = PagePlan(page_size=500, first_page_size=100, first_rows=400)
    stream = stream_run_pages(tracking, ["1"], TaskState(), plan=plan)
    rows = 0
    for page in stream:
        rows += len(page)
        if rows >= 400:
            first_rows_done.set()
    assert rows == 2_000
    assert asked_while_first_rows_pending == []


@pytest.mark.parametrize(("one_worker", "most_in_flight"), [(True, 1), (False, 4)])
def test_later_pages_go_together_only_where_the_first_rows_came_faster_together(
    one_worker, most_in_flight
):
    """A one-worker server answers pages one after another: asking for four at once gains
    nothing there and makes each answer four times slower (a read timeout at 30 s)."""
    tracking = FakeColumnarTracking([make_run(n) for n in range(2_000)])
    tracking.answer_s = 0.2
    tracking.one_worker = one_worker
    tracking.most_in_flight_after = {400: 0}  # the later pages, after the first rows
    pages = collect(tracking, PagePlan(page_size=200, first_page_size=100, first_rows=400))

    assert sum(len(p) for p in pages) == 2_000
    assert tracking.most_in_flight_after[400] == most_in_flight


def test_a_server_capping_the_page_size_is_followed_by_its_own_tokens():
    runs = [make_run(n) for n in range(1_000)]
    tracking = FakeColumnarTracking(runs)
    tracking.max_page = 150  # asked 100 first (fits), then 400 (capped to 150)
    pages = collect(tracking, PagePlan(page_size=400, first_page_size=100, first_rows=100))

    whole = pd.concat(pages, ignore_index=True)
    assert whole["run_id"].tolist() == [r.run_id for r in runs]
    assert whole["run_id"].is_unique


def test_a_run_logged_during_the_load_is_not_handed_on_twice():
    runs = [make_run(n) for n in range(500)]
    tracking = FakeColumnarTracking(runs, concurrent_pages=1)
    logged = make_run(-1)  # the newest run: it shifts every later page by one

    def log_a_run(offset: int) -> None:
        if offset == 100 and tracking.runs[0] is not logged:
            tracking.runs.insert(0, logged)

    tracking.on_request = log_a_run
    pages = collect(tracking, PagePlan(page_size=100, first_page_size=100, first_rows=100))
    whole = pd.concat(pages, ignore_index=True)
    assert whole["run_id"].is_unique
    assert set(whole["run_id"]) == {r.run_id for r in runs}


def test_a_backend_without_offset_tokens_is_paged_one_page_at_a_time():
    runs = [make_run(n) for n in range(700)]
    tracking = FakeColumnarTracking(runs)
    tracking.page_token_at = lambda token, offset: None  # type: ignore[method-assign]
    pages = collect(tracking, PagePlan(page_size=200, first_page_size=100, first_rows=300))

    assert [len(p) for p in pages] == [100, 100, 100, 200, 200]
    assert [offset for offset, _ in tracking.requests] == [0, 100, 200, 300, 500]


def test_cancelling_while_a_page_hangs_stops_with_only_whole_pages_delivered():
    runs = [make_run(n) for n in range(1_000)]
    tracking = FakeColumnarTracking(runs)
    release, hanging = threading.Event(), threading.Event()

    def hang(offset: int) -> None:
        if offset == 200:
            hanging.set()
            release.wait(60)

    tracking.on_request = hang
    delivered: list[pd.DataFrame] = []
    state = TaskState(on_partial=delivered.append)

    def cancel_once_hanging() -> None:
        hanging.wait(60)
        state.cancel()

    threading.Thread(target=cancel_once_hanging, daemon=True).start()
    try:
        with pytest.raises(Cancelled):
            load_runs_frame(tracking, ["1"], state, page_size=100, first_page_size=100)
        assert not release.is_set(), "the load gave up while the page still hung"
    finally:
        release.set()
    # The cancel may come before or after the second page is handed on, never in a page.
    assert [len(page) for page in delivered] in ([100], [100, 100])
    handed_on = pd.concat(delivered)["run_id"].tolist()
    assert handed_on == [r.run_id for r in runs[: len(handed_on)]]


def test_an_error_on_a_later_page_reaches_the_caller():
    tracking = FakeColumnarTracking([make_run(n) for n in range(500)])

    def fail(offset: int) -> None:
        if offset == 300:
            raise ConnectionError("server went away")

    tracking.on_request = fail
    with pytest.raises(ConnectionError, match="went away"):
        load_runs_frame(tracking, ["1"], TaskState(), page_size=100, first_page_size=100)
