"""The spool between a prefetch worker and the main thread (``tap_slack_snow.run.spool``):
order across disk and memory, the disk bound (``max_bytes``, extra bytes included), the
writer's error after its pages, stop, and close freeing what was never read. Only the
spool's public methods; no HTTP.
"""

from __future__ import annotations

import threading
import time
import typing as t
from pathlib import Path

import pytest

from tap_slack_snow.run.spool import DiskBudget, Spool, SpoolStopped


def test_spool_keeps_order_across_disk_and_memory_and_bounds_the_disk() -> None:
    spool: Spool[list[int]] = Spool(encode=bytes, decode=list, max_bytes=40, live_pages=2)
    high_water = 0
    written = threading.Event()

    def writer() -> None:
        nonlocal high_water
        for n in range(200):
            spool.put([n % 256] * 10)
            high_water = max(high_water, spool._disk_bytes)
        written.set()
        spool.finish()

    worker = threading.Thread(target=writer)
    worker.start()
    time.sleep(0.2)  # the writer runs ahead until the disk budget is used up, then waits
    assert not written.is_set()
    pages = list(spool.read())
    worker.join()
    assert pages == [[n % 256] * 10 for n in range(200)]
    assert high_water <= 40 + 10  # the budget, plus at most the frame that crossed it
    spool.close()


def test_spool_raises_the_writers_error_after_its_pages_and_stops_the_writer() -> None:
    spool: Spool[list[int]] = Spool(encode=bytes, decode=list)
    spool.put([1])
    spool.put([2])
    spool.finish(RuntimeError("Slack method users.list failed 4 times in a row"))
    reader = spool.read()
    assert next(reader) == [1]
    assert next(reader) == [2]
    with pytest.raises(RuntimeError, match=r"users\.list"):
        next(reader)
    spool.close()

    stopped: Spool[list[int]] = Spool(encode=bytes, decode=list, max_bytes=0)
    stopped.put([1])  # over the budget now: the next put waits
    raised: list[BaseException] = []

    def blocked_writer() -> None:
        try:
            stopped.put([2])
        except SpoolStopped as exc:
            raised.append(exc)

    thread = threading.Thread(target=blocked_writer)
    thread.start()
    stopped.close()
    thread.join(timeout=5)
    assert not thread.is_alive() and raised


# --- the spool's public contract, one behaviour per test (no HTTP, no emulator) ------------


def encode(page: list[int]) -> bytes:
    return bytes(page)


def decode(frame: bytes) -> list[int]:
    return list(frame)


