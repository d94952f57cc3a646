"""Concurrent fetching, sequential emission: each stream's requests run in a worker thread.

Slack's rate limits apply per method, so a sync whose streams are read one after another
waits the sum of every method's windows, while reading them side by side waits about as long
as the slowest method. :class:`Prefetcher` starts, when the first stream starts (after the
run's plan is logged), one worker per group of :class:`FetchJob` s (a stream's partitions,
one job each; at most ``max_concurrent_streams`` workers at once, in the tap's order). A job
is a page iterator made on the main thread: the worker runs it (the stream's own request
loop, paginator, error policy, access-log windows, analytics days) and puts each page in the
job's :class:`~tap_slack_snow.run.spool.Spool`. The worker sees jobs and pages, never a
stream. The
SDK still syncs the streams one after another in the main thread: when it reaches a stream,
the stream reads its pages from the spool instead of from Slack, and everything after that
(post-processing, validation, RECORD, SCHEMA and STATE messages, bookmarks) is the SDK's, as
in a sequential run.

A stream with partitions (a Grid org's workspaces, org-level token) is one group, fetched by
one worker, partition after partition, one spool each. The streams share each workspace's first
answer (:class:`~tap_slack_snow.run.workspaces.OrgWorkspaces`), so a workspace Slack refuses is
asked once per run however many workers reach it, and its skip and warning come when the SDK
reaches it, as in a sequential run.

A worker's error is raised in the main thread when the SDK reaches that stream (partition),
after the records fetched before it, so the skip/fail policy and its one line are those of a
sequential run. Workers are daemon threads; when a run fails they are stopped (a rate-limit
wait, or a wait for a workspace's first answer, is cut short) and waited for. Spool files have
no name on disk and go with the process.
"""

from __future__ import annotations

import queue
import threading
import time
import typing as t
from dataclasses import dataclass

from tap_slack_snow.run.spool import Spool, SpoolStopped

P = t.TypeVar("P")


class PageCodec(t.Protocol[P]):
    """How a job's pages wait on disk for their turn."""

    def encode(self, page: P) -> bytes:
        """A page as bytes."""

    def decode(self, data: bytes) -> P:
        """The page :meth:`encode` wrote."""

    def disk_bytes(self, page: P) -> int:
        """Bytes a page keeps on disk outside its spool frame (a downloaded file)."""

    def discard(self, page: P) -> None:
        """Free what an unread page holds (the run ended before its turn)."""


@dataclass(frozen=True)
class FetchJob:
    """One (stream, partition) to fetch ahead: its key, its pages, their codec.

    ``pages`` is called in the worker; everything it needs from the run's state was read on
    the main thread when the job was made.
    """

    key: t.Hashable
    pages: t.Callable[[], t.Iterator[t.Any]]
    codec: PageCodec[t.Any]


class Prefetcher:
    """Fetches groups of jobs ahead of their turn (see the module docstring)."""

    #: Unread bytes a job may keep on disk before its worker waits for its turn.
    SPOOL_LIMIT_BYTES: t.ClassVar[int] = 512 << 20

    def __init__(self, *, max_concurrent: int) -> None:
        """Nothing starts until :meth:`start`."""
        self.max_concurrent = max(1, max_concurrent)
        self._spools: dict[t.Hashable, Spool[t.Any]] = {}
        self._queue: queue.Queue[t.Sequence[FetchJob] | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    def start(self, groups: t.Sequence[t.Sequence[FetchJob]]) -> None:
        """Open a spool per job, then start the workers; each group goes to one worker, its
        jobs fetched one after another, in order."""
        for group in groups:
            for job in group:
                codec = job.codec
                self._spools[job.key] = Spool(
                    encode=codec.encode,
                    decode=codec.decode,
                    max_bytes=self.SPOOL_LIMIT_BYTES,
                    extra_bytes=codec.disk_bytes,
                    discard=codec.discard,
                )
            self._queue.put(group)
        for number in range(min(self.max_concurrent, len(groups))):
            self._queue.put(None)  # one end marker per worker
            worker = threading.Thread(
                target=self._work, name=f"tap-slack-snow-fetch-{number + 1}", daemon=True
            )
            self._threads.append(worker)
        for worker in self._threads:
            worker.start()

    def pages(self, key: t.Hashable) -> t.Iterator[t.Any] | None:
        """The pages fetched for ``key``, or None if it is not prefetched.

        The SDK reads the jobs in the order the prefetch started them, so a spool still open
        before this one will never be read (its stream or partition was skipped): it is
        closed, which also frees a worker waiting on it.
        """
        spool = self._spools.get(key)
        if spool is None:
            return None
        for earlier in list(self._spools):
            if earlier == key:
                break
            self._spools.pop(earlier).close()
        return self._read(key, spool)

    def _read(self, key: t.Hashable, spool: Spool[t.Any]) -> t.Iterator[t.Any]:
        try:
            yield from spool.read()
        finally:
            spool.close()
            self._spools.pop(key, None)

    #: How long :meth:`stop` waits for the workers (one in a request finishes it first).
    STOP_WAIT_SECONDS: t.ClassVar[float] = 5.0

    def stop(self) -> None:
        """End the run: wake every worker so it stops, wait for them, delete every spool."""
        self._stopping.set()
        spools = list(self._spools.values())
        for spool in spools:
            spool.stop()
        deadline = time.monotonic() + self.STOP_WAIT_SECONDS
        for worker in self._threads:
            worker.join(max(0.0, deadline - time.monotonic()))
        for spool in spools:
            spool.close()
        self._spools.clear()

    def _work(self) -> None:
        while not self._stopping.is_set():
            group = self._queue.get()
            if group is None:
                return
            for job in group:
                spool = self._spools.get(job.key)
                if spool is None:  # the run is ending
                    return
                self._fetch(job, spool)

    @staticmethod
    def _fetch(job: FetchJob, spool: Spool[t.Any]) -> None:
        try:
            for page in job.pages():
                spool.put(page)
        except SpoolStopped:
            return
        except BaseException as exc:
            spool.finish(exc)
            return
        spool.finish()
