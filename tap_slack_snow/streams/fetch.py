"""Fetching a stream's records: inline, or ahead of its turn by a prefetch worker.

The hooks :mod:`tap_slack_snow.run.prefetch` and :mod:`tap_slack_snow.run.spool` use (pages, their
encoding on disk, progress), and the BATCH messages of the streams that send them
(:mod:`tap_slack_snow.records.batch_files`).
"""

from __future__ import annotations

import threading
import typing as t

import msgspec
from typing_extensions import override

from tap_slack_snow.records.batch_files import RowBlock, day_batches, row_blocks
from tap_slack_snow.run.prefetch import context_key
from tap_slack_snow.streams.partition import RECORDS_LAST_SYNC, PartitionedStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig
    from singer_sdk.helpers.types import Context

    from tap_slack_snow.run.progress import FetchProgress


class FetchingStream(PartitionedStream):
    """A stream's request loop, its pages for the prefetch spool, and its BATCH files."""

    # Set by the stream base class (SlackStream.__init__).
    progress: FetchProgress
    _expected_records: int | None

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Nothing prepared yet."""
        super().__init__(*args, **kwargs)
        # The previous run's size of each context (full-table streams), by context_key.
        self._expected_by_context: dict[str, int | None] = {}
        # What the thread fetching the stream does before each request (put_pages).
        self._fetch_thread = threading.local()

    @override
    def request_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Records as Slack sends them: from the prefetch worker's spool when one fetched this
        stream ahead of its turn, else fetched here, one request after another."""
        pages = self.prefetched_pages(context)
        if pages is None:
            yield from self.fetch_records(context)
            return
        for page in pages:
            yield from self.page_records(page)

    def prefetched_pages(self, context: Context | None) -> t.Iterator[t.Any] | None:
        """The pages a prefetch worker fetched for ``context``; else None, with the fetch
        prepared to run here."""
        prefetcher = self.session.prefetcher
        pages = prefetcher.pages(self.slack_stream, context) if prefetcher is not None else None
        if pages is None:
            self.prepare_fetch(context)
            self.begin_fetch(context)
            self.progress.restart()
        return pages

    def prepare_fetch(self, context: Context | None) -> None:
        """Read what a fetch needs from the state (bookmarks, day ranges) before it starts.

        Called in the main thread: before the stream's turn for a prefetched stream, so the
        worker never touches the state the SDK writes. The SDK writes a stream's starting
        replication value (bookmark or start_date) when the stream's turn comes; a prefetch
        needs it earlier, so it is written here the same way (same inputs, same value).
        """
        if self.replication_key:
            self.write_starting_value(context)
        else:  # a full-table stream: its size last time gives the progress lines an estimate
            previous = self.get_context_state(context).get(RECORDS_LAST_SYNC)
            self._expected_by_context[context_key(context)] = (
                previous if isinstance(previous, int) else None
            )

    def begin_fetch(self, context: Context | None) -> None:
        """Set up the fetch of ``context`` from what :meth:`prepare_fetch` read, in the
        thread that fetches it, right before it starts.

        A prefetched stream with partitions has every partition prepared before its worker
        fetches the first one, so what a fetch reads is kept per context until then.
        """
        self._expected_records = self._expected_by_context.get(context_key(context))

    def fetch_records(self, context: Context | None) -> t.Iterator[dict[str, t.Any]]:
        """The stream's own request loop (the SDK's: paginator, retries, error policy)."""
        yield from self._counted(super().request_records(context))

    def prefetch_into(self, context: Context | None, put: t.Callable[[t.Any], None]) -> None:
        """:meth:`put_pages` in a prefetch worker: the partition's workspace comes from the
        context, as the SDK's turn would set it."""
        self.partition_team_id = context.get("team_id") if context else None
        try:
            self.begin_fetch(context)
            self.put_pages(context, put)
        finally:
            self.partition_team_id = None

    def put_pages(self, context: Context | None, put: t.Callable[[t.Any], None]) -> None:
        """Each Slack answer's records to ``put`` as soon as the answer is whole: when the
        stream sends its next request (so a page never waits for a slow next one), or ends.

        An error comes after the records of the answers before it, as in a sequential run
        (where they were emitted before the failing request).
        """
        page: list[dict[str, t.Any]] = []

        def answer_whole() -> None:
            if page:
                put(page.copy())
                page.clear()

        self._fetch_thread.before_request = answer_whole
        try:
            for record in self.fetch_records(context):
                page.append(record)
        except Exception:
            answer_whole()
            raise
        finally:
            self._fetch_thread.before_request = None
        answer_whole()

    def before_request(self) -> None:
        """Called before each request of the stream's request loop (the retry decorator)."""
        hook = getattr(self._fetch_thread, "before_request", None)
        if hook is not None:
            hook()

    def fetch_pages(self, context: Context | None) -> t.Iterator[t.Any]:
        """The fetched records grouped by Slack answer, read in this thread (batch files
        of a stream fetched inline); a prefetch worker uses :meth:`put_pages`.

        An error comes after the records of the answers before it, as in a sequential run
        (where they were emitted before the failing request).
        """
        page: list[dict[str, t.Any]] = []
        answer = -1
        try:
            for record in self.fetch_records(context):
                if page and self.call_stats.requests != answer:
                    yield page
                    page = []
                answer = self.call_stats.requests
                page.append(record)
        except Exception:
            if page:
                yield page
            raise
        if page:
            yield page

    def page_records(self, page: t.Any) -> t.Iterator[dict[str, t.Any]]:
        """The records of one fetched page (main thread)."""
        return iter(page)

    def page_blocks(self, page: t.Any, context: Context | None) -> t.Iterator[RowBlock]:
        """The rows of one fetched page for a batch file: post-processed (the schema check),
        without the properties the catalog deselects, in blocks (main thread)."""
        assert self.batch_group_key is not None
        return row_blocks(self.batch_rows(self.page_records(page), context), self.batch_group_key)

    def batch_rows(
        self, records: t.Iterable[dict[str, t.Any]], context: Context | None
    ) -> t.Iterator[dict[str, t.Any]]:
        """``records`` as the SDK would emit them: post-processed, filtered, without the
        properties the catalog deselects."""
        deselected = self.deselected_properties
        for record in records:
            row = self.post_process(record, context)
            if row is None:
                continue
            for name in deselected:
                row.pop(name, None)
            yield row

    @property
    def deselected_properties(self) -> list[str]:
        """Top-level properties the catalog leaves out (keys are always kept)."""
        mask = self.mask
        return [
            name
            for name in self.schema.get("properties", {})
            if not mask.get(("properties", name), True)
        ]

    def encode_page(self, page: t.Any) -> bytes:
        """A page as bytes, to wait on disk for the stream's turn."""
        return msgspec.json.encode(page)

    def decode_page(self, data: bytes) -> t.Any:
        """The page :meth:`encode_page` wrote."""
        return msgspec.json.decode(data)

    def page_disk_bytes(self, page: t.Any) -> int:  # noqa: ARG002
        """Bytes a page keeps on disk outside its spool frame (a downloaded file)."""
        return 0

    def discard_page(self, page: t.Any) -> None:
        """Free what an unread page holds (the run ended before its turn)."""

    def fetch_done(self) -> float | None:
        """The share of the stream fetched so far (0-1), when the stream can know it.

        A full-table stream compares what it fetched with its size in the previous run.
        """
        expected = self._expected_records
        if not expected:
            return None
        return min(0.99, self.progress.records / expected)

    def _counted(self, records: t.Iterable[dict[str, t.Any]]) -> t.Iterator[dict[str, t.Any]]:
        """``records``, reporting each Slack answer's records to the progress lines."""
        answer, count = -1, 0
        for record in records:
            if count and self.call_stats.requests != answer:
                self.progress.page(count, self.fetch_done())
                count = 0
            answer = self.call_stats.requests
            count += 1
            yield record
        if count:
            self.progress.page(count, self.fetch_done())

    #: Fetched by a prefetch worker even when it is the only stream of the run: its pages
    #: are downloads on disk, so the next one overlaps the SDK's work on this one.
    fetch_ahead_alone: t.ClassVar[bool] = False

    # --- BATCH messages (member_analytics) ---------------------------------------------------

    #: Streams that send BATCH messages with ``batch_config`` set: one file per value of this
    #: field (see :mod:`tap_slack_snow.records.batch_files`); None = RECORD messages always.
    batch_group_key: t.ClassVar[str | None] = None

    @override
    def get_batch_config(self, config: t.Mapping[str, t.Any]) -> BatchConfig | None:
        """``batch_config`` for the streams that batch; the others keep RECORD messages.

        Not with ``stream_maps``: the SDK applies stream maps to RECORD messages only, so a
        batch file would hold what a map removes (an e-mail address, say). Not in a dry run
        (``--test`` stops at a record count).
        """
        if (
            not self.batch_group_key
            or config.get("stream_maps")
            or self.ABORT_AT_RECORD_COUNT is not None
        ):
            return None
        return super().get_batch_config(config)

    @override
    def get_batches(
        self, batch_config: BatchConfig, context: Context | None = None
    ) -> t.Iterable[tuple[BaseBatchFileEncoding, list[str]]]:
        """One gzip JSON Lines file per ``batch_group_key`` value, written here."""
        return day_batches(self, batch_config, context)

    def get_row_blocks(self, context: Context | None) -> t.Iterator[RowBlock]:
        """The rows of one partition (or of the whole stream) for batch files, with the
        skip policies and summary line of :meth:`get_records`."""
        return self.run_partition(context, lambda: self.request_blocks(context))

    def request_blocks(self, context: Context | None) -> t.Iterator[RowBlock]:
        """:meth:`request_records` for batch files: each page's rows as blocks."""
        pages = self.prefetched_pages(context)
        if pages is None:
            pages = self.fetch_pages(context)
        for page in pages:
            yield from self.page_blocks(page, context)

    def write_starting_value(self, context: Context | None) -> None:
        """Write the starting replication value as the SDK does when a stream starts."""
        self._write_starting_replication_value(context)

    def advance_bookmark(self, row: dict[str, t.Any], context: Context | None) -> None:
        """Advance the bookmark past ``row`` as the SDK does for an emitted record."""
        self._increment_stream_state(row, context=context)
