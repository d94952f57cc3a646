"""Fast unit tests of the Prefetcher: jobs and pages only, no stream, no HTTP."""

from __future__ import annotations

import gc
import threading
import time
import typing as t
import weakref

import pytest

from tap_slack_snow.run.prefetch import FetchJob, Prefetcher
from tap_slack_snow.streams.fetch import RecordPages


def job(key: str, pages: t.Callable[[], t.Iterator[t.Any]]) -> FetchJob:
    return FetchJob(key, pages, RecordPages())


def numbered(name: str, count: int, seen: list[tuple[str, str]] | None = None):
    def pages() -> t.Iterator[list[dict[str, t.Any]]]:
        for number in range(count):
            if seen is not None:
                seen.append((name, threading.current_thread().name))
            yield [{"job": name, "page": number}]

    return pages


def read_all(prefetcher: Prefetcher, key: str) -> list[t.Any]:
    pages = prefetcher.pages(key)
    assert pages is not None, f"{key} was not fetched ahead"
    return list(pages)


def test_each_job_reads_back_its_pages_in_order() -> None:
    prefetcher = Prefetcher(max_concurrent=4)
    prefetcher.start([[job("a", numbered("a", 3))], [job("b", numbered("b", 2))]])
    try:
        assert read_all(prefetcher, "a") == [[{"job": "a", "page": n}] for n in range(3)]
        assert read_all(prefetcher, "b") == [[{"job": "b", "page": n}] for n in range(2)]
    finally:
        prefetcher.stop()


def test_a_group_runs_in_one_worker_job_after_job() -> None:
    seen: list[tuple[str, str]] = []
    prefetcher = Prefetcher(max_concurrent=4)
    group = [job("w1", numbered("w1", 2, seen)), job("w2", numbered("w2", 2, seen))]
    prefetcher.start([group])
    try:
        read_all(prefetcher, "w1")
        read_all(prefetcher, "w2")
    finally:
        prefetcher.stop()
    assert [name for name, _ in seen] == ["w1", "w1", "w2", "w2"]
    assert len({thread for _, thread in seen}) == 1


