"""Enterprise Grid daily member analytics (admin.analytics.getFile, type=member).

One gzip file of JSON lines per day, downloaded while its gzip stream is checked, then read in
chunks of lines; with ``batch_config`` each day becomes batch files of ``batch_size`` rows, a
BATCH message each (:mod:`tap_slack_snow.records.batch_files`).
"""

from __future__ import annotations

import calendar
import os
import tempfile
import typing as t
import uuid
import zlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import msgspec
import requests
from typing_extensions import override

from tap_slack_snow.errors import TapSlackError
from tap_slack_snow.records.batch_files import RowBlock, row_blocks, write_batches
from tap_slack_snow.records.typed_lines import LineTooLongError, TypedLines, gzip_line_chunks
from tap_slack_snow.slack.answers import decode_json, read_slack_response
from tap_slack_snow.slack.errors import EndOfDataError, TransientError
from tap_slack_snow.streams.base import SlackStream
from tap_slack_snow.streams.fetch import Fetch
from tap_slack_snow.text import printable

if t.TYPE_CHECKING:
    from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig
    from singer_sdk.helpers.types import Context


class DayFile(msgspec.Struct, frozen=True):
    """One day's downloaded analytics file, waiting to be read.

    The file has no name on disk (an unlinked temporary file, held by the descriptor ``fd``),
    so it goes with the process however the process ends. Whoever reads it closes ``fd``.
    """

    day: str
    fd: int
    size: int


class DayFiles:
    """How downloaded days wait for their turn: the descriptor and size in a frame, the
    file itself where it is."""

    @staticmethod
    def encode(page: DayFile) -> bytes:
        """A day's file as bytes (its descriptor)."""
        return msgspec.json.encode(page)

    @staticmethod
    def decode(data: bytes) -> DayFile:
        """The day :meth:`encode` wrote."""
        return msgspec.json.decode(data, type=DayFile)

    @staticmethod
    def disk_bytes(page: DayFile) -> int:
        """The downloaded file's size."""
        return page.size

    @staticmethod
    def discard(page: DayFile) -> None:
        """Close (and so delete) an unread day's file."""
        os.close(page.fd)


@dataclass
class DaysFetch(Fetch):
    """A fetch of a range of days: from the first day to fetch up to (not with) the last."""

    first_day: date = date.min
    last_day: date = date.min
    next_day: date = date.min


