"""The one Slack stream base class: URL, error policy, pagination, retries and run log."""

from __future__ import annotations

import time
import typing as t
from datetime import datetime, timezone
from importlib import resources

import jsonschema_rs
import requests
from singer_sdk import RESTStream
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.pagination import BaseAPIPaginator
from singer_sdk.schema.source import SchemaDirectory, StreamSchema

from tap_slack_snow import schemas
from tap_slack_snow.errors import SlackAPIError, StreamUnavailableError, TapSlackError, describe
from tap_slack_snow.transport import CallStats, EndOfDataError, read_slack_response

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_slack_snow.tap import TapSlackSnow

SCHEMAS = SchemaDirectory(resources.files(schemas))


class MalformedPayloadError(TapSlackError):
    """Slack answered ``ok: true`` with a shape the tap cannot read."""


class SlackCursorPaginator(BaseAPIPaginator[str | None]):
    """Slack cursor pagination on ``response_metadata.next_cursor``.

    Slack may return short or even empty pages while more remain, so the only end signal is
    an empty (or absent) cursor: empty pages with a cursor are followed, not taken as the end.
    """

    def __init__(self, stream: SlackStream) -> None:
        """Read cursors from the payload the stream already parsed."""
        super().__init__(None)
        self._stream = stream

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

    def continue_if_empty(self, response: requests.Response) -> bool:
        """Follow an empty page when Slack still hands out a cursor."""
        return self.get_next(response) is not None


def unix_to_iso(value: t.Any) -> str | None:
    """Slack Unix seconds (int, float or numeric string) as ISO-8601 UTC; 0/empty → None."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        seconds = float(value)
        if seconds <= 0:
            return None
        return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat()
    except (TypeError, ValueError, OverflowError, OSError):  # not a number, or past year 9999
        return None


def unix_int(value: t.Any) -> int | None:
    """Slack Unix seconds as an integer (None when absent or not a number)."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError, OverflowError):
        return None


def add_datetimes(record: dict[str, t.Any], fields: t.Iterable[str]) -> dict[str, t.Any]:
    """Keep Slack's raw Unix time as ``<field>_unix`` and make ``<field>`` a date-time."""
    for field in fields:
        if field in record:
            raw = record[field]
            record[f"{field}_unix"] = unix_int(raw)
            record[field] = unix_to_iso(raw)
    return record


