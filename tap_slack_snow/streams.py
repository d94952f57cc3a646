"""Slack streams: members, team, plan, billable seats, activity logs, Enterprise Grid."""

from __future__ import annotations

import calendar
import contextlib
import gzip
import hashlib
import json
import tempfile
import typing as t
import zlib
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import requests
from singer_sdk.pagination import BaseAPIPaginator

from tap_slack_snow.client import MalformedPayloadError, SlackStream, unix_int
from tap_slack_snow.errors import TapSlackError
from tap_slack_snow.transport import EndOfDataError, TransientError, read_slack_response

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

#: Slack's plan keys and the names Slack's pricing page uses.
PLAN_LABELS = {
    "free": "Free",
    "std": "Pro",
    "plus": "Business+",
    "enterprise": "Enterprise Grid",
    "compliance": "Enterprise Select / Compliance",
}


class UsersStream(SlackStream):
    """Every member of the workspace: people, guests, bots, invited and deactivated users."""

    name = "users"
    needs_team_id_with_org_token = True
    slack_method = "users.list"
    records_key = "members"
    primary_keys = ("id",)
    required_scopes = ("users:read",)
    max_page_size = 1000
    sends_team_id = True
    datetime_fields = ("updated",)

    def get_url_params(
        self, context: Context | None, next_page_token: str | None
    ) -> dict[str, t.Any]:
        """Ask for ``locale`` too: it is free and useful for seat analysis."""
        params = super().get_url_params(context, next_page_token)
        params["include_locale"] = "true"
        return params

    def post_process(
        self, row: dict[str, t.Any], context: Context | None = None
    ) -> dict[str, t.Any] | None:
        """Slack sends ``profile.fields`` as ``[]`` when a member has none: make it null."""
        profile = row.get("profile")
        if isinstance(profile, dict) and isinstance(profile.get("fields"), list):
            profile["fields"] = None
        return super().post_process(row, context)


class TeamStream(SlackStream):
    """The workspace (team.info): name, domains, Enterprise org it belongs to."""

    name = "team"
    slack_method = "team.info"
    records_key = "team"
    primary_keys = ("id",)
    required_scopes = ("team:read",)

    def get_url_params(
        self,
        context: Context | None,  # noqa: ARG002
        next_page_token: str | None,  # noqa: ARG002
    ) -> dict[str, t.Any]:
        """team.info names the workspace ``team`` (not ``team_id``)."""
        team_id = self.config.get("team_id")
        return {"team": team_id} if team_id else {}


class BillingStream(SlackStream):
    """The workspace's billing plan (team.billing.info): one record."""

    name = "billing"
    slack_method = "team.billing.info"
    records_key = "plan"
    primary_keys = ("team_id",)
    required_scopes = ("team.billing:read",)

    def parse_response(self, response: requests.Response) -> t.Iterable[dict[str, t.Any]]:
        """One record: the plan key, its name, and the team it belongs to."""
        payload = self.payload_of(response)
        plan = payload.get("plan")
        if plan is not None and not isinstance(plan, str):
            raise MalformedPayloadError(
                f"Slack method {self.slack_method} returned 'plan' as {type(plan).__name__}"
            )
        plan = plan or "free"  # Slack documents "" as the Free plan
        envelope = {"ok", "warning", "response_metadata"}
        record = {key: value for key, value in payload.items() if key not in envelope}
        record.update(
            team_id=self.record_team_id,
            enterprise_id=self.slack_tap.identity.enterprise_id,
            plan=plan,
            plan_label=PLAN_LABELS.get(plan, plan),
        )
        yield record


class BillableInfoStream(SlackStream):
    """Per-member billable status under Slack's Fair Billing Policy (team.billableInfo)."""

    name = "billable_info"
    needs_team_id_with_org_token = True
    slack_method = "team.billableInfo"
    availability_note = "admin or owner"
    records_key = "billable_info"
    primary_keys = ("team_id", "user_id")
    required_scopes = ("admin",)
    max_page_size = 1000
    sends_team_id = True

    def parse_response(self, response: requests.Response) -> t.Iterable[dict[str, t.Any]]:
        """Slack answers a map keyed by user id: one record per user."""
        billable = self.payload_of(response).get(self.records_key)
        if billable is None:
            return
        if not isinstance(billable, dict):
            raise MalformedPayloadError(
                f"Slack method {self.slack_method} returned '{self.records_key}' as "
                f"{type(billable).__name__}, expected an object keyed by user id"
            )
        team_id = self.record_team_id
        for user_id, info in billable.items():
            if not isinstance(info, dict):
                raise MalformedPayloadError(
                    f"Slack method {self.slack_method} returned user {user_id} as "
                    f"{type(info).__name__}, expected an object"
                )
            yield {**info, "team_id": team_id, "user_id": user_id}