def months_before(day: date, months: int) -> date:
    """The same day ``months`` calendar months earlier (clamped to the month's last day)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


class MemberAnalyticsStream(SlackStream[DaysFetch]):
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
    #: The next day downloads while this one's rows are emitted, also when run alone.
    fetch_ahead_alone = True
    page_codec = DayFiles()
    #: With ``batch_config``: a day's rows as one file (the SDK's per-record path would make
    #: the tap, not Slack, the bottleneck of a large org).
    writes_batch_files = True
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
        elif self.settings.start_date:
            first = date.fromisoformat(self.settings.start_date[:10])
        else:
            first = earliest
        return max(first, earliest)

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        """The typed reader of the rows is made when the first batch file is written."""
        super().__init__(*args, **kwargs)
        self._typed: TypedLines | t.Literal[False] | None = None

    @override
    def new_fetch(self, context: Context | None) -> DaysFetch:
        today = self.today()
        return DaysFetch(self.slack_method, context, None, None, None, today, today, today)

    @override
    def plan_fetch(self, context: Context | None) -> DaysFetch:
        """Days from the first day to fetch up to yesterday (today is never published)."""
        fetch = super().plan_fetch(context)
        fetch.first_day = fetch.next_day = self.first_day(context)
        fetch.last_day = self.today()
        return fetch

    @override
    def fetch_done(self, fetch: DaysFetch) -> float | None:
        """The share of the day range fetched."""
        days = (fetch.last_day - fetch.first_day).days
        return None if days <= 0 else (fetch.next_day - fetch.first_day).days / days

    @override
    def fetch_pages(self, fetch: DaysFetch) -> t.Iterator[DayFile]:
        """One downloaded file per day, from the first day until Slack has not published one."""
        day = fetch.first_day
        while day < fetch.last_day:
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
                fetch.next_day = day + timedelta(days=1)
                yield page
            day += timedelta(days=1)
            fetch.next_day = day

    @override
    def page_record_count(self, page: t.Any) -> int:
        """A day's rows are counted as they are read, not when the file arrives."""
        return 0

    @override
    def page_records(self, page: DayFile) -> t.Iterator[dict[str, t.Any]]:
        """The rows of one day's file; the file is closed (and so gone) once read."""
        with os.fdopen(page.fd, "rb") as handle:
            handle.seek(0)
            yield from self._rows(handle, date.fromisoformat(page.day))

    def _download(self, day: date) -> DayFile:
        """Download one day's gzip into an unnamed temporary file, checking it on the way."""
        handle = tempfile.TemporaryFile(prefix="tap-slack-snow-", suffix=".json.gz")  # noqa: SIM115
        try:
            self.run.client.send(
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
            yield from self.drift_policy.fit_text(self._chunk_rows(chunk, first_line, day), chunk)

    def _chunks(self, file: t.IO[bytes], day: date) -> t.Iterator[tuple[int, bytes]]:
        """The file's lines in chunks (the download checked the gzip stream already)."""
        try:
            yield from gzip_line_chunks(file, self.settings.max_analytics_line_bytes)
        except zlib.error as exc:
            raise TapSlackError(
                f"Slack method {self.slack_method} returned a file for {day} that is not "
                f"a whole gzip file ({exc})"
            ) from None
        except LineTooLongError as exc:
            raise TapSlackError(
                f"Slack method {self.slack_method} returned a file for {day} whose line "
                f"{exc.line} is longer than max_analytics_line_bytes ({exc.limit} bytes); "
                "the tap stopped reading it there. Raise the setting to read such a line"
            ) from None

    def _chunk_rows(self, chunk: bytes, first_line: int, day: date) -> t.Iterator[dict[str, t.Any]]:
        """The rows of a chunk of lines, one at a time, each of the day asked for: a row
        without a ``date`` gets it, one saying another day is filed under the day asked
        for, with a warning (else the bookmark would follow it, e.g. to 2030, and the next
        runs would read nothing)."""
        asked = day.isoformat()
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
            said = row.setdefault("date", asked)
            if said != asked:
                self.drift_policy.note(
                    "a row's date is not the day asked for; filed under the day asked for",
                    f"file of {asked}, line {number}: {printable(repr(said), 40)}",
                )
                row["date"] = asked
            yield row

    # --- BATCH messages: a day's rows in files of batch_size rows -----------------------

    @override
    def get_batches(
        self, batch_config: BatchConfig, context: Context | None = None
    ) -> t.Iterator[tuple[BaseBatchFileEncoding, list[str]]]:
        """Each day's rows as gzip JSON Lines files written here, one BATCH message per file,
        with the skip policies and the summary line of :meth:`get_records`; the bookmark
        advances past a day before the SDK writes the STATE that follows the day's last
        file's BATCH message."""
        self.write_starting_value(context)
        blocks = self.runner.run_partition(context, lambda: self._day_blocks(context))
        yield from write_batches(
            batch_config,
            f"{self.tap_name}--{self.name}-{uuid.uuid4()}",
            blocks,
            lambda last: self.advance_bookmark(last, context),
        )

    def advance_bookmark(self, row: dict[str, t.Any], context: Context | None) -> None:
        """Advance the bookmark past ``row`` as the SDK does for an emitted record (a
        batch file's rows are not emitted one by one)."""
        self._increment_stream_state(row, context=context)

    def _day_blocks(self, context: Context | None) -> t.Iterator[RowBlock]:
        for page in self.fetching.pages(context):
            yield from self.page_blocks(page, context)

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
                    decoded = self._chunk_rows(chunk, first_line, day)
                    yield from row_blocks(
                        self.batch_rows(self.drift_policy.fit_text(decoded, chunk), context),
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