class SlackStream(RESTStream[str | None]):
    """Base for every Slack Web API stream.

    Subclasses set ``name``, ``slack_method``, ``records_key``, ``primary_keys`` and the
    scopes they need; cursor-paginated methods set ``max_page_size``.
    """

    slack_method: t.ClassVar[str]
    #: Key of the record list (or single object) in Slack's answer, e.g. "members".
    records_key: t.ClassVar[str]
    #: User-token scopes the method checks (any one of them is enough).
    required_scopes: t.ClassVar[tuple[str, ...]] = ()
    #: Cursor pagination with at most this many items per page; 0 = one page.
    max_page_size: t.ClassVar[int] = 0
    #: Send ``team_id`` (from settings) with every request.
    sends_team_id: t.ClassVar[bool] = False
    #: A workspace-level method: with an org-level token Slack requires ``team_id``.
    needs_team_id_with_org_token: t.ClassVar[bool] = False
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

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Set up per-run counters."""
        super().__init__(*args, **kwargs)
        self.call_stats = CallStats()
        self.records_emitted = 0
        self.skipped_reason: str | None = None
        self._last_payload: tuple[requests.Response, dict[str, t.Any]] | None = None
        self._validator: jsonschema_rs.Validator | None = None

    @property
    def slack_tap(self) -> TapSlackSnow:
        """The tap that owns this stream (shared authenticator, retry policy, identity)."""
        return t.cast("TapSlackSnow", self._tap)

    @property
    def record_team_id(self) -> str | None:
        """The workspace records belong to: ``team_id`` if set, else the token's team."""
        return self.config.get("team_id") or self.slack_tap.identity.team_id

    @property
    def url_base(self) -> str:
        """``api_url`` setting, e.g. https://slack.com/api."""
        return str(self.config.get("api_url", "https://slack.com/api")).rstrip("/")

    @property
    def path(self) -> str:  # type: ignore[override]
        """The Slack method is the path: {api_url}/{method}."""
        return "/" + self.slack_method

    @property
    def authenticator(self) -> requests.auth.AuthBase:
        """The tap's single authenticator (one token chain per process)."""
        return self.slack_tap.slack_authenticator

    @property
    def timeout(self) -> int:
        """Seconds to wait for Slack's answer."""
        return int(self.config.get("request_timeout", 60))

    @property
    def requests_session(self) -> requests.Session:
        """One HTTP session (connection pool) shared by all streams."""
        return self.slack_tap.http_session

    @property
    def page_size(self) -> int:
        """``page_size`` setting, capped at the method's maximum."""
        wanted = int(self.config.get("page_size") or self.max_page_size or 1000)
        return max(1, min(wanted, self.max_page_size or wanted))

    def get_new_paginator(self) -> BaseAPIPaginator[str | None] | None:
        """Cursor pagination for paginated methods, one page otherwise."""
        return SlackCursorPaginator(self) if self.max_page_size else None

    def get_url_params(
        self,
        context: Context | None,  # noqa: ARG002 - Slack methods here take no context
        next_page_token: str | None,
    ) -> dict[str, t.Any]:
        """``limit``/``cursor`` for cursor pages, ``team_id`` for org-level tokens."""
        params: dict[str, t.Any] = {}
        if self.max_page_size:
            params["limit"] = self.page_size
            if next_page_token:
                params["cursor"] = next_page_token
        team_id = self.config.get("team_id")
        if self.sends_team_id and team_id:
            params["team_id"] = team_id
        return params

    # --- answers and the error policy ----------------------------------------------------

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

    def post_process(
        self,
        row: dict[str, t.Any],
        context: Context | None = None,  # noqa: ARG002
    ) -> dict[str, t.Any] | None:
        """Date-times from Unix times, a check against the schema, and count what is emitted."""
        if self.datetime_fields:
            add_datetimes(row, self.datetime_fields)
        validator = self._validator
        if validator is None:
            validator = self._validator = jsonschema_rs.validator_for(
                self.schema, validate_formats=True
            )
        try:
            validator.validate(row)
        except jsonschema_rs.ValidationError as exc:
            where = "/".join(str(part) for part in exc.instance_path) or "record"
            detail = exc.message if len(exc.message) <= 200 else exc.message[:200] + "…"
            raise MalformedPayloadError(
                f"Slack method {self.slack_method} returned a {self.name} record that does not "
                f"match the stream's schema at '{where}': {detail}"
            ) from None
        self.records_emitted += 1
        return row

    # --- retries ---------------------------------------------------------------------------

    def request_decorator(self, func: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
        """Retry by Slack's policy instead of the SDK's generic backoff.

        429s wait exactly Retry-After and never use up the fault budget; ``token_expired``
        rotates the token and retries once; faults back off exponentially, bounded.
        """
        policy = self.slack_tap.retry_policy

        def send_with_policy(
            prepared_request: requests.PreparedRequest, context: Context | None
        ) -> requests.Response:
            response: requests.Response = policy.call(
                self.slack_method,
                lambda: func(prepared_request, context),
                self.call_stats,
                on_token_expired=self.slack_tap.slack_authenticator.rotate_after_expiry,
                api_url=self.url_base,
            )
            return response

        return send_with_policy

    # --- one stream's run ------------------------------------------------------------------

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Records, applying the skip policies, then one summary line for the stream."""
        started = time.monotonic()
        self.slack_tap.announce_run()
        try:
            try:
                reason = self.slack_tap.check_available(self)
                if reason:
                    self.skipped_reason = reason
                    self.logger.info("Skipping stream %s: %s", self.name, reason)
                    return
                yield from super().get_records(context)
            except StreamUnavailableError as exc:
                if self.records_emitted or self.config.get("on_unavailable", "skip") != "skip":
                    raise
                self.skipped_reason = str(exc)
                self.logger.warning("Skipping stream %s (on_unavailable=skip): %s", self.name, exc)
        finally:
            self.slack_tap.log_stream_summary(self, time.monotonic() - started)
