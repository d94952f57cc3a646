"""Concurrent fetching, sequential emission: Slack's rate-limit buckets read side by side.

Slack counts rate limits per method, per workspace and per app, so a sync whose streams (and,
on a Grid org read with an org-level token, whose workspaces) are read one after another waits
the sum of every bucket's windows, while reading them side by side waits about as long as the
busiest bucket. :class:`Prefetcher` starts, when the first stream starts (after the run's plan
is logged), workers over groups of :class:`FetchJob` s: a group is a stream, a job one of its
partitions (one workspace: one (method, workspace) bucket, whose requests stay one after
another in the job). The groups come in the order the SDK reads them, the tap's sync order,
which puts the streams expected to take longest last
(:mod:`~tap_slack_snow.streams.order`); at most ``max_concurrent`` groups are fetched at
once, the last first (the longest fetches start first), and each by up to ``max_per_group``
workers at once, which take its jobs in order. A job is a page iterator made on the main
thread: a worker runs it (the stream's own request loop, paginator, error policy,
access-log windows, analytics days) and puts each page in the job's
:class:`~tap_slack_snow.run.spool.Spool`. The workers see jobs and pages, never a stream.
The SDK still syncs the streams one after another, partition after partition, in the main
thread: when it reaches one, the stream reads its pages from the spool instead of from
Slack, and everything after that (post-processing, validation, RECORD, SCHEMA and STATE
messages, bookmarks) is the SDK's, as in a sequential run. A job of a group no runner has
claimed when the SDK reaches it (every runner busy with longer groups) is run by the main
thread itself, as a sequential run would.

The streams share each workspace's first answer
(:class:`~tap_slack_snow.run.workspaces.OrgWorkspaces`), so a workspace Slack refuses is asked
once per run however many workers reach it, and its skip and warning come when the SDK reaches
it, as in a sequential run.

Disk: a job keeps at most ``SPOOL_LIMIT_BYTES`` unread on disk, and all jobs together at most
``SPOOL_TOTAL_BYTES`` (a :class:`~tap_slack_snow.run.spool.DiskBudget`), whatever the number
of workspaces; past either, a worker waits for its job's turn. The job the SDK is reading never
waits on the budget (once its reader has caught up, its pages are handed over in memory), and
a job of a group no runner has claimed by its turn is run by the reader itself; in a claimed
group, the jobs before the one being read are read or closed, so a worker of the group
reaches it. The job the SDK reads is always moving: no deadlock.
Memory: each worker holds the page it is fetching.

A worker's error is raised in the main thread when the SDK reaches that stream (partition),
after the records fetched before it, so the skip/fail policy and its one line are those of a
sequential run. Workers are daemon threads; when a run fails they are stopped (a rate-limit
wait, or a wait for a workspace's first answer, is cut short) and waited for. Spool files have
no name on disk and go with the process.
"""

from __future__ import annotations

import collections
import queue
import threading
import time
import typing as t
from dataclasses import dataclass

from tap_slack_snow.run.spool import DiskBudget, Spool, SpoolStopped

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


class _Jobs:
    """A group's jobs, handed out in order to the workers that share the group. A job taken
    is no longer held here: once fetched, what it kept (its fetch's last answer) is freed,
    not kept until the group's last job is done. Until a group runner claims the group
    (every runner busy with other groups), the reader may take a job itself."""

    def __init__(self, jobs: t.Sequence[FetchJob]) -> None:
        self._jobs = collections.deque(jobs)
        self._lock = threading.Lock()
        self._claimed = False

    def __len__(self) -> int:
        """Jobs not taken yet."""
        with self._lock:
            return len(self._jobs)

    def next(self) -> FetchJob | None:
        """The next job to fetch, or None when every job is taken."""
        with self._lock:
            return self._jobs.popleft() if self._jobs else None

    def claim(self) -> None:
        """A group runner has the group: its workers take every job left, in order."""
        with self._lock:
            self._claimed = True

    def take(self, key: t.Hashable) -> FetchJob | None:
        """The job of ``key`` while no runner has claimed the group (then no worker will
        fetch it), else None."""
        with self._lock:
            if self._claimed:
                return None
            for job in self._jobs:
                if job.key == key:
                    self._jobs.remove(job)
                    return job
            return None


