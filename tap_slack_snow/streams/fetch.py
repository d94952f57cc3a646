"""One fetch of a stream partition, and the pages it yields.

A :class:`Fetch` is made on the main thread (:meth:`SlackStream.plan_fetch
<tap_slack_snow.streams.base.SlackStream.plan_fetch>`), where it reads what it needs from the
state (bookmark, lower bound, the partition's size last time); from then on it belongs to the
one thread that fetches it (a prefetch worker, or the main thread), which keeps its own
progress in it (the access-log windows, the analytics days, the last answer). Nothing about a
fetch is kept on the stream, which two threads share.

A page is what one Slack answer gave: a list of records (or, for member_analytics, a day's
downloaded file). :func:`answer_pages` is the request loop that yields them.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

import msgspec

from tap_slack_snow.errors import MalformedPayloadError
from tap_slack_snow.slack.answers import read_slack_response

if t.TYPE_CHECKING:
    import logging

    import requests
    from singer_sdk import metrics
    from singer_sdk.helpers.types import Context
    from singer_sdk.pagination import BaseAPIPaginator

    from tap_slack_snow.slack.client import SlackAnswer

#: The records of one Slack answer.
Page = list[dict[str, t.Any]]
#: Empty answers in a row that still announce more: past this, the read ends with one line
#: (Slack may send a short or empty page while more remain, never page after empty page).
MAX_EMPTY_PAGES_IN_A_ROW = 100


def context_key(context: Context | None) -> str:
    """A context (partition) as a dictionary key: its items, sorted, as text."""
    return repr(sorted((context or {}).items()))


@dataclass
class Fetch:
    """One fetch of one (stream, partition); see the module docstring."""

    slack_method: str
    context: Context | None = None
    #: The partition's workspace (org-level token), else None.
    team_id: str | None = None
    #: The partition's record count in the previous run (full-table streams), if known.
    expected_records: int | None = None
    #: The last answer read, so the paginator reads its payload without parsing it again.
    answer: SlackAnswer | None = field(default=None, repr=False)

    def payload_of(self, response: requests.Response) -> dict[str, t.Any]:
        """The parsed JSON of ``response`` (the last answer's, parsed once)."""
        if self.answer is not None and self.answer.response is response:
            return self.answer.payload
        return read_slack_response(response, self.slack_method)


class RecordPages:
    """How pages of records wait on disk for their turn (msgspec JSON)."""

    @staticmethod
    def encode(page: t.Any) -> bytes:
        """A page as bytes."""
        return msgspec.json.encode(page)

    @staticmethod
    def decode(data: bytes) -> t.Any:
        """The page :meth:`encode` wrote."""
        return msgspec.json.decode(data)

    @staticmethod
    def disk_bytes(page: t.Any) -> int:  # noqa: ARG004 - a page of records is its frame
        """Nothing on disk besides the frame."""
        return 0

    @staticmethod
    def discard(page: t.Any) -> None:
        """Nothing to free."""


def answer_pages(
    fetch: Fetch,
    paginator: BaseAPIPaginator[t.Any],
    *,
    ask: t.Callable[[t.Any], SlackAnswer],
    parse: t.Callable[[SlackAnswer], t.Iterable[dict[str, t.Any]]],
    counter: metrics.Counter,
    logger: logging.Logger,
) -> t.Iterator[Page]:
    """The request loop: one page per Slack answer, until the paginator is done.

    ``ask(token)`` sends one request (``counter`` counts it, for the SDK's metrics),
    ``parse(answer)`` reads its records. An empty page ends the loop unless the paginator
    says to go on. An error while reading an answer comes after the records read before it,
    as in a run that emits each record as it is read.
    """
    pages = empty = 0
    while not paginator.finished:
        answer = fetch.answer = ask(paginator.current_value)
        counter.increment()
        records: Page = []
        try:
            records.extend(parse(answer))
        except Exception:
            if records:
                yield records
            raise
        if not records:
            if paginator.continue_if_empty(answer.response):
                empty += 1
                if empty > MAX_EMPTY_PAGES_IN_A_ROW:
                    raise MalformedPayloadError(
                        f"Slack method {fetch.slack_method} answered {empty} empty pages in a "
                        "row, each announcing more: stopping instead of paging forever; run "
                        "the sync again later"
                    )
                _advance(fetch, paginator, answer, pages + empty)
                continue
            logger.info(
                "Pagination stopped after %d pages because no records were found in the last "
                "response",
                pages,
            )
            return
        yield records
        pages += 1
        empty = 0
        _advance(fetch, paginator, answer, pages)


def _advance(
    fetch: Fetch, paginator: BaseAPIPaginator[t.Any], answer: SlackAnswer, pages: int
) -> None:
    """The paginator's next page; the SDK's loop check (the same token twice in a row) is
    one line naming the method, not a traceback."""
    try:
        paginator.advance(answer.response)
    except RuntimeError as exc:
        if "Loop detected" not in str(exc):
            raise
        raise MalformedPayloadError(
            f"Slack method {fetch.slack_method} pointed to the same page again after {pages} "
            "pages: stopping instead of reading it forever; run the sync again later"
        ) from None