def wait_for(condition: t.Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert condition()


def test_max_concurrent_bounds_the_workers_and_the_last_groups_start_first() -> None:
    """The groups come in the order the SDK reads them, the longest expected last: those
    start first."""
    seen: list[tuple[str, str]] = []
    prefetcher = Prefetcher(max_concurrent=1)
    prefetcher.start([[job(name, numbered(name, 1, seen))] for name in ("x", "y", "z")])
    try:
        wait_for(lambda: len(seen) == 3)  # fetched before any is read
        for name in ("x", "y", "z"):
            read_all(prefetcher, name)
    finally:
        prefetcher.stop()
    assert seen == [(name, "tap-slack-snow-fetch-1") for name in ("z", "y", "x")]


def test_a_group_no_runner_claimed_by_its_turn_is_fetched_by_the_reader() -> None:
    """The one runner is busy with the longest group: the reader does not wait for it, it
    fetches the groups before it itself (the sequential run's way), in its own thread."""
    seen: list[tuple[str, str]] = []
    release = threading.Event()

    def longest() -> t.Iterator[t.Any]:
        release.wait(10)
        seen.append(("z", threading.current_thread().name))
        yield [{"job": "z"}]

    prefetcher = Prefetcher(max_concurrent=1)
    groups = [[job("x", numbered("x", 2, seen))], [job("y", numbered("y", 1, seen))]]
    prefetcher.start([*groups, [job("z", longest)]])
    try:
        assert read_all(prefetcher, "x") == [[{"job": "x", "page": n}] for n in range(2)]
        assert read_all(prefetcher, "y") == [[{"job": "y", "page": 0}]]
        release.set()
        assert read_all(prefetcher, "z") == [[{"job": "z"}]]
    finally:
        prefetcher.stop()
    main = threading.main_thread().name
    assert seen == [("x", main), ("x", main), ("y", main), ("z", "tap-slack-snow-fetch-1")]
    assert {thread.name for thread in prefetcher.threads} == {"tap-slack-snow-fetch-1"}


def test_an_error_comes_after_the_pages_before_it() -> None:
    def failing() -> t.Iterator[t.Any]:
        yield [{"n": 1}]
        yield [{"n": 2}]
        raise RuntimeError("Slack broke")

    prefetcher = Prefetcher(max_concurrent=2)
    prefetcher.start([[job("f", failing)]])
    pages = prefetcher.pages("f")
    assert pages is not None
    got: list[t.Any] = []
    with pytest.raises(RuntimeError, match="Slack broke"):
        got.extend(pages)
    prefetcher.stop()
    assert got == [[{"n": 1}], [{"n": 2}]]


def test_an_unknown_key_is_fetched_inline() -> None:
    prefetcher = Prefetcher(max_concurrent=1)
    prefetcher.start([[job("a", numbered("a", 1))]])
    try:
        assert prefetcher.pages("not-fetched-ahead") is None
    finally:
        prefetcher.stop()


def test_reading_a_later_job_closes_the_skipped_earlier_one() -> None:
    """A stream the SDK skipped will never be read: its spool goes, and its worker is freed."""
    prefetcher = Prefetcher(max_concurrent=2)
    prefetcher.start([[job("skipped", numbered("skipped", 2))], [job("read", numbered("r", 1))]])
    try:
        assert read_all(prefetcher, "read") == [[{"job": "r", "page": 0}]]
        assert prefetcher.pages("skipped") is None
    finally:
        prefetcher.stop()


def test_stop_ends_a_worker_waiting_for_room_in_its_spool() -> None:
    """An endless job blocked by the spool limit stops when the run ends, within the wait."""
    produced = [0]

    def endless() -> t.Iterator[t.Any]:
        while True:
            produced[0] += 1
            yield [{"filler": "x" * 1000}]

    prefetcher = Prefetcher(max_concurrent=1)
    prefetcher.SPOOL_LIMIT_BYTES = 10_000  # type: ignore[misc]
    prefetcher.start([[job("endless", endless)]])
    deadline = time.monotonic() + 10
    while produced[0] < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    assert produced[0] < 100, "the spool limit did not hold the worker back"
    started = time.monotonic()
    prefetcher.stop()
    assert time.monotonic() - started < Prefetcher.STOP_WAIT_SECONDS
    assert not any(thread.is_alive() for thread in prefetcher._threads)


COUNTING = threading.Lock()


def meeting(name: str, barrier: threading.Barrier, active: list[int], peak: list[int]):
    """A job of one page that waits for the other jobs of its group to be fetched too."""

    def pages() -> t.Iterator[list[dict[str, t.Any]]]:
        with COUNTING:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        try:
            barrier.wait(timeout=10)  # broken (an error) unless the jobs run side by side
        finally:
            with COUNTING:
                active[0] -= 1
        yield [{"job": name}]

    return pages


def test_the_jobs_of_a_group_are_fetched_side_by_side_up_to_max_per_group() -> None:
    """A Grid org's workspaces of one stream: each its own (method, workspace) bucket."""
    barrier = threading.Barrier(3)
    active, peak = [0], [0]
    names = [f"w{n}" for n in range(6)]
    prefetcher = Prefetcher(max_concurrent=1, max_per_group=3)
    prefetcher.start([[job(name, meeting(name, barrier, active, peak)) for name in names]])
    try:
        for name in names:  # read in order, as the SDK does
            assert read_all(prefetcher, name) == [[{"job": name}]]
    finally:
        prefetcher.stop()
    assert peak[0] == 3  # never more than max_per_group at once
    helpers = {thread.name for thread in prefetcher.threads}
    assert helpers == {
        "tap-slack-snow-fetch-1",
        "tap-slack-snow-fetch-1.2",
        "tap-slack-snow-fetch-1.3",
    }


def test_one_worker_per_group_fetches_its_jobs_one_after_another() -> None:
    seen: list[tuple[str, str]] = []
    prefetcher = Prefetcher(max_concurrent=2, max_per_group=1)
    group = [job(f"w{n}", numbered(f"w{n}", 2, seen)) for n in range(3)]
    prefetcher.start([group])
    try:
        for n in range(3):
            read_all(prefetcher, f"w{n}")
    finally:
        prefetcher.stop()
    assert [name for name, _ in seen] == ["w0", "w0", "w1", "w1", "w2", "w2"]


def test_a_job_read_past_before_its_turn_does_not_stop_the_group() -> None:
    """The SDK skipped a partition (a refused workspace) before a worker took it: the worker
    goes on with the next partitions instead of leaving them unfetched."""
    release = threading.Event()

    def slow() -> t.Iterator[t.Any]:
        release.wait(10)
        yield [{"job": "slow"}]

    prefetcher = Prefetcher(max_concurrent=1, max_per_group=1)
    prefetcher.start(
        [
            [
                job("slow", slow),
                job("skipped", numbered("skipped", 1)),
                job("read", numbered("read", 2)),
            ]
        ]
    )
    try:
        pages = prefetcher.pages("read")  # closes "slow" and "skipped", never read
        assert pages is not None
        release.set()
        assert list(pages) == [[{"job": "read", "page": n}] for n in range(2)]
    finally:
        prefetcher.stop()


def test_the_spools_together_stay_within_the_total_disk_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Many partitions fetched side by side, far ahead of their turn: together they keep at
    most about SPOOL_TOTAL_BYTES on disk (a page over it per writer), and reading them in
    order still reads everything (no deadlock)."""
    monkeypatch.setattr(Prefetcher, "SPOOL_TOTAL_BYTES", 20_000)
    page = [{"filler": "x" * 1000}]
    produced = [0]

    def pages() -> t.Iterator[t.Any]:
        for _ in range(30):
            produced[0] += 1
            yield page

    names = [f"w{n}" for n in range(8)]
    prefetcher = Prefetcher(max_concurrent=2, max_per_group=8)
    prefetcher.start([[job(name, pages) for name in names[:4]], [job(n, pages) for n in names[4:]]])
    try:
        deadline = time.monotonic() + 10
        before = -1
        while produced[0] != before and time.monotonic() < deadline:
            before = produced[0]
            time.sleep(0.2)
        # 8 writers, each at most one page past the budget: 20 + 8 pages of ~1 kB
        assert produced[0] <= 20 + 8 + 8 * 2, produced[0]
        for name in names:
            assert read_all(prefetcher, name) == [page] * 30
    finally:
        prefetcher.stop()
    assert produced[0] == 8 * 30


class Kept:
    """What a finished job's fetch still holds (its last answer)."""


def test_a_fetched_job_is_freed_while_its_group_goes_on() -> None:
    """A finished partition's fetch (and the last answer it keeps) is not held until the
    stream's last partition is done: memory does not grow with the number of workspaces."""
    kept = Kept()
    alive = weakref.ref(kept)
    release = threading.Event()
    waiting = threading.Event()

    def holding(thing: Kept) -> t.Callable[[], t.Iterator[t.Any]]:
        def pages() -> t.Iterator[t.Any]:
            assert thing is not None
            yield [{"job": "first"}]

        return pages

    def later() -> t.Iterator[t.Any]:
        waiting.set()
        release.wait(10)
        yield [{"job": "later"}]

    prefetcher = Prefetcher(max_concurrent=1, max_per_group=1)
    prefetcher.start([[job("first", holding(kept)), job("later", later)]])
    del kept
    try:
        assert waiting.wait(10)  # the first job is done, the group goes on
        gc.collect()
        assert alive() is None
        release.set()
        assert read_all(prefetcher, "first") == [[{"job": "first"}]]
        assert read_all(prefetcher, "later") == [[{"job": "later"}]]
    finally:
        prefetcher.stop()
