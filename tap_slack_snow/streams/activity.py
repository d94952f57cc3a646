"""Activity log streams: logins (access_logs) and app changes (integration_logs)."""

from __future__ import annotations

import hashlib
import json
import typing as t
from dataclasses import dataclass, field
from datetime import datetime, timezone

from typing_extensions import override

from tap_slack_snow.errors import MalformedPayloadError
from tap_slack_snow.records.unix_times import unix_int, unix_to_iso
from tap_slack_snow.streams.base import SlackStream
from tap_slack_snow.streams.fetch import Fetch
from tap_slack_snow.streams.pagination import ClassicPagePaginator
from tap_slack_snow.text import printable

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context
    from singer_sdk.pagination import BaseAPIPaginator

    from tap_slack_snow.slack.client import SlackAnswer

#: Key of an access-log entry.
EntryKey = tuple[t.Any, ...]
#: Pages a read may go past what its first page announced (entries logged while it reads
#: push older ones down); a read announcing ever more pages ends there with one line.
PAGES_GROWTH_ALLOWANCE = 10


@dataclass
class LogFetch(Fetch):
    """A fetch of a log read newest first, down to its lower bound."""

    #: The bookmark, else ``start_date``, as a Unix time (None: read everything).
    lower_bound: int | None = None
    reached_lower_bound: bool = False
    #: ``paging.pages`` on the first page of the read (or of the access-log window).
    first_pages: int | None = None
    # The access-log windows (team.accessLogs pages 100 pages per ``before`` window).
    window_before: int | None = None
    skip_at_edge: set[EntryKey] = field(default_factory=set)
    oldest_seen: int | None = None
    newest_seen: int | None = None
    keys_at_oldest: set[EntryKey] = field(default_factory=set)


class _LogPages:
    """What :class:`ClassicPagePaginator` asks about one fetch's pages."""

    def __init__(self, stream: _ClassicPagedStream, fetch: LogFetch) -> None:
        self._stream = stream
        self._fetch = fetch

    def has_more_pages(self, response: requests.Response) -> bool:
        return self._stream.has_more_pages(self._fetch, response)

    def next_page(self, response: requests.Response) -> dict[str, int] | None:
        return self._stream.next_page(self._fetch, response)


