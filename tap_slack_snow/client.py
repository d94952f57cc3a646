"""The one Slack stream base class: declarative knobs, requests, the error policy, run log.

A stream says which Slack method it reads and how (``slack_method``, ``records_key``,
``max_page_size``, ``http_method``...); this class turns that into requests and records. It
talks to the run's :class:`~tap_slack_snow.session.SlackSession`, never to the tap.
"""

from __future__ import annotations

import threading
import time
import typing as t
from importlib import resources

import msgspec
import requests
from singer_sdk import RESTStream
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.schema.source import SchemaDirectory, StreamSchema
from singer_sdk.streams.rest import HTTPRequest
from typing_extensions import override

from tap_slack_snow import schemas
from tap_slack_snow.availability import check_available, reason_to_skip
from tap_slack_snow.batches import day_batches
from tap_slack_snow.errors import (
    EndOfDataError,
    MalformedPayloadError,
    SlackAPIError,
    StreamUnavailableError,
    describe,
)
from tap_slack_snow.pagination import SlackCursorPaginator
from tap_slack_snow.progress import FetchProgress
from tap_slack_snow.records import DriftPolicy, add_datetimes
from tap_slack_snow.retry import CallStats, read_slack_response
from tap_slack_snow.workspaces import WORKSPACE_ACCESS_ERRORS

if t.TYPE_CHECKING:
    from singer_sdk import Tap
    from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig
    from singer_sdk.helpers.types import Context
    from singer_sdk.pagination import BaseAPIPaginator
    from singer_sdk.streams.rest import PageContext

    from tap_slack_snow.session import SlackSession

SCHEMAS = SchemaDirectory(resources.files(schemas))
#: State key of a full-table stream: how many records its last sync emitted (an estimate of
#: its size for the next run's progress lines; no bookmark, nothing is skipped by it).
RECORDS_LAST_SYNC = "records_last_sync"


