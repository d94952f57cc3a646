"""Activity log streams: logins (access_logs) and app changes (integration_logs)."""

from __future__ import annotations

import hashlib
import json
import typing as t

import requests
from typing_extensions import override

from tap_slack_snow.errors import MalformedPayloadError
from tap_slack_snow.records.unix_times import unix_int
from tap_slack_snow.run.prefetch import context_key
from tap_slack_snow.streams.base import SlackStream
from tap_slack_snow.streams.pagination import ClassicPagePaginator

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context
    from singer_sdk.pagination import BaseAPIPaginator


class _ClassicPagedStream(SlackStream):
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

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Set up the lower bound of this run (set when the stream starts)."""
        super().__init__(*args, **kwargs)
        self._lower_bound: int | None = None
        self._reached_lower_bound = False
        # Each context's lower bound, read from the state by prepare_fetch (main thread).
        self._lower_bounds: dict[str, int | None] = {}

    @override
    def get_new_paginator(self) -> BaseAPIPaginator[t.Any] | None:
        """Classic ``count``/``page`` paging, the next page chosen by this stream."""
        return ClassicPagePaginator(self)

    @override
    def slack_arguments(
        self,
        context: Context | None,
        next_page_token: t.Any,  # {"page": n, "before": t}: see ClassicPagePaginator
    ) -> dict[str, t.Any]:
        """``count``, ``page``, the ``before`` window and ``team_id``."""
        token: dict[str, int] = next_page_token or {"page": 1}
        params: dict[str, t.Any] = {"count": self.page_size, "page": token["page"]}
        if token.get("before") is not None:
            params["before"] = token["before"]
        team_id = self.request_team_id
        if self.sends_team_id and team_id:
            params["team_id"] = team_id
        return params

    @override
    def prepare_fetch(self, context: Context | None) -> None:
        """Read down to the lower bound: the bookmark, else ``start_date``."""
        super().prepare_fetch(context)
        start = self.get_starting_timestamp(context)
        self._lower_bounds[context_key(context)] = int(start.timestamp()) if start else None

    @override
    def begin_fetch(self, context: Context | None) -> None:
        """The context's own lower bound (each workspace of an org has its bookmark)."""
        super().begin_fetch(context)
        self._lower_bound = self._lower_bounds.get(context_key(context))
        self._reached_lower_bound = False

    def paging(self, response: requests.Response) -> tuple[int, int]:
        """(page, pages) of Slack's ``paging`` object."""
        paging = self.payload_of(response).get("paging")
        if not isinstance(paging, dict):
            paging = {}
        page, pages = paging.get("page"), paging.get("pages")
        if type(page) is not int or type(pages) is not int:
            raise MalformedPayloadError(
                f"Slack method {self.slack_method} returned no valid 'paging' object"
            )
        return page, pages

    def has_more_pages(self, response: requests.Response) -> bool:
        """Whether to ask for another page (none once the lower bound is passed)."""
        page, pages = self.paging(response)
        return not self._reached_lower_bound and page < pages

    def next_page(self, response: requests.Response) -> dict[str, int] | None:
        """The page after this one."""
        page, _ = self.paging(response)
        return {"page": page + 1}

    def entry_time(self, entry: dict[str, t.Any]) -> int:
        """The entry's Unix time (the lower bound is checked on it)."""
        value = unix_int(entry.get(self.time_field))
        if value is None:
            raise MalformedPayloadError(
                f"Slack method {self.slack_method} returned an entry without a numeric "
                f"'{self.time_field}'"
            )
        return value

    def entries(self, response: requests.Response) -> t.Iterator[tuple[int, dict[str, t.Any]]]:
        """(time, entry) pairs at or above the lower bound; notes when it is passed."""
        for entry in super().parse_response(response):
            when = self.entry_time(entry)
            if self._lower_bound is not None and when < self._lower_bound:
                self._reached_lower_bound = True
                continue
            yield when, entry


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

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._window_before: int | None = None
        self._skip_at_edge: set[tuple[t.Any, ...]] = set()
        self._oldest_seen: int | None = None
        self._newest_seen: int | None = None
        self._keys_at_oldest: set[tuple[t.Any, ...]] = set()

    @override
    def begin_fetch(self, context: Context | None) -> None:
        """Start with the newest window."""
        super().begin_fetch(context)
        self._window_before = None
        self._skip_at_edge = set()
        self._oldest_seen = None
        self._newest_seen = None
        self._keys_at_oldest = set()

    @override
    def fetch_done(self) -> float | None:
        """How far back from the newest entry towards the lower bound the reading has got."""
        newest, oldest, bound = self._newest_seen, self._oldest_seen, self._lower_bound
        if newest is None or oldest is None or bound is None or newest <= bound:
            return None
        return min(1.0, (newest - oldest) / (newest - bound))

    @override
    def parse_response(self, response: requests.Response) -> t.Iterable[dict[str, t.Any]]:
        team_id = self.record_team_id
        for when, entry in self.entries(response):
            key = (entry.get("user_id"), entry.get("ip"), entry.get("user_agent"))
            if not all(isinstance(part, str) for part in key):
                raise MalformedPayloadError(
                    f"Slack method {self.slack_method} returned an entry whose user_id, ip "
                    "or user_agent is not a string"
                )
            if when == self._window_before and key in self._skip_at_edge:
                continue  # emitted at the end of the previous window
            if self._newest_seen is None:
                self._newest_seen = when
            if self._oldest_seen is None or when < self._oldest_seen:
                self._oldest_seen = when
                self._keys_at_oldest = set()
            if when == self._oldest_seen:
                self._keys_at_oldest.add(key)
            yield {**entry, "team_id": team_id}

    def has_more_pages(self, response: requests.Response) -> bool:
        return super().has_more_pages(response) and self._oldest_seen is not None

    def next_page(self, response: requests.Response) -> dict[str, int] | None:
        page, _ = self.paging(response)
        if page < self.max_pages:
            token = {"page": page + 1}
            if self._window_before is not None:
                token["before"] = self._window_before
            return token
        # The window is exhausted: start the next one at the oldest second seen.
        assert self._oldest_seen is not None
        before = self._oldest_seen
        if before == self._window_before:
            # A whole window shares one second: Slack cannot page past it.
            self.logger.warning(
                "access_logs: more than %d entries share the second %d; Slack cannot page "
                "through them, so the rest of that second is skipped",
                self.max_pages * self.page_size,
                before,
            )
            before -= 1
            self._keys_at_oldest = set()
        self._window_before = before
        self._skip_at_edge = set(self._keys_at_oldest)
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
    def parse_response(self, response: requests.Response) -> t.Iterable[dict[str, t.Any]]:
        team_id = self.record_team_id
        # Per workspace of an org, the same change can be logged in several workspaces
        # (an org-wide app install): the workspace is part of the entry's identity there.
        salt = {"team_id": team_id} if self.partition_team_id else {}
        for _, entry in self.entries(response):
            # ids Slack sends as numbers become strings first, so the hash stays the same
            # whichever type Slack uses for them
            self.drift_policy.fit_scalars(entry)
            canonical = json.dumps({**entry, **salt}, sort_keys=True, separators=(",", ":"))
            yield {
                **entry,
                "id": hashlib.sha256(canonical.encode()).hexdigest(),
                "team_id": team_id,
            }
