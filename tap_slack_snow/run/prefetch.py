"""Concurrent fetching, sequential emission: each stream's requests run in a worker thread.

Slack's rate limits apply per method, so a sync whose streams are read one after another
waits the sum of every method's windows, while reading them side by side waits about as long
as the slowest method. :class:`Prefetcher` starts, when the first stream starts (after the
run's plan is logged), one worker per selected stream that can run (at most
``max_concurrent_streams`` at once, in the tap's order). A worker runs the stream's own
request loop (its paginator, its error policy, the access-log windows, the analytics days)
and puts each answer's records in that stream's :class:`~tap_slack_snow.run.spool.Spool`. The
SDK still syncs the streams one after another in the main thread: when it reaches a stream,
the stream reads its pages from the spool instead of from Slack, and everything after that
(post-processing, validation, RECORD, SCHEMA and STATE messages, bookmarks) is the SDK's, as
in a sequential run.

A stream with partitions (a Grid org's workspaces, org-level token) is fetched by its one
worker, partition after partition, one spool each. The streams share each workspace's first
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

from tap_slack_snow.run.spool import Spool, SpoolStopped

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_slack_snow.streams.base import SlackStream

#: What a prefetch is keyed by: the stream and its context (partition), so a stream with
#: several partitions gets one spool per partition.
PrefetchKey = tuple[str, str]


def stream_contexts(stream: SlackStream) -> list[Context | None]:
    """The contexts the SDK syncs a stream with: its partitions, else one ``None``."""
    return [partition or None for partition in stream.partitions or [{}]]


def context_key(context: Context | None) -> str:
    """A context (partition) as a dictionary key: its items, sorted, as text."""
    return repr(sorted((context or {}).items()))


def prefetch_key(stream_name: str, context: Context | None) -> PrefetchKey:
    """The key of one (stream, context)."""
    return stream_name, context_key(context)


class Prefetcher:
    """Fetches several streams' pages ahead of their turn (see the module docstring)."""

    #: Unread bytes a stream may keep on disk before its worker waits for its turn.
    SPOOL_LIMIT_BYTES: t.ClassVar[int] = 512 << 20

    def __init__(self, *, max_concurrent: int) -> None:
        """Nothing starts until :meth:`start`."""
        self.max_concurrent = max(1, max_concurrent)
        self._spools: dict[PrefetchKey, Spool[t.Any]] = {}
        self._queue: queue.Queue[SlackStream | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    def start(self, streams: t.Sequence[SlackStream]) -> None:
        """Prepare each stream in this (the main) thread, then start the workers.

        ``prepare_fetch`` reads what a fetch needs from the state (bookmarks, day ranges)
        before any worker runs, so no worker touches the state the main thread writes.
        """
        for stream in streams:
            for context in stream_contexts(stream):
                stream.prepare_fetch(context)
                self._spools[prefetch_key(stream.name, context)] = Spool(
                    encode=stream.encode_page,
                    decode=stream.decode_page,
                    max_bytes=self.SPOOL_LIMIT_BYTES,
                    extra_bytes=stream.page_disk_bytes,
                    discard=stream.discard_page,
                )
            self._queue.put(stream)
        for number in range(min(self.max_concurrent, len(streams))):
            self._queue.put(None)  # one end marker per worker
            worker = threading.Thread(
                target=self._work, name=f"tap-slack-snow-fetch-{number + 1}", daemon=True
            )
            self._threads.append(worker)
        for worker in self._threads:
            worker.start()

    def pages(self, stream: SlackStream, context: Context | None) -> t.Iterator[t.Any] | None:
        """The pages fetched for (stream, context), or None if it is not prefetched.

        The SDK reads (stream, context) pairs in the order the prefetch started them, so a
        spool still open before this one will never be read (its stream or partition was
        skipped): it is closed, which also frees a worker waiting on it.
        """
        key = prefetch_key(stream.name, context)
        spool = self._spools.get(key)
        if spool is None:
            return None
        for earlier in list(self._spools):
            if earlier == key:
                break
            self._spools.pop(earlier).close()
        return self._read(key, spool)

    def _read(self, key: PrefetchKey, spool: Spool[t.Any]) -> t.Iterator[t.Any]:
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
            stream = self._queue.get()
            if stream is None:
                return
            for context in stream_contexts(stream):
                spool = self._spools.get(prefetch_key(stream.name, context))
                if spool is None:  # the run is ending
                    return
                self._fetch(stream, context, spool)

    def _fetch(self, stream: SlackStream, context: Context | None, spool: Spool[t.Any]) -> None:
        stream.progress.restart()
        try:
            stream.prefetch_into(context, spool.put)
        except SpoolStopped:
            return
        except BaseException as exc:
            spool.finish(exc)
            return
        spool.finish()