class _ClassicPagePaginator(BaseAPIPaginator[dict[str, int] | None]):
    """Slack's classic ``count``/``page`` paging; the stream decides the next page."""

    def __init__(self, stream: _ClassicPagedStream) -> None:
        super().__init__({"page": 1})
        self._stream = stream

    def has_more(self, response: requests.Response) -> bool:
        return self._stream.has_more_pages(response)

    def get_next(self, response: requests.Response) -> dict[str, int] | None:
        return self._stream.next_page(response)

    def continue_if_empty(self, response: requests.Response) -> bool:
        # A page whose entries were all filtered (window overlap) is not the end.
        return self._stream.has_more_pages(response)


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
        super().__init__(*args, **kwargs)
        self._lower_bound: int | None = None
        self._reached_lower_bound = False

    def get_new_paginator(self) -> BaseAPIPaginator[t.Any] | None:
        return _ClassicPagePaginator(self)

    def get_url_params(
        self,
        context: Context | None,  # noqa: ARG002
        next_page_token: t.Any,  # {"page": n, "before": t}: see _ClassicPagePaginator
    ) -> dict[str, t.Any]:
        token: dict[str, int] = next_page_token or {"page": 1}
        params: dict[str, t.Any] = {"count": self.page_size, "page": token["page"]}
        if token.get("before") is not None:
            params["before"] = token["before"]
        team_id = self.config.get("team_id")
        if self.sends_team_id and team_id:
            params["team_id"] = team_id
        return params

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        start = self.get_starting_timestamp(context)
        self._lower_bound = int(start.timestamp()) if start else None
        self._reached_lower_bound = False
        yield from super().get_records(context)

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
        page, pages = self.paging(response)
        return not self._reached_lower_bound and page < pages

    def next_page(self, response: requests.Response) -> dict[str, int] | None:
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
        self._keys_at_oldest: set[tuple[t.Any, ...]] = set()

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        self._window_before = None
        self._skip_at_edge = set()
        self._oldest_seen = None
        self._keys_at_oldest = set()
        yield from super().get_records(context)

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
    sent it (keys sorted), which is unique per change.
    """

    name = "integration_logs"
    needs_team_id_with_org_token = True
    slack_method = "team.integrationLogs"
    availability_note = "admin or owner"
    records_key = "logs"
    primary_keys = ("id",)
    replication_key = "date"
    required_scopes = ("admin",)
    sends_team_id = True
    datetime_fields = ("date",)
    time_field = "date"

    def parse_response(self, response: requests.Response) -> t.Iterable[dict[str, t.Any]]:
        team_id = self.record_team_id
        for _, entry in self.entries(response):
            canonical = json.dumps(entry, sort_keys=True, separators=(",", ":"))
            yield {
                **entry,
                "id": hashlib.sha256(canonical.encode()).hexdigest(),
                "team_id": team_id,
            }


class AdminUsersStream(SlackStream):
    """Org-wide member list of an Enterprise Grid org (admin.users.list).

    Slack returns active users by default; the stream asks for active and then deactivated
    users, so the table holds every seat the org has had.
    """

    name = "admin_users"
    slack_method = "admin.users.list"
    records_key = "users"
    primary_keys = ("id",)
    required_scopes = ("admin.users:read",)
    max_page_size = 100  # Slack's maximum for this method
    sends_team_id = True
    enterprise_only = True
    availability_note = "org-level token of an Org Admin or Owner"
    datetime_fields = ("date_created", "deactivated_ts", "expiration_ts", "last_active_ts")
    http_method = "POST"

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._active = True

    def request_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        for active in (True, False):
            self._active = active
            yield from super().request_records(context)

    def get_url_params(
        self,
        context: Context | None,  # noqa: ARG002
        next_page_token: str | None,  # noqa: ARG002
    ) -> dict[str, t.Any]:
        return {}

    def prepare_request_payload(
        self,
        context: Context | None,
        next_page_token: str | None,
    ) -> dict[str, t.Any]:
        """admin.users.list is a POST method: arguments go in the form body."""
        body = super().get_url_params(context, next_page_token)
        body["is_active"] = "true" if self._active else "false"
        if not self.config.get("team_id"):
            body["include_deactivated_user_workspaces"] = "true"
        return body


def months_before(day: date, months: int) -> date:
    """The same day ``months`` calendar months earlier (clamped to the month's last day)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


class MemberAnalyticsStream(SlackStream):
    """Daily activity of every org member (admin.analytics.getFile, type=member).

    One gzip file of newline-delimited JSON per day. Each file is downloaded to a temporary
    file while its gzip stream is checked, then parsed one line at a time, so memory stays
    flat whatever the file size and a truncated file is retried before any of its rows are
    emitted. Days run from the bookmark's next day (else ``start_date``, clamped to the 13
    months Slack keeps) until Slack answers ``file_not_yet_available``.
    """

    name = "member_analytics"
    slack_method = "admin.analytics.getFile"
    records_key = "file_data"
    primary_keys = ("date", "user_id")
    replication_key = "date"
    # Days arrive in order, but the bookmark is committed only when the stream finishes,
    # so a run interrupted mid-day re-reads that day instead of skipping its rest.
    is_sorted = False
    required_scopes = ("admin.analytics:read",)
    enterprise_only = True
    availability_note = "org-level token of an Org Owner"
    datetime_fields = ("date_claimed",)
    #: Slack keeps member analytics for a rolling 13 months.
    history_months: t.ClassVar[int] = 13
    _CHUNK = 1 << 16

    def today(self) -> date:
        """Today in UTC (Slack's analytics days are UTC days)."""
        return datetime.now(tz=timezone.utc).date()

    def first_day(self, context: Context | None) -> date:
        """The first day to fetch: bookmark + 1, else start_date, within Slack's window."""
        earliest = months_before(self.today(), self.history_months)
        bookmark = self.get_starting_replication_key_value(context)
        if bookmark and self.stream_state.get("replication_key_value"):
            first = date.fromisoformat(str(bookmark)[:10]) + timedelta(days=1)
        elif self.config.get("start_date"):
            first = date.fromisoformat(str(self.config["start_date"])[:10])
        else:
            first = earliest
        return max(first, earliest)

    def request_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        day = self.first_day(context)
        today = self.today()
        while day < today:
            try:
                with self._download(day) as path:
                    yield from self._rows(path, day)
            except EndOfDataError as exc:
                if exc.code == "file_not_yet_available":
                    self.logger.info(
                        "member_analytics: Slack has not published %s yet; stopping there", day
                    )
                    return
                self.logger.info("member_analytics: no file for %s (%s)", day, exc.code)
            day += timedelta(days=1)

    @contextlib.contextmanager
    def _download(self, day: date) -> t.Iterator[Path]:
        """Download one day's gzip into a temporary file, checking it on the way."""
        handle = tempfile.NamedTemporaryFile(prefix="tap-slack-snow-", suffix=".json.gz")  # noqa: SIM115
        with handle:
            url = f"{self.url_base}/{self.slack_method}"
            params = {"type": "member", "date": day.isoformat()}

            def send() -> None:
                handle.seek(0)
                handle.truncate()
                request = requests.Request("GET", url, params=params).prepare()
                self.authenticator(request)
                with self.requests_session.send(request, stream=True, timeout=self.timeout) as resp:
                    if not resp.headers.get("Content-Type", "").startswith("application/gzip"):
                        read_slack_response(resp, self.slack_method)
                        raise TransientError(
                            f"Slack method {self.slack_method} answered ok without a file for {day}"
                        )
                    # Decompress once while downloading, discarding the output: this only
                    # proves the file is whole before any of its rows is emitted.
                    checker = zlib.decompressobj(wbits=31)
                    try:
                        for chunk in resp.iter_content(self._CHUNK):
                            handle.write(chunk)
                            # bounded output: a 64 KiB chunk can inflate to megabytes
                            checker.decompress(chunk, self._CHUNK)
                            while checker.unconsumed_tail:
                                checker.decompress(checker.unconsumed_tail, self._CHUNK)
                    except zlib.error as exc:
                        raise TransientError(
                            f"the gzip file for {day} is corrupt ({exc})"
                        ) from None
                    if not checker.eof:
                        raise TransientError(f"the gzip file for {day} is truncated")
                handle.flush()

            self.slack_tap.retry_policy.call(
                f"{self.slack_method} ({day})",
                send,
                self.call_stats,
                on_token_expired=self.slack_tap.slack_authenticator.rotate_after_expiry,
                api_url=self.url_base,
            )
            yield Path(handle.name)

    def _rows(self, path: Path, day: date) -> t.Iterator[dict[str, t.Any]]:
        with gzip.open(path, "rb") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError:
                    raise TapSlackError(
                        f"Slack method {self.slack_method} returned a file for {day} whose "
                        f"line {number} is not JSON"
                    ) from None
                if not isinstance(row, dict):
                    raise TapSlackError(
                        f"Slack method {self.slack_method} returned a file for {day} whose "
                        f"line {number} is not an object"
                    )
                row.setdefault("date", day.isoformat())
                yield row