class Prefetcher:
    """Fetches groups of jobs ahead of their turn (see the module docstring)."""

    #: Unread bytes a job may keep on disk before its worker waits for its turn.
    SPOOL_LIMIT_BYTES: t.ClassVar[int] = 512 << 20
    #: Unread bytes all jobs together may keep on disk (the old bound of 8 streams of one
    #: job each): a Grid org of many workspaces does not multiply it.
    SPOOL_TOTAL_BYTES: t.ClassVar[int] = 4 << 30

    def __init__(self, *, max_concurrent: int, max_per_group: int = 1) -> None:
        """At most ``max_concurrent`` groups fetched at once, each by at most
        ``max_per_group`` workers; nothing starts until :meth:`start`."""
        self.max_concurrent = max(1, max_concurrent)
        self.max_per_group = max(1, max_per_group)
        self._spools: dict[t.Hashable, Spool[t.Any]] = {}
        self._groups: dict[t.Hashable, _Jobs] = {}
        self._queue: queue.Queue[_Jobs | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._threads_lock = threading.Lock()
        self._stopping = threading.Event()

    def start(self, groups: t.Sequence[t.Sequence[FetchJob]]) -> None:
        """Open a spool per job, then start the workers: a group's jobs are taken in order by
        up to ``max_per_group`` workers, the groups last first (``groups`` come in the order
        the SDK reads them, the longest expected last), ``max_concurrent`` at once."""
        budget = DiskBudget(self.SPOOL_TOTAL_BYTES)
        queued = []
        for group in groups:
            jobs = _Jobs(group)
            queued.append(jobs)
            for job in group:
                self._groups[job.key] = jobs
                codec = job.codec
                self._spools[job.key] = Spool(
                    encode=codec.encode,
                    decode=codec.decode,
                    max_bytes=self.SPOOL_LIMIT_BYTES,
                    extra_bytes=codec.disk_bytes,
                    discard=codec.discard,
                    budget=budget,
                )
        for number, jobs in enumerate(reversed(queued)):
            if number < self.max_concurrent:
                jobs.claim()  # a runner is started for it below: never taken by the reader
            self._queue.put(jobs)
        runners = [
            self._thread(self._run_groups, f"tap-slack-snow-fetch-{number + 1}")
            for number in range(min(self.max_concurrent, len(groups)))
        ]
        for _ in runners:
            self._queue.put(None)  # one end marker per group runner
        for runner in runners:
            runner.start()

    def pages(self, key: t.Hashable) -> t.Iterator[t.Any] | None:
        """The pages fetched for ``key``, or None if it is not prefetched.

        The SDK reads the jobs in the order :meth:`start` was given them, so a spool still
        open before this one will never be read (its stream or partition was skipped): it is
        closed, which also frees a worker waiting on it. A job of a group no runner has
        claimed yet is run here, in the reader's thread (its spool is not used).
        """
        spool = self._spools.get(key)
        if spool is None:
            return None
        for earlier in list(self._spools):
            if earlier == key:
                break
            self._spools.pop(earlier).close()
        group = self._groups.get(key)
        job = group.take(key) if group is not None else None
        if job is not None:
            self._spools.pop(key).close()
            return job.pages()
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
        for worker in self.threads:
            worker.join(max(0.0, deadline - time.monotonic()))
        for spool in spools:
            spool.close()
        self._spools.clear()
        self._groups.clear()

    @property
    def threads(self) -> list[threading.Thread]:
        """Every worker started so far (the group runners and their helpers)."""
        with self._threads_lock:
            return list(self._threads)

    def _thread(self, target: t.Callable[..., None], name: str, *args: t.Any) -> threading.Thread:
        worker = threading.Thread(target=target, name=name, args=args, daemon=True)
        with self._threads_lock:
            self._threads.append(worker)
        return worker

    def _run_groups(self) -> None:
        """A group runner: one group after another, each with its helpers."""
        name = threading.current_thread().name
        while not self._stopping.is_set():
            jobs = self._queue.get()
            if jobs is None:
                return
            jobs.claim()
            helpers = [
                self._thread(self._drain, f"{name}.{number + 2}", jobs)
                for number in range(min(self.max_per_group, len(jobs)) - 1)
            ]
            for helper in helpers:
                helper.start()
            self._drain(jobs)
            for helper in helpers:
                helper.join()

    def _drain(self, jobs: _Jobs) -> None:
        """Fetch a group's jobs, the next one in order each time, until none is left."""
        while not self._stopping.is_set():
            job = jobs.next()
            if job is None:
                return
            spool = self._spools.get(job.key)
            if spool is not None:  # else the SDK read past it (skipped), or the run is ending
                self._fetch(job, spool)
            del job, spool  # what the job kept goes now, not when the next one is taken

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
