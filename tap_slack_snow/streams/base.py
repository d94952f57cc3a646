"""The one Slack stream base class: declarative knobs, requests, pages, records.

A stream says which Slack method it reads and how (``slack_method``, ``records_key``,
``max_page_size``, ``http_method``...); this class turns that into requests, pages and
records. The SDK's hooks delegate in a few lines to collaborators: the run
(:class:`~tap_slack_snow.run.session.SlackRun`, which the stream reaches through its small
interface, never the tap), the :class:`~tap_slack_snow.streams.partition.PartitionRunner`
(skip policies, summary line), the :class:`~tap_slack_snow.streams.fetch.Fetch` of each
partition (what one fetch reads and keeps), the
:class:`~tap_slack_snow.streams.emission.RecordEmission` (record checks, RECORD messages,
the held ACTIVATE_VERSION), and the batch files.
"""

from __future__ import annotations

import typing as t
from importlib import resources

from singer_sdk import RESTStream
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.pagination import SinglePagePaginator
from singer_sdk.schema.source import SchemaDirectory, StreamSchema
from singer_sdk.singerlib import RecordMessage
from singer_sdk.streams.rest import HTTPRequest, PageContext
from typing_extensions import override

from tap_slack_snow import schemas
from tap_slack_snow.records.payloads import record_objects
from tap_slack_snow.run.prefetch import FetchJob, PageCodec
from tap_slack_snow.run.progress import FetchProgress
from tap_slack_snow.slack.answers import read_slack_response
from tap_slack_snow.slack.client import SlackAnswer
from tap_slack_snow.slack.errors import EndOfDataError, SlackAPIError, describe
from tap_slack_snow.slack.retry import CallStats
from tap_slack_snow.streams.emission import RecordEmission
from tap_slack_snow.streams.fetch import Fetch, RecordPages, answer_pages
from tap_slack_snow.streams.jobs import StreamFetching
from tap_slack_snow.streams.pagination import SlackCursorPaginator
from tap_slack_snow.streams.partition import PartitionRunner, ask_workspace

if t.TYPE_CHECKING:
    import requests
    from singer_sdk import Tap
    from singer_sdk.helpers._batch import BatchConfig
    from singer_sdk.helpers.types import Context
    from singer_sdk.pagination import BaseAPIPaginator

    from tap_slack_snow.records.drift import DriftPolicy
    from tap_slack_snow.run.session import SlackRun

SCHEMAS = SchemaDirectory(resources.files(schemas))
#: State key of a full-table stream: how many records its last sync emitted (an estimate of
#: its size for the next run's progress lines; no bookmark, nothing is skipped by it).
RECORDS_LAST_SYNC = "records_last_sync"

FetchT = t.TypeVar("FetchT", bound=Fetch)