def started(target: t.Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def test_pages_put_before_reading_are_read_in_order_then_the_end() -> None:
    spool: Spool[list[int]] = Spool(encode=encode, decode=decode)
    for n in range(5):
        spool.put([n, n])
    spool.finish()
    assert list(spool.read()) == [[n, n] for n in range(5)]
    spool.close()


def test_pages_put_while_the_reader_waits_are_read_in_order() -> None:
    spool: Spool[list[int]] = Spool(encode=encode, decode=decode, live_pages=3)
    read: list[list[int]] = []
    reader = started(lambda: read.extend(spool.read()))
    time.sleep(0.05)  # the reader has caught up and waits for the first page
    for n in range(50):
        spool.put([n])
    spool.finish()
    reader.join(timeout=10)
    assert not reader.is_alive()
    assert read == [[n] for n in range(50)]
    spool.close()


def test_an_empty_spool_finished_without_error_reads_nothing() -> None:
    spool: Spool[list[int]] = Spool(encode=encode, decode=decode)
    spool.finish()
    assert list(spool.read()) == []
    spool.close()


def test_the_writers_error_comes_after_every_page_put_before_it() -> None:
    spool: Spool[list[int]] = Spool(encode=encode, decode=decode)
    spool.put([1])
    spool.put([2])
    spool.put([3])
    failure = ValueError("users.list answered garbage")
    spool.finish(failure)
    reader = spool.read()
    assert [next(reader), next(reader), next(reader)] == [[1], [2], [3]]
    with pytest.raises(ValueError, match="garbage") as raised:
        next(reader)
    assert raised.value is failure  # the writer's own exception, not a copy
    spool.close()


def test_the_reader_waits_for_pages_until_the_writer_finishes() -> None:
    spool: Spool[list[int]] = Spool(encode=encode, decode=decode)
    done = threading.Event()
    read: list[list[int]] = []

    def reader() -> None:
        read.extend(spool.read())
        done.set()

    started(reader)
    spool.put([7])
    assert not done.wait(0.2)  # no end yet: the reader waits for more
    spool.finish()
    assert done.wait(5)
    assert read == [[7]]
    spool.close()


def test_put_after_stop_discards_the_page_and_raises_spool_stopped() -> None:
    discarded: list[list[int]] = []
    spool: Spool[list[int]] = Spool(encode=encode, decode=decode, discard=discarded.append)
    spool.stop()
    with pytest.raises(SpoolStopped):
        spool.put([9])
    assert discarded == [[9]]
    spool.close()


def test_stop_wakes_a_writer_held_back_by_max_bytes() -> None:
    discarded: list[list[int]] = []
    spool: Spool[list[int]] = Spool(
        encode=encode, decode=decode, max_bytes=0, discard=discarded.append
    )
    spool.put([1])  # one frame on disk: over a budget of 0, so the next put waits
    raised: list[BaseException] = []

    def writer() -> None:
        try:
            spool.put([2])
        except SpoolStopped as exc:
            raised.append(exc)

    thread = started(writer)
    thread.join(timeout=0.2)
    assert thread.is_alive()  # held back
    spool.stop()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert len(raised) == 1
    assert [2] in discarded
    spool.close()


def test_max_bytes_holds_the_writer_back_until_the_reader_catches_up() -> None:
    spool: Spool[list[int]] = Spool(encode=encode, decode=decode, max_bytes=4)
    spool.put([1, 1, 1, 1, 1])  # 5 bytes on disk: more than max_bytes
    second_put = threading.Event()

    def writer() -> None:
        spool.put([2])
        second_put.set()
        spool.finish()

    started(writer)
    assert not second_put.wait(0.3)  # the writer waits while 5 bytes wait unread
    reader = spool.read()
    assert next(reader) == [1, 1, 1, 1, 1]
    assert second_put.wait(5)  # read: the disk is under the budget again
    assert list(reader) == [[2]]
    spool.close()


def test_extra_bytes_of_a_page_count_against_max_bytes() -> None:
    spool: Spool[list[int]] = Spool(
        encode=encode, decode=decode, max_bytes=100, extra_bytes=lambda page: 1000
    )
    spool.put([1])  # a one-byte frame, but it holds a 1000-byte download
    second_put = threading.Event()

    def writer() -> None:
        spool.put([2])
        second_put.set()
        spool.finish()

    started(writer)
    assert not second_put.wait(0.3)
    reader = spool.read()
    assert next(reader) == [1]
    assert second_put.wait(5)
    assert list(reader) == [[2]]
    spool.close()


def test_close_discards_every_unread_page_and_leaves_no_file(tmp_path: Path) -> None:
    discarded: list[list[int]] = []
    spool: Spool[list[int]] = Spool(
        encode=encode, decode=decode, directory=str(tmp_path), discard=discarded.append
    )
    spool.put([1])
    spool.put([2])
    spool.put([3])
    reader = spool.read()
    assert next(reader) == [1]
    spool.close()
    assert discarded == [[2], [3]]  # the pages never read (their downloads are freed)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(SpoolStopped):
        spool.put([4])  # a closed spool takes no page


def test_the_spool_file_has_no_name_on_disk_while_in_use(tmp_path: Path) -> None:
    spool: Spool[list[int]] = Spool(encode=encode, decode=decode, directory=str(tmp_path))
    spool.put([1] * 100)
    assert list(tmp_path.iterdir()) == []  # it goes with the process, however that ends
    spool.finish()
    assert list(spool.read()) == [[1] * 100]
    spool.close()


def test_a_shared_budget_holds_back_every_spool_until_one_is_read_or_closed() -> None:
    """Spools sharing a DiskBudget: a writer waits while they hold more than its limit
    together; reading or closing any of them frees it; a spool whose reader has caught up
    hands pages over in memory and never waits on the budget."""
    budget = DiskBudget(4)
    first: Spool[list[int]] = Spool(encode=encode, decode=decode, budget=budget)
    second: Spool[list[int]] = Spool(encode=encode, decode=decode, budget=budget)
    third: Spool[list[int]] = Spool(encode=encode, decode=decode, budget=budget)
    first.put([1, 1, 1, 1, 1])  # 5 bytes: the budget is spent for all three spools
    assert budget.used == 5
    second_put = threading.Event()

    def writer() -> None:
        second.put([2])
        second_put.set()
        second.finish()

    started(writer)
    assert not second_put.wait(0.3)  # another spool's bytes hold this one back
    reader = first.read()
    assert next(reader) == [1, 1, 1, 1, 1]
    assert second_put.wait(5)  # read: the budget has room again
    assert budget.used == 1
    # the spool being read is in memory once caught up: over the budget, it still goes on
    third.put([3, 3, 3, 3, 3])
    assert budget.used == 6
    live = threading.Event()

    def live_writer() -> None:
        first.put([4])
        live.set()
        first.finish()

    started(live_writer)
    assert list(reader) == [[4]]
    assert live.wait(5)
    # closing a spool gives its unread bytes back
    third.close()
    assert budget.used == 1
    assert list(second.read()) == [[2]]
    assert budget.used == 0
    first.close()
    second.close()


def test_a_page_put_while_the_spool_closes_is_not_counted() -> None:
    budget = DiskBudget(1 << 20)
    discarded: list[list[int]] = []
    spool: Spool[list[int]] = Spool(
        encode=encode, decode=decode, budget=budget, discard=discarded.append
    )
    spool.put([1, 2])
    spool.close()
    with pytest.raises(SpoolStopped):
        spool.put([3])
    assert budget.used == 0
    assert discarded == [[1, 2], [3]]
