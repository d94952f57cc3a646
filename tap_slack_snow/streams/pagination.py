"""Slack's two ways to page: cursors (``next_cursor``) and classic ``count``/``page``."""

from __future__ import annotations

import typing as t

import requests
from singer_sdk.pagination import BaseAPIPaginator
from typing_extensions import override

from tap_slack_snow.errors import MalformedPayloadError


class _PayloadReader(t.Protocol):
    @property
    def slack_method(self) -> str: ...

    def payload_of(self, response: requests.Response) -> dict[str, t.Any]: ...


class _PageReader(t.Protocol):
    def has_more_pages(self, response: requests.Response) -> bool: ...

    def next_page(self, response: requests.Response) -> dict[str, int] | None: ...


class SlackCursorPaginator(BaseAPIPaginator[str | None]):
    """Slack cursor pagination on ``response_metadata.next_cursor``.

    Slack may return short or even empty pages while more remain, so the only end signal is
    an empty (or absent) cursor: empty pages with a cursor are followed, not taken as the end.
    """

    def __init__(self, stream: _PayloadReader) -> None:
        """Read cursors from the payload the stream already parsed."""
        super().__init__(None)
        self._stream = stream
        # Every cursor of this read: one Slack hands out again would start a loop (the SDK
        # only catches the same cursor twice in a row, not A, B, A).
        self._seen: set[str] = set()

    @override
    def get_next(self, response: requests.Response) -> str | None:
        """The next cursor, or None at the end."""
        metadata = self._stream.payload_of(response).get("response_metadata")
        if metadata is None:
            return None
        if not isinstance(metadata, dict):
            raise MalformedPayloadError(
                f"Slack method {self._stream.slack_method} returned 'response_metadata' "
                f"as {type(metadata).__name__}, expected an object"
            )
        cursor = metadata.get("next_cursor")
        if cursor is None or cursor == "":
            return None
        if not isinstance(cursor, str):
            raise MalformedPayloadError(
                f"Slack method {self._stream.slack_method} returned a non-string next_cursor"
            )
        return cursor

    @override
    def advance(self, response: requests.Response) -> None:
        """Go to the next cursor; one already followed in this read ends it with one line."""
        cursor = self.get_next(response)
        if cursor is not None and cursor in self._seen:
            raise MalformedPayloadError(
                f"Slack method {self._stream.slack_method} returned a cursor it had already "
                f"returned in this read (after {len(self._seen) + 1} pages): stopping instead "
                "of reading the same pages again forever; run the sync again later"
            )
        if cursor is not None:
            self._seen.add(cursor)
        super().advance(response)

    @override
    def continue_if_empty(self, response: requests.Response) -> bool:
        """Follow an empty page when Slack still hands out a cursor."""
        return self.get_next(response) is not None


class ClassicPagePaginator(BaseAPIPaginator[dict[str, int] | None]):
    """Slack's classic ``count``/``page`` paging; the stream decides the next page."""

    def __init__(self, stream: _PageReader) -> None:
        """Ask ``stream`` whether there is a next page, and which."""
        super().__init__({"page": 1})
        self._stream = stream

    @override
    def has_more(self, response: requests.Response) -> bool:
        """Whether Slack has a page after this one that the stream still wants."""
        return self._stream.has_more_pages(response)

    @override
    def get_next(self, response: requests.Response) -> dict[str, int] | None:
        """The next ``page`` (and ``before`` window) to ask for."""
        return self._stream.next_page(response)

    @override
    def continue_if_empty(self, response: requests.Response) -> bool:
        """A page whose entries were all filtered (window overlap) is not the end."""
        return self._stream.has_more_pages(response)
