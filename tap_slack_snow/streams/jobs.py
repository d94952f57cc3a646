"""A stream's partitions as fetch jobs for the prefetch workers, or as pages fetched here.

The prefetch workers (:mod:`tap_slack_snow.run.prefetch`) see jobs and pages, never a stream:
:class:`StreamFetching` plans each partition's :class:`~tap_slack_snow.streams.fetch.Fetch`
on the main thread (where the state may be read), wraps the stream's request loop so every
page is told to the progress lines, and hands the SDK's record loop the pages of a partition,
taken from a worker's spool when one fetched them ahead.
"""

from __future__ import annotations

import typing as t
from functools import partial

from tap_slack_snow.run.prefetch import FetchJob, PageCodec
from tap_slack_snow.streams.fetch import Fetch, context_key

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_slack_snow.run.progress import FetchProgress

FetchT = t.TypeVar("FetchT", bound=Fetch)


class FetchedStream(t.Protocol[FetchT]):
    """What :class:`StreamFetching` reads of its stream."""

    @property
    def name(self) -> str:
        """The stream's name (with a partition's context, the spool's key)."""

    @property
    def partitions(self) -> list[dict[str, t.Any]] | None:
        """The stream's partitions in this run (None: it runs once)."""

    @property
    def page_codec(self) -> PageCodec[t.Any]:
        """How the stream's pages wait on disk when fetched ahead."""

    @property
    def progress(self) -> FetchProgress:
        """The stream's progress lines."""

    def plan_fetch(self, context: Context | None) -> FetchT:
        """A fetch of ``context`` with what it needs from the state (main thread)."""

    def fetch_pages(self, fetch: FetchT) -> t.Iterator[t.Any]:
        """The request loop of one fetch."""

    def fetch_done(self, fetch: FetchT) -> float | None:
        """The share of the fetch done (0-1), when known."""

    def page_record_count(self, page: t.Any) -> int:
        """Records in a page."""

    def fetched_pages(self, key: tuple[str, str]) -> t.Iterator[t.Any] | None:
        """The pages a worker fetched ahead for ``key``, if one did."""


class StreamFetching(t.Generic[FetchT]):
    """One stream's fetches: jobs for the workers, pages for the SDK's record loop."""

    def __init__(self, stream: FetchedStream[FetchT]) -> None:
        """``stream``: read when a job or a page is asked for, never before."""
        self.stream = stream

    def jobs(self) -> list[FetchJob]:
        """One job per partition for the prefetch workers, planned now (main thread).
        Partitions (workspaces) fetched side by side count in one progress count."""
        stream = self.stream
        contexts = [partition or None for partition in stream.partitions or [{}]]
        fetches = [(context, stream.plan_fetch(context)) for context in contexts]
        side_by_side = len(fetches) > 1
        if side_by_side:
            stream.progress.whole_stream([fetch.expected_records for _, fetch in fetches])
        return [
            FetchJob(
                (stream.name, context_key(context)),
                partial(
                    stream.progress.counted,
                    partial(stream.fetch_pages, fetch),
                    stream.page_record_count,
                )
                if side_by_side
                else partial(self.counted_pages, fetch),
                stream.page_codec,
            )
            for context, fetch in fetches
        ]

    def pages(self, context: Context | None) -> t.Iterator[t.Any]:
        """The pages of ``context``: fetched ahead by a worker, else fetched here."""
        stream = self.stream
        pages = stream.fetched_pages((stream.name, context_key(context)))
        return pages if pages is not None else self.counted_pages(stream.plan_fetch(context))

    def counted_pages(self, fetch: FetchT) -> t.Iterator[t.Any]:
        """The stream's request loop, each page told to the progress lines."""
        stream = self.stream
        stream.progress.restart()
        for page in stream.fetch_pages(fetch):
            stream.progress.page(stream.page_record_count(page), stream.fetch_done(fetch))
            yield page