class SlackStream(RESTStream[t.Any], t.Generic[FetchT]):
    """Base for every Slack Web API stream (``FetchT``: the stream's kind of fetch).

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
    #: Fetched by a prefetch worker even when it is the only stream of the run: its pages
    #: are downloads on disk, so the next one overlaps the SDK's work on this one.
    fetch_ahead_alone: t.ClassVar[bool] = False
    #: Sends BATCH messages with ``batch_config`` (its own ``get_batches``); the others keep
    #: RECORD messages: their records are few per request, and the SDK's own batcher is
    #: slower than RECORDs for them.
    writes_batch_files: t.ClassVar[bool] = False
    #: How the stream's pages wait on disk when fetched ahead.
    page_codec: t.ClassVar[PageCodec[t.Any]] = RecordPages()
    #: A full-table stream whose key several partitions send (kept once, silently).
    keys_repeat_across_partitions: t.ClassVar[bool] = False
    #: Slack's rate-limit tier of the method in requests per minute (Tier 2: 20, Tier 3: 50,
    #: Tier 4: 100): with the requests a run expects, it orders the run (:mod:`.order`).
    requests_per_minute: t.ClassVar[int] = 20

    http_method = "GET"
    payload_as_json = False
    schema = StreamSchema(SCHEMAS)
    #: Records are validated against the schema in ``post_process`` (jsonschema-rs); the
    #: SDK's conformance pass would only repeat the walk (half of the users stream's CPU).
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(self, tap: Tap, *args: t.Any, run: SlackRun, **kwargs: t.Any) -> None:
        """Set up per-run counters; ``run`` holds what the run's streams share."""
        super().__init__(tap, *args, **kwargs)
        self.run = run
        self.settings = run.settings
        self.call_stats = CallStats()
        self.records_emitted = 0
        self.emission = RecordEmission(
            self,
            keep_nul=self.settings.keep_nul_characters,
            write_activate_version=super()._write_activate_version_message,
        )
        self.progress = FetchProgress(
            self.name, self.call_stats, run.logger, emitted=lambda: self.records_emitted
        )
        self.runner = PartitionRunner(self, run)
        self.fetching = StreamFetching(self)

    # --- the SDK's hooks ------------------------------------------------------------------

    @override
    @property
    def url_base(self) -> str:
        """``api_url`` setting, e.g. https://slack.com/api."""
        return self.settings.api_base

    @override
    @property
    def path(self) -> str:  # type: ignore[override]
        """The Slack method is the path: {api_url}/{method}."""
        return "/" + self.slack_method

    @override
    @property
    def partitions(self) -> list[dict[str, t.Any]] | None:
        """One partition per workspace for per-workspace streams on an org-level token (the
        run's list, read when the sync starts, never in discovery); else none."""
        if not self.per_workspace or self.runner.skipped_reason:
            return None
        self.run.announce()
        if not self.run.facts.org_level or self.run.availability.reason_to_skip(self):
            return None
        return self.run.workspaces.partitions

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Records of one partition (or of the whole stream), applying the skip policies."""
        return self.runner.run_partition(
            context,
            lambda: self.runner.within_dry_run_limit(
                RESTStream.get_records(self, context), self.ABORT_AT_RECORD_COUNT
            ),
        )

    @override
    def request_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Records as Slack sends them: from the pages a worker fetched ahead, else
        fetched here, one request after another."""
        for page in self.fetching.pages(context):
            yield from self.page_records(page)

    @override
    def get_http_request(self, *, page: PageContext) -> HTTPRequest:
        """The method's arguments in the query string (GET) or the form body (POST)."""
        return self.http_request(self.new_fetch(page.stream_context), page.next_page_token)

    @override
    def post_process(
        self, row: dict[str, t.Any], context: Context | None = None
    ) -> dict[str, t.Any] | None:
        """The record checks (:class:`~tap_slack_snow.records.checks.RecordChecks`:
        date-times, the type-drift policy, one record per key), a count."""
        checked = self.emission.checks.check(row, context.get("team_id") if context else None)
        if checked is not None:
            self.records_emitted += 1
        return checked

    @override
    def generate_child_contexts(
        self, record: dict[str, t.Any], context: Context | None
    ) -> t.Iterable[Context | None]:
        """None: no stream has children. The SDK's default hands every record on as a
        context, which the SDK then copies (a dict copy per record for nothing)."""
        return () if not self.child_streams else super().generate_child_contexts(record, context)

    @override
    def _generate_record_messages(
        self, record: dict[str, t.Any]
    ) -> t.Generator[RecordMessage, None, None]:
        """The SDK's RECORD messages without its per-field walk for deselected properties
        (:meth:`RecordEmission.messages`); the SDK's own method when conformance is turned
        back on (a benchmark variant)."""
        if self.TYPE_CONFORMANCE_LEVEL != TypeConformanceLevel.NONE:
            yield from super()._generate_record_messages(record)
            return
        yield from self.emission.messages(record)

    @property
    def stream_version(self) -> int | None:
        """The version the records carry (set by the SDK for a full-table stream)."""
        return self._stream_version

    @override
    def get_batch_config(self, config: t.Mapping[str, t.Any]) -> BatchConfig | None:
        """``batch_config`` for the streams that write batch files, else RECORD messages;
        not with ``stream_maps`` (the SDK maps RECORD messages only, so a file would hold what
        a map removes), nor in a dry run (``--test`` stops at a record count)."""
        if not self.writes_batch_files or self.settings.has_stream_maps or self.dry_run:
            return None
        return super().get_batch_config(config)

    @override
    def _write_activate_version_message(self, full_table_version: int) -> None:
        """Kept for the end of the stream (:meth:`activate_version`), not written now: the
        SDK writes it before the first record (see :mod:`~tap_slack_snow.streams.emission`)."""
        self.emission.hold_version(full_table_version)

    def activate_version(self) -> None:
        """ACTIVATE_VERSION now: after the last record of a stream whose every partition was
        read to its end (the runner decides), never in a dry run."""
        self.emission.release_version(dry_run=self.dry_run)

    # --- what the run and the partition runner read -------------------------------------

    @property
    def dry_run(self) -> bool:
        """The run stops at a record count (``--test``)."""
        return self.ABORT_AT_RECORD_COUNT is not None

    @property
    def partitioned(self) -> bool:
        """The stream runs once per workspace in this run."""
        return self.per_workspace and self.run.facts.org_level

    @property
    def partition_count(self) -> int:
        """How many partitions the stream runs (0: once, without partitions)."""
        return len(self.partitions or [])

    def check_available(self) -> str | None:
        """The skip reason by edition; StreamUnavailableError for a missing scope."""
        return self.run.availability.check(self)

    def optional_partition(self, team_id: str | None) -> bool:  # noqa: ARG002
        """A partition Slack may not answer for (the team stream's org record)."""
        return False

    def write_state(self) -> None:
        """Write a STATE message now (a finished workspace)."""
        self._tap.state_writer.write_state(self.tap_state)

    def finish_partition(self, context: Context | None, records: int) -> None:
        """A full-table partition keeps its size for the next run's progress lines."""
        if not self.replication_key:
            self.get_context_state(context)[RECORDS_LAST_SYNC] = records

    def log_drift_summary(self) -> None:
        """The record checks' closing lines (if a record was checked)."""
        self.emission.log_summary()

    @property
    def drift_policy(self) -> DriftPolicy:
        """The stream's schema check (:class:`~tap_slack_snow.records.drift.DriftPolicy`)."""
        return self.emission.checks.drift

    # --- fetching: plans on the main thread, pages in whichever thread fetches ------------

    def new_fetch(self, context: Context | None) -> FetchT:
        """A fetch of ``context`` that read nothing from the state (yet)."""
        team_id = context.get("team_id") if context else None
        return t.cast("FetchT", Fetch(self.slack_method, context, team_id))

    def plan_fetch(self, context: Context | None) -> FetchT:
        """A fetch of ``context`` with what it needs from the state (main thread, so a
        worker never touches the state the SDK writes). The starting replication value is
        written here as the SDK writes it at the stream's turn (same inputs, same value):
        a fetch run ahead needs it earlier."""
        fetch = self.new_fetch(context)
        if self.replication_key:
            self.write_starting_value(context)
        else:  # a full-table stream: its size last time gives the progress lines an estimate
            previous = self.get_context_state(context).get(RECORDS_LAST_SYNC)
            fetch.expected_records = previous if isinstance(previous, int) else None
        return fetch

    def fetch_jobs(self) -> list[FetchJob]:
        """One job per partition for the prefetch workers, planned now (main thread)."""
        return self.fetching.jobs()

    def fetched_pages(self, key: tuple[str, str]) -> t.Iterator[t.Any] | None:
        """The pages a worker fetched ahead for ``key`` (stream, partition), if one did."""
        return self.run.fetched_pages(key)

    def fetch_pages(self, fetch: FetchT) -> t.Iterator[t.Any]:
        """The request loop: one page per Slack answer (see
        :func:`~tap_slack_snow.streams.fetch.answer_pages`)."""
        with self.get_http_request_counter() as counter:
            counter.with_context(fetch.context)
            yield from answer_pages(
                fetch,
                self.new_paginator(fetch) or SinglePagePaginator(),
                ask=lambda token: self.ask(fetch, token),
                parse=lambda answer: self.drift_policy.fit_text(
                    self.parse_answer(answer, fetch), answer.response.content
                ),
                counter=counter,
                logger=self.logger,
            )

    def new_paginator(self, fetch: FetchT) -> BaseAPIPaginator[t.Any] | None:
        """Cursor pages for paginated methods, one page otherwise."""
        return SlackCursorPaginator(fetch) if self.max_page_size else None

    def fetch_done(self, fetch: FetchT) -> float | None:
        """The share of the fetch done (0-1), when known: a full-table stream compares what
        it fetched with its size in the previous run."""
        expected = fetch.expected_records
        if not expected:
            return None
        return min(0.99, self.progress.records / expected)

    def page_record_count(self, page: t.Any) -> int:
        """Records in a page (for the progress lines)."""
        return len(page)

    def page_records(self, page: t.Any) -> t.Iterator[dict[str, t.Any]]:
        """The records of one fetched page (main thread)."""
        return iter(page)

    # --- one request, one answer ----------------------------------------------------------

    @property
    def page_size(self) -> int:
        """``page_size`` setting, capped at the method's maximum."""
        wanted = self.settings.page_size or self.max_page_size or 1000
        return max(1, min(wanted, self.max_page_size or wanted))

    def record_team_id(self, fetch: Fetch) -> str | None:
        """The workspace records belong to (the org for org-wide reads of an org-level
        token; else ``team_id`` if set, else the token's team)."""
        return fetch.team_id or self.run.facts.record_team_id

    def request_team_id(self, fetch: Fetch) -> str | None:
        """``team_id`` to send: the partition's workspace, else the setting."""
        return fetch.team_id or self.settings.team_id

    def slack_arguments(self, fetch: FetchT, next_page_token: t.Any) -> dict[str, t.Any]:
        """The Slack method's arguments: ``limit``/``cursor`` for cursor pages, ``team_id``."""
        params: dict[str, t.Any] = {}
        if self.max_page_size:
            params["limit"] = self.page_size
            if next_page_token:
                params["cursor"] = next_page_token
        team_id = self.request_team_id(fetch)
        if self.sends_team_id and team_id:
            params["team_id"] = team_id
        return params

    def http_request(self, fetch: FetchT, next_page_token: t.Any) -> HTTPRequest:
        """One request of ``fetch``: the arguments in the query (GET) or the form (POST)."""
        arguments = self.slack_arguments(fetch, next_page_token)
        in_body = self.http_method == "POST"
        return HTTPRequest(
            url=self.get_url(fetch.context),
            method=self.http_method,
            headers=self.http_headers,
            params={} if in_body else arguments,
            data=arguments if in_body else None,
        )

    def ask(self, fetch: FetchT, next_page_token: t.Any) -> SlackAnswer:
        """One request through the run's client, its answer read by the error table; a
        partition's requests share their workspace's first answer."""
        request = self.http_request(fetch, next_page_token)

        def read(response: requests.Response, sent_at: float) -> SlackAnswer:
            self._write_request_duration_log(self.path, response, fetch.context, None)
            try:
                payload = read_slack_response(response, self.slack_method)
            except EndOfDataError as exc:  # only date-ranged streams give this a meaning
                raise SlackAPIError(describe(exc.code, self.slack_method), code=exc.code) from None
            return SlackAnswer(payload, response, sent_at)

        return ask_workspace(
            self.run.workspaces,
            fetch.team_id,
            self.slack_method,
            lambda: self.run.client.send(
                self.slack_method,
                read,
                http_method=request.method,
                params=dict(request.params) if request.params else None,
                data=request.data if isinstance(request.data, dict) else None,
                stats=self.call_stats,
            ),
        )

    def parse_answer(self, answer: SlackAnswer, fetch: FetchT) -> t.Iterable[dict[str, t.Any]]:  # noqa: ARG002
        """Records under ``records_key``: a list of objects, or one object (missing or null
        fails: :mod:`~tap_slack_snow.records.payloads`)."""
        return record_objects(answer.payload, self.slack_method, self.records_key)

    # --- what the SDK does when a stream starts, done where a fetch starts ----------------

    def write_starting_value(self, context: Context | None) -> None:
        """Write the starting replication value as the SDK does when a stream starts."""
        self._write_starting_replication_value(context)
