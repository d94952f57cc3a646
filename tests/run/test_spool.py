"""The spool between a prefetch worker and the main thread (``tap_slack_snow.run.spool``):
order across disk and memory, the disk bound, the writer's error after its pages, stop.
"""

from __future__ import annotations

import threading
import time

import pytest

from tap_slack_snow.run.spool import Spool, SpoolStopped


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