class SlackStream(RESTStream[str | None]):
    """Base for every Slack Web API stream.

    Subclasses set ``name``, ``slack_method``, ``records_key``, ``primary_keys`` and the
    scopes they need; cursor-paginated methods set ``max_page_size``; methods Slack wants
    POSTed set ``http_method = "POST"`` and get their arguments in the form body.
    """

    slack_method: t.ClassVar[str]
    #: Key of the record list (or single object) in Slack's answer, e.g. "members".
    records_key: t.ClassVar[str]
    #: User-token scopes the method checks (any one of them is enough).
    required_scopes: t.ClassVar[tuple[str, ...]] = ()
    #: Cursor pagination with at most this many items per page; 0 = one page.
    max_page_size: t.ClassVar[int] = 0
    #: Send ``team_id`` (the partition's workspace, or the setting) with every request.
    sends_team_id: t.ClassVar[bool] = False
    #: A workspace-level method: with an org-level token Slack requires ``team_id``, so the
    #: stream runs once per workspace of the org (one partition each).
    per_workspace: t.ClassVar[bool] = False
    #: Only meaningful on Enterprise Grid (skipped on other editions).
    enterprise_only: t.ClassVar[bool] = False
    #: Plan or role conditions shown in the scope report.
    availability_note: t.ClassVar[str] = ""
    #: Unix-time fields shown as date-times (raw value kept as ``<field>_unix``).
    datetime_fields: t.ClassVar[tuple[str, ...]] = ()

    http_method = "GET"
    payload_as_json = False
    schema = StreamSchema(SCHEMAS)
    #: Records are validated against the schema in ``post_process`` (jsonschema-rs); the
    #: SDK's conformance pass would only repeat the walk (half of the users stream's CPU).
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(self, tap: Tap, *args: t.Any, session: SlackSession, **kwargs: t.Any) -> None:
        """Set up per-run counters; ``session`` holds what the run's streams share."""
        super().__init__(tap, *args, **kwargs)
        self.session = session
        self.call_stats = CallStats()
        self.records_emitted = 0
        self.skipped_reason: str | None = None
        # The workspace of the partition being read (org-level token), per thread: a
        # prefetch worker fetches one partition while the SDK emits another.
        self._partition = threading.local()
        #: True while a partition of the stream is being read (the interruption line names it).
        self.running = False
        self._dry_run_yielded = 0
        self.workspaces_read = 0
        self._partitions_started = 0
        self._checked = False
        self._seconds = 0.0
        self._last_payload: tuple[requests.Response, dict[str, t.Any]] | None = None
        self._drift: DriftPolicy | None = None
        self._expected_records: int | None = None
        self.progress = FetchProgress(
            self.name, self.call_stats, session.logger, emitted=lambda: self.records_emitted
        )

    @override
    @property
    def partitions(self) -> list[dict[str, t.Any]] | None:
        """One partition per workspace for per-workspace streams on an org-level token.

        Read by the SDK when the stream's sync starts (never during discovery); the list is
        the run's, so it is the same when the SDK reads it again to finalize state. A
        workspace-level token, an org-wide stream and a skipped stream have none.
        """
        if not self.per_workspace or self.skipped_reason:
            return None
        session = self.session
        session.announce_run()
        if not session.org_level or reason_to_skip(session, self):
            return None
        return session.workspaces.partitions

    @property
    def partitioned(self) -> bool:
        """The stream runs once per workspace in this run."""
        return self.per_workspace and self.session.org_level

    @property
    def partition_team_id(self) -> str | None:
        """The workspace of the partition this thread reads (org-level token), else None."""
        team_id: str | None = getattr(self._partition, "team_id", None)
        return team_id

    @partition_team_id.setter
    def partition_team_id(self, team_id: str | None) -> None:
        self._partition.team_id = team_id

    @property
    def record_team_id(self) -> str | None:
        """The workspace (or, for org-wide reads of an org-level token, the org) records
        belong to; a workspace-level token: ``team_id`` if set, else the token's team."""
        return self.partition_team_id or self.session.record_team_id

    @property
    def request_team_id(self) -> str | None:
        """``team_id`` to send: the partition's workspace (org-level token), else the
        setting, as before (a workspace-level token: Slack ignores it)."""
        return self.partition_team_id or self.session.team_id

    @override
    @property
    def url_base(self) -> str:
        """``api_url`` setting, e.g. https://slack.com/api."""
        return self.session.api_url

    @override
    @property
    def path(self) -> str:  # type: ignore[override]
        """The Slack method is the path: {api_url}/{method}."""
        return "/" + self.slack_method

    @override
    @property
    def authenticator(self) -> requests.auth.AuthBase:
        """The run's single authenticator (one token chain per process)."""
        return self.session.authenticator

    @override
    @property
    def timeout(self) -> int:
        """Seconds to wait for Slack's answer."""
        return int(self.config.get("request_timeout", 60))

    @override
    @property
    def requests_session(self) -> requests.Session:
        """One HTTP session (connection pool) shared by all streams."""
        return self.session.http

    @property
    def page_size(self) -> int:
        """``page_size`` setting, capped at the method's maximum."""
        wanted = int(self.config.get("page_size") or self.max_page_size or 1000)
        return max(1, min(wanted, self.max_page_size or wanted))

    @override
    def get_new_paginator(self) -> BaseAPIPaginator[str | None] | None:
        """Cursor pagination for paginated methods, one page otherwise."""
        return SlackCursorPaginator(self) if self.max_page_size else None

    def slack_arguments(
        self,
        context: Context | None,  # noqa: ARG002 - Slack methods here take no context
        next_page_token: t.Any,
    ) -> dict[str, t.Any]:
        """The Slack method's arguments: ``limit``/``cursor`` for cursor pages, ``team_id``."""
        params: dict[str, t.Any] = {}
        if self.max_page_size:
            params["limit"] = self.page_size
            if next_page_token:
                params["cursor"] = next_page_token
        team_id = self.request_team_id
        if self.sends_team_id and team_id:
            params["team_id"] = team_id
        return params

    @override
    def get_http_request(self, *, page: PageContext) -> HTTPRequest:
        """The method's arguments in the query string (GET) or the form body (POST)."""
        arguments = self.slack_arguments(page.stream_context, page.next_page_token)
        in_body = self.http_method == "POST"
        return HTTPRequest(
            url=self.get_url(page.stream_context),
            method=self.http_method,
            headers=self.http_headers,
            params={} if in_body else arguments,
            data=arguments if in_body else None,
        )

    # --- answers and the error policy ----------------------------------------------------

    @override
    def validate_response(self, response: requests.Response) -> None:
        """Apply Slack's error policy to every answer and keep the parsed payload."""
        try:
            payload = read_slack_response(response, self.slack_method)
        except EndOfDataError as exc:  # only date-ranged streams give this a meaning
            raise SlackAPIError(describe(exc.code, self.slack_method), code=exc.code) from None
        self._last_payload = (response, payload)

    def payload_of(self, response: requests.Response) -> dict[str, t.Any]:
        """The parsed JSON of a response that passed ``validate_response`` (parsed once)."""
        if self._last_payload is not None and self._last_payload[0] is response:
            return self._last_payload[1]
        return read_slack_response(response, self.slack_method)

    @override
    def parse_response(self, response: requests.Response) -> t.Iterable[dict[str, t.Any]]:
        """Records under ``records_key``: a list of objects, or one object."""
        payload = self.payload_of(response)
        records = payload.get(self.records_key)
        if isinstance(records, dict):
            yield records
            return
        if not isinstance(records, list):
            raise MalformedPayloadError(
                f"Slack method {self.slack_method} returned '{self.records_key}' as "
                f"{type(records).__name__}, expected a list"
            )
        for record in records:
            if not isinstance(record, dict):
                raise MalformedPayloadError(
                    f"Slack method {self.slack_method} returned an item of "
                    f"'{self.records_key}' that is {type(record).__name__}, not an object"
                )
            yield record

    @override
    def post_process(
        self,
        row: dict[str, t.Any],
        context: Context | None = None,
    ) -> dict[str, t.Any] | None:
        """Date-times from Unix times, the schema check with the type-drift policy, a count."""
        if self.datetime_fields:
            add_datetimes(row, self.datetime_fields)
        row = self.drift_policy.check(row)
        self.records_emitted += 1
        return row

    @property
    def drift_policy(self) -> DriftPolicy:
        """The stream's schema check (:class:`~tap_slack_snow.records.DriftPolicy`)."""
        if self._drift is None:
            keys = [*(self.primary_keys or ()), self.replication_key]
            self._drift = DriftPolicy(
                stream=self.name,
                method=self.slack_method,
                schema=self.schema,
                key_fields=[key for key in keys if key],
                logger=self.logger,
            )
        return self._drift

    # --- retries ---------------------------------------------------------------------------

    @override
    def request_decorator(self, func: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
        """Retry by Slack's policy instead of the SDK's generic backoff.

        429s wait exactly Retry-After and never use up the fault budget; ``token_expired``
        rotates the token and retries once; faults back off exponentially, bounded.
        """

        def send_with_policy(
            prepared_request: requests.PreparedRequest, context: Context | None
        ) -> requests.Response:
            response: requests.Response = self.session.with_retries(
                self.slack_method, lambda: func(prepared_request, context), self.call_stats
            )
            return response

        return send_with_policy

    # --- fetching: inline, or ahead of the stream's turn by a prefetch worker -------------

    @override
    def request_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Records as Slack sends them: from the prefetch worker's spool when one fetched this
        stream ahead of its turn, else fetched here, one request after another."""
        prefetcher = self.session.prefetcher
        pages = prefetcher.pages(self, context) if prefetcher is not None else None
        if pages is None:
            self.prepare_fetch(context)
            self.progress.restart()
            yield from self.fetch_records(context)
            return
        for page in pages:
            yield from self.page_records(page)

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
            self._expected_records = previous if isinstance(previous, int) else None

    def fetch_records(self, context: Context | None) -> t.Iterator[dict[str, t.Any]]:
        """The stream's own request loop (the SDK's: paginator, retries, error policy)."""
        yield from self._counted(super().request_records(context))

    def prefetch_pages(self, context: Context | None) -> t.Iterator[t.Any]:
        """:meth:`fetch_pages` in a prefetch worker: the partition's workspace comes from
        the context, as the SDK's turn would set it."""
        self.partition_team_id = context.get("team_id") if context else None
        try:
            yield from self.fetch_pages(context)
        finally:
            self.partition_team_id = None

    def fetch_pages(self, context: Context | None) -> t.Iterator[t.Any]:
        """The fetched records grouped by Slack answer: what a prefetch worker spools."""
        page: list[dict[str, t.Any]] = []
        answer = -1
        for record in self.fetch_records(context):
            if page and self.call_stats.requests != answer:
                yield page
                page = []
            answer = self.call_stats.requests
            page.append(record)
        if page:
            yield page

    def page_records(self, page: t.Any) -> t.Iterator[dict[str, t.Any]]:
        """The records of one fetched page (main thread)."""
        return iter(page)

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

    # --- BATCH messages (member_analytics) ---------------------------------------------------

    #: Streams that send BATCH messages with ``batch_config`` set: one file per value of this
    #: field (see :mod:`tap_slack_snow.batches`); None = RECORD messages always.
    batch_group_key: t.ClassVar[str | None] = None

    @override
    def get_batch_config(self, config: t.Mapping[str, t.Any]) -> BatchConfig | None:
        """``batch_config`` for the streams that batch; the others keep RECORD messages.

        Not with ``stream_maps``: the SDK applies stream maps to RECORD messages only, so a
        batch file would hold what a map removes (an e-mail address, say).
        """
        if not self.batch_group_key or config.get("stream_maps"):
            return None
        return super().get_batch_config(config)

    @override
    def get_batches(
        self, batch_config: BatchConfig, context: Context | None = None
    ) -> t.Iterable[tuple[BaseBatchFileEncoding, list[str]]]:
        """One gzip JSON Lines file per ``batch_group_key`` value, written here."""
        assert self.batch_group_key is not None
        return day_batches(self, batch_config, context, group_key=self.batch_group_key)

    def write_starting_value(self, context: Context | None) -> None:
        """Write the starting replication value as the SDK does when a stream starts."""
        self._write_starting_replication_value(context)

    def advance_bookmark(self, row: dict[str, t.Any], context: Context | None) -> None:
        """Advance the bookmark past ``row`` as the SDK does for an emitted record."""
        self._increment_stream_state(row, context=context)

    # --- one stream's run ------------------------------------------------------------------

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Records of one partition (or of the whole stream), applying the skip policies.

        Once per stream: the edition and scope checks, and the summary line after the last
        partition (only when the stream finished: a failed or interrupted stream has its own
        line, the error or where the signal stopped it). Per workspace: a STATE message
        before each workspace after the first (so an interrupted run resumes in the
        workspace it stopped in), and the skip of a workspace Slack refuses.
        """
        self.session.announce_run()
        self.session.begin_fetching()
        if self.skipped_reason:
            return  # skipped in an earlier partition
        team_id = context.get("team_id") if context else None
        partitions = self.partitions or []
        first = self._partitions_started == 0
        self._partitions_started += 1
        last = self._partitions_started >= len(partitions)
        if not first:
            self._tap.state_writer.write_state(self.tap_state)  # the previous workspace is final
        self.partition_team_id = team_id
        started = time.monotonic()
        failed = True
        self.running = True
        try:
            yield from self._partition_records(context, team_id)
            failed = False
        except BaseException:
            self.session.stop_fetching()  # the run ends here: no worker goes on fetching
            raise
        finally:
            self.running = False
            self.partition_team_id = None
            self._seconds += time.monotonic() - started
            if failed or last or self.skipped_reason:
                if self._drift is not None:
                    self._drift.log_summary()
                if not failed:
                    self.log_summary(self._seconds)

    def _partition_records(
        self, context: Context | None, team_id: str | None
    ) -> t.Iterable[dict[str, t.Any]]:
        session = self.session
        workspaces = session.workspaces
        if team_id and workspaces.refused(team_id):
            self.logger.debug("Stream %s: workspace %s was refused earlier", self.name, team_id)
            return
        emitted = self.records_emitted
        policy = self.config.get("on_unavailable", "skip")
        try:
            if not self._checked:
                self._checked = True
                reason = check_available(session, self)
                if reason:
                    self.skipped_reason = reason
                    self.logger.info("Skipping stream %s: %s", self.name, reason)
                    return
            yield from self._records_within_dry_run_limit(super().get_records(context))
            if not self.replication_key:
                # kept in the state for the next run's progress lines (time left)
                self.get_context_state(context)[RECORDS_LAST_SYNC] = self.records_emitted - emitted
            if team_id and team_id != session.org_id:
                self.workspaces_read += 1
        except StreamUnavailableError as exc:
            if team_id and exc.code in WORKSPACE_ACCESS_ERRORS:
                where = workspaces.describe(team_id)
                if self.records_emitted > emitted or policy != "skip":
                    raise StreamUnavailableError(
                        f"workspace {where}: {exc}", code=exc.code
                    ) from None
                if workspaces.refuse(team_id, str(exc)):
                    self.logger.warning(
                        "Skipping workspace %s (on_unavailable=skip): %s", where, exc
                    )
                return
            if self.records_emitted > emitted or policy != "skip":
                raise
            if team_id and self.workspaces_read:
                self.logger.warning(
                    "Skipping stream %s in workspace %s (on_unavailable=skip): %s",
                    self.name,
                    workspaces.describe(team_id),
                    exc,
                )
                return
            self.skipped_reason = str(exc)
            self.logger.warning("Skipping stream %s (on_unavailable=skip): %s", self.name, exc)

    def _records_within_dry_run_limit(
        self, records: t.Iterable[dict[str, t.Any]]
    ) -> t.Iterator[dict[str, t.Any]]:
        """Stop at the ``--test`` record limit instead of letting the SDK abort the stream.

        The SDK aborts a stream on the record after the limit, and its abort is logged as
        "An unhandled error occurred" for every stream of a healthy connection test.
        """
        limit = self.ABORT_AT_RECORD_COUNT
        if limit is None:
            yield from records
            return
        for record in records:  # counted here: the SDK post-processes after the yield
            if self._dry_run_yielded >= limit:
                return
            self._dry_run_yielded += 1
            yield record
            if self._dry_run_yielded >= limit:
                return

    def log_summary(self, seconds: float) -> None:
        """One line per finished stream: records, requests, rate-limit waits, time.

        A skipped stream already had its one line (the reason and the fix).
        """
        if self.skipped_reason:
            return
        stats = self.call_stats
        read = self.workspaces_read
        self.session.logger.info(
            "Stream %s done: %s%d records, %d requests (%d rate-limited, %d retried), "
            "%.1f s waiting on rate limits, %.1f s in all",
            self.name,
            f"{read} workspace{'s' if read != 1 else ''}, " if self.partitioned else "",
            self.records_emitted,
            stats.requests,
            stats.rate_limited,
            stats.retries,
            stats.rate_limit_wait_seconds,
            seconds,
        )
