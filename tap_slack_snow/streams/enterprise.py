"""Enterprise Grid streams: the org's members (admin_users) and daily member analytics."""

from __future__ import annotations

import calendar
import os
import tempfile
import typing as t
import zlib
from datetime import date, datetime, timedelta, timezone

import msgspec
import requests
from typing_extensions import override

from tap_slack_snow.errors import TapSlackError
from tap_slack_snow.records.batch_files import RowBlock, row_blocks
from tap_slack_snow.records.typed_lines import TypedLines, gzip_line_chunks
from tap_slack_snow.slack.answers import decode_json, read_slack_response
from tap_slack_snow.slack.errors import EndOfDataError, TransientError
from tap_slack_snow.streams.base import SlackStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


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
        """Start with the active users."""
        super().__init__(*args, **kwargs)
        self._active = True

    @override
    def fetch_records(self, context: Context | None) -> t.Iterator[dict[str, t.Any]]:
        """Active users, then deactivated ones."""
        for active in (True, False):
            self._active = active
            yield from super().fetch_records(context)

    @override
    def slack_arguments(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        """Active or deactivated users; one workspace's (``team_id``, or ``team_ids`` of
        one), else every workspace's."""
        body = super().slack_arguments(context, next_page_token)
        body["is_active"] = "true" if self._active else "false"
        team_id = self.session.single_workspace
        if team_id:
            body["team_id"] = team_id
        else:
            body["include_deactivated_user_workspaces"] = "true"
        return body


class DayFile(msgspec.Struct, frozen=True):
    """One day's downloaded analytics file, waiting to be read.

    The file has no name on disk (an unlinked temporary file, held by the descriptor ``fd``),
    so it goes with the process however the process ends. Whoever reads it closes ``fd``.
    """

    day: str
    fd: int
    size: int


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
    #: With ``batch_config``: one BATCH file per day (the SDK's per-record path would make
    #: the tap, not Slack, the bottleneck of a large org).
    batch_group_key = "date"
    #: The next day downloads while this one's rows are emitted, also when run alone.
    fetch_ahead_alone = True
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

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        """The day range is read from the state when the fetch is prepared."""
        super().__init__(*args, **kwargs)
        self._first_day = self._last_day = self._next_day = self.today()
        self._typed: TypedLines | t.Literal[False] | None = None

    @override
    def prepare_fetch(self, context: Context | None) -> None:
        """Days from the first day to fetch up to yesterday (today is never published)."""
        super().prepare_fetch(context)
        self._first_day = self._next_day = self.first_day(context)
        self._last_day = self.today()

    @override
    def fetch_done(self) -> float | None:
        """The share of the day range fetched."""
        days = (self._last_day - self._first_day).days
        return None if days <= 0 else (self._next_day - self._first_day).days / days

    @override
    def fetch_pages(self, context: Context | None) -> t.Iterator[DayFile]:
        """One downloaded file per day, from the first day until Slack has not published one."""
        day = self._first_day
        while day < self._last_day:
            try:
                page = self._download(day)
            except EndOfDataError as exc:
                if exc.code == "file_not_yet_available":
                    self.logger.info(
                        "member_analytics: Slack has not published %s yet; stopping there", day
                    )
                    return
                self.logger.info("member_analytics: no file for %s (%s)", day, exc.code)
            else:
                self._next_day = day + timedelta(days=1)
                self.progress.page(0, self.fetch_done())
                yield page
            day += timedelta(days=1)
            self._next_day = day

    @override
    def put_pages(self, context: Context | None, put: t.Callable[[t.Any], None]) -> None:
        """Each day's file as soon as it is downloaded."""
        for page in self.fetch_pages(context):
            put(page)

    @override
    def fetch_records(self, context: Context | None) -> t.Iterator[dict[str, t.Any]]:
        """Each day's rows, one file at a time."""
        for page in self.fetch_pages(context):
            yield from self.page_records(page)

    @override
    def page_records(self, page: DayFile) -> t.Iterator[dict[str, t.Any]]:
        """The rows of one day's file; the file is closed (and so gone) once read."""
        with os.fdopen(page.fd, "rb") as handle:
            handle.seek(0)
            yield from self._rows(handle, date.fromisoformat(page.day))

    @override
    def encode_page(self, page: DayFile) -> bytes:
        return msgspec.json.encode(page)

    @override
    def decode_page(self, data: bytes) -> DayFile:
        return msgspec.json.decode(data, type=DayFile)

    @override
    def page_disk_bytes(self, page: DayFile) -> int:
        return page.size

    @override
    def discard_page(self, page: DayFile) -> None:
        os.close(page.fd)

    def _download(self, day: date) -> DayFile:
        """Download one day's gzip into an unnamed temporary file, checking it on the way."""
        handle = tempfile.TemporaryFile(prefix="tap-slack-snow-", suffix=".json.gz")  # noqa: SIM115
        try:
            self.session.send(
                self.slack_method,
                self._checked_writer(handle, day),
                http_method="GET",
                params={"type": "member", "date": day.isoformat()},
                stream=True,
                stats=self.call_stats,
                label=f"{self.slack_method} ({day})",
            )
            size = handle.tell()
            fd = os.dup(handle.fileno())
        finally:
            handle.close()
        return DayFile(day=day.isoformat(), fd=fd, size=size)

    def _checked_writer(
        self, handle: t.IO[bytes], day: date
    ) -> t.Callable[[requests.Response, float], None]:
        """Reads one answer into ``handle``, checking its gzip stream (raises to retry)."""

        def read(resp: requests.Response, _sent_at: float) -> None:
            handle.seek(0)
            handle.truncate()
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
                raise TransientError(f"the gzip file for {day} is corrupt ({exc})") from None
            if not checker.eof:
                raise TransientError(f"the gzip file for {day} is truncated")
            handle.flush()

        return read

    def _rows(self, file: t.IO[bytes], day: date) -> t.Iterator[dict[str, t.Any]]:
        for first_line, chunk in self._chunks(file, day):
            yield from self._chunk_rows(chunk, first_line, day)

    def _chunks(self, file: t.IO[bytes], day: date) -> t.Iterator[tuple[int, bytes]]:
        """The file's lines in chunks (the download checked the gzip stream already)."""
        try:
            yield from gzip_line_chunks(file)
        except zlib.error as exc:
            raise TapSlackError(
                f"Slack method {self.slack_method} returned a file for {day} that is not "
                f"a whole gzip file ({exc})"
            ) from None

    def _chunk_rows(self, chunk: bytes, first_line: int, day: date) -> t.Iterator[dict[str, t.Any]]:
        """The rows of a chunk of lines, one at a time."""
        for number, line in enumerate(chunk.split(b"\n"), start=first_line):
            if not line.strip():
                continue
            try:
                row = decode_json(line)
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

    @override
    def page_blocks(self, page: DayFile, context: Context | None) -> t.Iterator[RowBlock]:
        """A day's rows for its batch file, a chunk of lines at a time: typed in one call
        where every row of the chunk fits the schema as sent, else row by row (the drift
        policy); the file is closed (and so gone) once read."""
        day = date.fromisoformat(page.day)
        typed = self._typed_lines()
        with os.fdopen(page.fd, "rb") as handle:
            handle.seek(0)
            for first_line, chunk in self._chunks(handle, day):
                rows = typed.encode(chunk, day) if typed is not None else None
                if rows is None:
                    yield from row_blocks(
                        self.batch_rows(self._chunk_rows(chunk, first_line, day), context),
                        "date",
                    )
                    continue
                self.records_emitted += rows.row_count
                yield RowBlock(page.day, rows.lines, rows.row_count, {"date": page.day})

    def _typed_lines(self) -> TypedLines | None:
        """The typed reader of the selected rows (None: every row goes row by row)."""
        if self._typed is None:
            self._typed = (
                TypedLines.for_schema(
                    self.schema,
                    name="MemberAnalyticsRow",
                    datetime_fields=self.datetime_fields,
                    group_field="date",
                    omit=self.deselected_properties,
                )
                or False
            )
        return self._typed or None
