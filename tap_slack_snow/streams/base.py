"""The one Slack stream base class: declarative knobs, requests, the error policy.

A stream says which Slack method it reads and how (``slack_method``, ``records_key``,
``max_page_size``, ``http_method``...); this class turns that into requests and records. It
talks to the run's :class:`~tap_slack_snow.run.session.SlackSession`, never to the tap. A run
of the stream (partitions, skip policies, summary line) is in
:mod:`tap_slack_snow.streams.partition`, its fetching (prefetch pages, BATCH files) in
:mod:`tap_slack_snow.streams.fetch`.
"""

from __future__ import annotations

import typing as t
from importlib import resources

import requests
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.schema.source import SchemaDirectory, StreamSchema
from singer_sdk.streams.rest import HTTPRequest
from typing_extensions import override

from tap_slack_snow import schemas
from tap_slack_snow.errors import MalformedPayloadError
from tap_slack_snow.records.drift import DriftPolicy
from tap_slack_snow.records.unix_times import add_datetimes
from tap_slack_snow.run.progress import FetchProgress
from tap_slack_snow.slack.answers import read_slack_response
from tap_slack_snow.slack.errors import EndOfDataError, SlackAPIError, describe
from tap_slack_snow.slack.retry import CallStats
from tap_slack_snow.streams.fetch import FetchingStream
from tap_slack_snow.streams.pagination import SlackCursorPaginator

if t.TYPE_CHECKING:
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context
    from singer_sdk.pagination import BaseAPIPaginator
    from singer_sdk.streams.rest import PageContext

    from tap_slack_snow.run.session import SlackSession

SCHEMAS = SchemaDirectory(resources.files(schemas))


class SlackStream(FetchingStream):
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
        self._last_payload: tuple[requests.Response, dict[str, t.Any]] | None = None
        self._drift: DriftPolicy | None = None
        self._expected_records: int | None = None
        self.progress = FetchProgress(
            self.name, self.call_stats, session.logger, emitted=lambda: self.records_emitted
        )

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
        """The stream's schema check (:class:`~tap_slack_snow.records.drift.DriftPolicy`)."""
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
        rotates the token and retries once; faults back off exponentially, bounded. A
        partition's requests share their workspace's first answer (``ask_workspace``).
        """

        def send_with_policy(
            prepared_request: requests.PreparedRequest, context: Context | None
        ) -> requests.Response:
            self.before_request()  # the previous answer is whole: a prefetch spools it now
            response: requests.Response = self.ask_workspace(
                lambda: self.session.with_retries(
                    self.slack_method, lambda: func(prepared_request, context), self.call_stats
                )
            )
            return response

        return send_with_policy