class _ClassicPagedStream(SlackStream[LogFetch]):
    """Incremental log streams read newest first with ``count``/``page`` paging.

    Reading stops at the first entry older than the lower bound (the bookmark, else
    ``start_date``). Records arrive newest first, so the bookmark (the newest value) is only
    committed when the stream finishes: an interrupted run restarts from the old bookmark.
    """

    is_sorted = False
    #: Slack's largest page (``count``); ``page_size`` can lower it.
    max_page_size = 1000
    #: The Unix-time field the lower bound applies to.
    time_field: t.ClassVar[str]

    @override
    def new_paginator(self, fetch: LogFetch) -> BaseAPIPaginator[t.Any] | None:
        """Classic ``count``/``page`` paging, the next page chosen by this stream."""
        return ClassicPagePaginator(_LogPages(self, fetch))

    @override
    def new_fetch(self, context: Context | None) -> LogFetch:
        team_id = context.get("team_id") if context else None
        return LogFetch(self.slack_method, context, team_id)

    @override
    def slack_arguments(
        self,
        fetch: LogFetch,
        next_page_token: t.Any,  # {"page": n, "before": t}: see ClassicPagePaginator
    ) -> dict[str, t.Any]:
        """``count``, ``page``, the ``before`` window and ``team_id``."""
        token: dict[str, int] = next_page_token or {"page": 1}
        params: dict[str, t.Any] = {"count": self.page_size, "page": token["page"]}
        if token.get("before") is not None:
            params["before"] = token["before"]
        team_id = self.request_team_id(fetch)
        if self.sends_team_id and team_id:
            params["team_id"] = team_id
        return params

    @override
    def plan_fetch(self, context: Context | None) -> LogFetch:
        """Read down to the lower bound: the bookmark, else ``start_date``."""
        fetch = super().plan_fetch(context)
        start = self.get_starting_timestamp(context)
        fetch.lower_bound = int(start.timestamp()) if start else None
        return fetch

    @override
    def _increment_stream_state(
        self, latest_record: dict[str, t.Any], *, context: Context | None = None
    ) -> None:
        """The bookmark goes no further than the run's start, with a warning: a later time
        from Slack (its clock, a bogus value) would make the next runs skip everything
        until then. The record keeps the time Slack sent. (The SDK's own signpost does this
        for a stream without partitions only, and silently.)"""
        key = t.cast("str", self.replication_key)
        value = latest_record.get(key)
        started = datetime.fromtimestamp(self._initialized_at // 1000, tz=timezone.utc)
        if isinstance(value, str) and datetime.fromisoformat(value) > started:
            self.drift_policy.note(
                f"{key} later than the run's start; the bookmark stops at the run's start",
                f"user_id={printable(repr(latest_record.get('user_id')), 40)}, {key}={value}",
            )
            latest_record = {**latest_record, key: started.isoformat()}
        super()._increment_stream_state(latest_record, context=context)

    def paging(self, fetch: LogFetch, response: requests.Response) -> tuple[int, int]:
        """(page, pages) of Slack's ``paging`` object."""
        paging = fetch.payload_of(response).get("paging")
        if not isinstance(paging, dict):
            paging = {}
        page, pages = paging.get("page"), paging.get("pages")
        if type(page) is not int or type(pages) is not int:
            raise MalformedPayloadError(
                f"Slack method {self.slack_method} returned no valid 'paging' object"
            )
        if page == 1:
            fetch.first_pages = pages
        return page, pages

    def has_more_pages(self, fetch: LogFetch, response: requests.Response) -> bool:
        """Whether to ask for another page (none once the lower bound is passed)."""
        page, pages = self.paging(fetch, response)
        more = not fetch.reached_lower_bound and page < pages
        first = fetch.first_pages
        if more and first is not None and page >= first + PAGES_GROWTH_ALLOWANCE:
            raise MalformedPayloadError(
                f"Slack method {self.slack_method} kept announcing more pages (page {page} of "
                f"{pages}, where its first page announced {first}): stopping instead of "
                "paging forever; run the sync again later"
            )
        return more

    def next_page(self, fetch: LogFetch, response: requests.Response) -> dict[str, int] | None:
        """The page after this one."""
        page, _ = self.paging(fetch, response)
        return {"page": page + 1}

    def entry_time(self, entry: dict[str, t.Any]) -> int | None:
        """The entry's Unix time; None when it is not a time (missing, not a number, 0 or
        negative, past year 9999)."""
        raw = entry.get(self.time_field)
        when = unix_int(raw)
        return None if when is None or unix_to_iso(raw) is None else when

    def entries(
        self, answer: SlackAnswer, fetch: LogFetch
    ) -> t.Iterator[tuple[int, dict[str, t.Any]]]:
        """(time, entry) pairs at or above the lower bound.

        An entry without a time is dropped with a warning: it can be neither bookmarked nor
        stored over the row it updates, and it says nothing about where the read is. The
        read ends at a page whose oldest entry (its last: Slack sends newest first) is below
        the lower bound, so one entry out of order is skipped, not taken for the end.
        """
        last: int | None = None
        for entry in super().parse_answer(answer, fetch):
            when = self.entry_time(entry)
            if when is None:
                self.drift_policy.note(
                    f"{self.time_field} is not a time; entry dropped",
                    f"user_id={printable(repr(entry.get('user_id')), 40)}, "
                    f"{self.time_field}={printable(repr(entry.get(self.time_field)), 40)}",
                )
                continue
            last = when
            if fetch.lower_bound is None or when >= fetch.lower_bound:
                yield when, entry
        if last is not None and fetch.lower_bound is not None and last < fetch.lower_bound:
            fetch.reached_lower_bound = True


class AccessLogsStream(_ClassicPagedStream):
    """Logins per user, IP and client (team.accessLogs): who uses Slack, and when.

    Slack pages at most 1000 entries x 100 pages per ``before`` window, newest first. To go
    further back, the next window starts at the oldest ``date_last`` seen (``before`` is
    inclusive); the entries of that second already emitted are skipped, so ties at a window
    edge cause neither a gap nor a loop.
    """

    name = "access_logs"
    slack_method = "team.accessLogs"
    availability_note = "paid plans only; admin or owner"
    records_key = "logins"
    primary_keys = ("user_id", "ip", "user_agent")
    replication_key = "date_last"
    required_scopes = ("admin",)
    datetime_fields = ("date_first", "date_last")
    time_field = "date_last"
    #: Slack refuses page numbers above this (over_pagination_limit).
    max_pages: t.ClassVar[int] = 100

    @override
    def fetch_done(self, fetch: LogFetch) -> float | None:
        """How far back from the newest entry towards the lower bound the reading has got."""
        newest, oldest, bound = fetch.newest_seen, fetch.oldest_seen, fetch.lower_bound
        if newest is None or oldest is None or bound is None or newest <= bound:
            return None
        return min(1.0, (newest - oldest) / (newest - bound))

    @override
    def parse_answer(self, answer: SlackAnswer, fetch: LogFetch) -> t.Iterable[dict[str, t.Any]]:
        team_id = self.record_team_id(fetch)
        for when, entry in self.entries(answer, fetch):
            key = (entry.get("user_id"), entry.get("ip"), entry.get("user_agent"))
            if not all(isinstance(part, str) for part in key):
                raise MalformedPayloadError(
                    f"Slack method {self.slack_method} returned an entry whose user_id, ip "
                    "or user_agent is not a string"
                )
            if when == fetch.window_before and key in fetch.skip_at_edge:
                continue  # emitted at the end of the previous window
            if fetch.newest_seen is None:
                fetch.newest_seen = when
            if fetch.oldest_seen is None or when < fetch.oldest_seen:
                fetch.oldest_seen = when
                fetch.keys_at_oldest = set()
            if when == fetch.oldest_seen:
                fetch.keys_at_oldest.add(key)
            yield {**entry, "team_id": team_id}

    @override
    def has_more_pages(self, fetch: LogFetch, response: requests.Response) -> bool:
        """A window moves on from the oldest entry seen: without one, only its own pages."""
        if not super().has_more_pages(fetch, response):
            return False
        return fetch.oldest_seen is not None or self.paging(fetch, response)[0] < self.max_pages

    @override
    def next_page(self, fetch: LogFetch, response: requests.Response) -> dict[str, int] | None:
        page, _ = self.paging(fetch, response)
        if page < self.max_pages:
            token = {"page": page + 1}
            if fetch.window_before is not None:
                token["before"] = fetch.window_before
            return token
        # The window is exhausted: start the next one at the oldest second seen.
        assert fetch.oldest_seen is not None
        before = fetch.oldest_seen
        if before == fetch.window_before:
            # A whole window shares one second: Slack cannot page past it.
            self.logger.warning(
                "access_logs: more than %d entries share the second %d; Slack cannot page "
                "through them, so the rest of that second is skipped",
                self.max_pages * self.page_size,
                before,
            )
            before -= 1
            fetch.keys_at_oldest = set()
        fetch.window_before = before
        fetch.skip_at_edge = set(fetch.keys_at_oldest)
        return {"page": 1, "before": before}


class IntegrationLogsStream(_ClassicPagedStream):
    """App and integration installs, removals and changes (team.integrationLogs).

    Slack gives these entries no id; the key ``id`` is the SHA-256 of the entry as Slack
    sent it (keys sorted; numbers in string fields written as strings), unique per change.
    """

    name = "integration_logs"
    per_workspace = True
    slack_method = "team.integrationLogs"
    availability_note = "admin or owner"
    records_key = "logs"
    primary_keys = ("id",)
    replication_key = "date"
    required_scopes = ("admin",)
    sends_team_id = True
    datetime_fields = ("date",)
    time_field = "date"

    @override
    def parse_answer(self, answer: SlackAnswer, fetch: LogFetch) -> t.Iterable[dict[str, t.Any]]:
        team_id = self.record_team_id(fetch)
        # Per workspace of an org, the same change can be logged in several workspaces
        # (an org-wide app install): the workspace is part of the entry's identity there.
        salt = {"team_id": team_id} if fetch.team_id else {}
        for _, entry in self.entries(answer, fetch):
            # ids Slack sends as numbers become strings first, so the hash stays the same
            # whichever type Slack uses for them
            self.drift_policy.fit_scalars(entry)
            canonical = json.dumps({**entry, **salt}, sort_keys=True, separators=(",", ":"))
            yield {
                **entry,
                "id": hashlib.sha256(canonical.encode()).hexdigest(),
                "team_id": team_id,
            }
