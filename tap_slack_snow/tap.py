"""tap-slack-snow: settings, stream list and the run's frame (identity, edition, summary)."""

from __future__ import annotations

import sys
import typing as t
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import requests
from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.singerlib import SingerMessageType

from tap_slack_snow.auth import (
    RotatingTokenProvider,
    SecretRedactor,
    SlackAuthenticator,
    StaticTokenProvider,
    TokenProvider,
    TokenStore,
    default_token_store_path,
)
from tap_slack_snow.errors import StreamUnavailableError, TapSlackError, describe, rule_for
from tap_slack_snow.streams import (
    AccessLogsStream,
    AdminUsersStream,
    BillableInfoStream,
    BillingStream,
    IntegrationLogsStream,
    MemberAnalyticsStream,
    TeamStream,
    UsersStream,
)
from tap_slack_snow.transport import CallStats, RetryPolicy, read_slack_response

if t.TYPE_CHECKING:
    from singer_sdk.singerlib import Message
    from singer_sdk.streams import Stream

    from tap_slack_snow.client import SlackStream


class SlackMessageWriter(MsgSpecWriter):
    """The SDK's msgspec writer (JSON encoding ~4x faster than the standard one).

    Two changes to how it writes: a text stdout without a byte buffer (``redirect_stdout``
    in tests) gets text, and stdout is flushed before every message but RECORD, not after
    each one: a STATE always reaches the target after the records it covers, without a
    system call per record.
    """

    def write_message(self, message: Message) -> None:
        """Write one Singer message as a line on stdout."""
        line = self.format_message(message)
        out = sys.stdout
        buffer = getattr(out, "buffer", None)
        if buffer is None:
            out.write(line.decode())
        else:
            buffer.write(line)
        if message.type != SingerMessageType.RECORD:
            out.flush()


STREAM_TYPES: list[type[SlackStream]] = [
    UsersStream,
    TeamStream,
    BillingStream,
    BillableInfoStream,
    AccessLogsStream,
    IntegrationLogsStream,
    AdminUsersStream,
    MemberAnalyticsStream,
]

#: Streams Slack refuses on the Free plan, with the error code it answers (reference §6).
FREE_PLAN_REFUSALS: dict[str, str] = {"access_logs": "paid_only"}

OAUTH_SETTINGS = ("client_id", "client_secret", "refresh_token")
SECRET_SETTINGS = ("client_secret", "refresh_token", "access_token")


@dataclass
class SlackIdentity:
    """Who the token belongs to (auth.test) and what it may do (x-oauth-scopes)."""

    team_id: str | None
    user_id: str | None
    enterprise_id: str | None
    is_enterprise_install: bool
    scopes: frozenset[str] = field(default_factory=frozenset)
    team_name: str | None = None


class TapSlackSnow(Tap):
    """Singer tap for Slack subscriptions, users and user activity."""

    name = "tap-slack-snow"
    message_writer_class = SlackMessageWriter

    config_jsonschema = th.PropertiesList(
        th.Property(
            "client_id",
            th.StringType,
            title="Client ID",
            description="Slack app Client ID (Basic Information page). Use with "
            "client_secret and refresh_token.",
        ),
        th.Property(
            "client_secret",
            th.StringType,
            secret=True,
            title="Client Secret",
            description="Slack app Client Secret (Basic Information page).",
        ),
        th.Property(
            "refresh_token",
            th.StringType,
            secret=True,
            title="Refresh Token",
            description="User refresh token (authed_user.refresh_token from oauth.v2.access, "
            "token rotation on). Single-use: after the first run the rotated token lives in "
            "the token store.",
        ),
        th.Property(
            "access_token",
            th.StringType,
            secret=True,
            title="Access Token",
            description="Instead of the three OAuth settings: a non-rotating user token "
            "(xoxp-...) for apps without token rotation.",
        ),
        th.Property(
            "token_store_path",
            th.StringType,
            title="Token Store Path",
            description="File where rotated tokens are kept between runs (mode 0600, locked "
            "while rotating). Default: $XDG_STATE_HOME/tap-slack-snow/tokens-<hash>.json "
            "(~/.local/state/...). In CI, point it at a persisted location.",
        ),
        th.Property(
            "api_url",
            th.StringType,
            default="https://slack.com/api",
            title="API URL",
            description="Base URL of Slack's Web API; every call, oauth.v2.access included, "
            "goes under it.",
        ),
        th.Property(
            "start_date",
            th.DateTimeType,
            title="Start Date",
            description="Lower bound for the activity streams (access_logs, "
            "integration_logs, member_analytics) on a first run.",
        ),
        th.Property(
            "edition",
            th.StringType,
            default="auto",
            allowed_values=["auto", "enterprise", "standard"],
            title="Edition",
            description="auto detects Enterprise Grid from auth.test; enterprise or standard "
            "force it.",
        ),
        th.Property(
            "team_id",
            th.StringType,
            title="Team ID",
            description="A workspace (T...) inside an Enterprise org, for workspace-level "
            "methods with an org-level token.",
        ),
        th.Property(
            "page_size",
            th.IntegerType(minimum=1, maximum=1000),
            default=1000,
            title="Page Size",
            description="Items per page for paginated methods, capped at each method's "
            "maximum (1000; admin.users.list 100). The default needs the fewest requests.",
        ),
        th.Property(
            "on_unavailable",
            th.StringType,
            default="skip",
            allowed_values=["skip", "fail"],
            title="On Unavailable",
            description="When a stream cannot be read with this token on this plan "
            "(missing scope, Free plan, not an admin...): skip it with one warning, or fail "
            "the run.",
        ),
        th.Property(
            "emit_activate_version_messages",
            th.BooleanType,
            default=False,
            title="Emit ACTIVATE_VERSION messages",
            description="Send ACTIVATE_VERSION after each full-table stream, so a target can "
            "mark rows that disappeared (e.g. a member no longer in billable_info) as deleted.",
        ),
        th.Property(
            "request_timeout",
            th.IntegerType(minimum=1),
            default=60,
            title="Request Timeout",
            description="Seconds to wait for one Slack answer before retrying.",
        ),
        th.Property(
            "retry_max_attempts",
            th.IntegerType(minimum=1),
            default=8,
            title="Retry Max Attempts",
            description="Tries per request for faults (5xx, timeouts, resets). Rate limits "
            "(429) do not count: they always wait Retry-After.",
        ),
        th.Property(
            "retry_initial_wait",
            th.NumberType(minimum=0),
            default=1.0,
            title="Retry Initial Wait",
            description="Seconds before the first retry of a fault; doubles each time, up to 60 s.",
        ),
    ).to_dict()

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Build the tap; with validation on, also check the two ways to authenticate."""
        super().__init__(*args, **kwargs)
        self._announced = False
        SecretRedactor.add(*(self.config.get(name) for name in SECRET_SETTINGS))
        if kwargs.get("validate_config", True):
            errors = self._auth_setting_errors()
            if errors:
                raise ConfigValidationError(
                    "Config validation failed", errors=errors, schema=self.config_jsonschema
                )

    def _auth_setting_errors(self) -> list[str]:
        present = [name for name in OAUTH_SETTINGS if self.config.get(name)]
        missing = [name for name in OAUTH_SETTINGS if not self.config.get(name)]
        has_static = bool(self.config.get("access_token"))
        if has_static and present:
            return [
                "Set either access_token, or client_id + client_secret + refresh_token, "
                f"not both (found access_token and {', '.join(present)})"
            ]
        if has_static:
            return []
        if not present:
            return [
                "No credentials: set client_id, client_secret and refresh_token (a Slack app "
                "with token rotation), or access_token (a non-rotating user token)"
            ]
        if missing:
            return [
                f"Incomplete OAuth settings: missing {', '.join(missing)} "
                "(client_id, client_secret and refresh_token go together)"
            ]
        return []

    def discover_streams(self) -> list[Stream]:
        """The streams; discovery never calls Slack."""
        return [stream_class(tap=self) for stream_class in STREAM_TYPES]

    # --- shared per-run objects (created on first use, never during discovery) -----------

    @cached_property
    def http_session(self) -> requests.Session:
        """One connection pool for the whole run."""
        session = requests.Session()
        session.headers["User-Agent"] = f"{self.name}/{self.plugin_version}"
        return session

    @cached_property
    def retry_policy(self) -> RetryPolicy:
        """The retry budget shared by every call of this run."""
        return RetryPolicy(
            max_attempts=int(self.config.get("retry_max_attempts", 8)),
            initial_wait=float(self.config.get("retry_initial_wait", 1.0)),
            logger=self.logger,
        )

    @cached_property
    def token_provider(self) -> TokenProvider:
        """The one token source of this process (rotating chain or static token)."""
        config = self.config
        if config.get("access_token"):
            return StaticTokenProvider(config["access_token"])
        errors = self._auth_setting_errors()
        if errors:
            raise TapSlackError(errors[0])
        store_path = (
            Path(config["token_store_path"]).expanduser()
            if config.get("token_store_path")
            else default_token_store_path(config["client_id"], config["refresh_token"])
        )
        return RotatingTokenProvider(
            api_url=self.api_url,
            client_id=config["client_id"],
            client_secret=config["client_secret"],
            refresh_token=config["refresh_token"],
            store=TokenStore(store_path),
            retry=self.retry_policy,
            session=self.http_session,
            logger=self.logger,
            timeout=float(config.get("request_timeout", 60)),
        )

    @cached_property
    def slack_authenticator(self) -> SlackAuthenticator:
        """The request authenticator every stream uses."""
        return SlackAuthenticator(self.token_provider)

    @property
    def api_url(self) -> str:
        """``api_url`` without a trailing slash."""
        return str(self.config.get("api_url") or "https://slack.com/api").rstrip("/")

    def call_slack(self, method: str) -> tuple[dict[str, t.Any], requests.Response]:
        """Call one argument-less Slack method outside a stream, with the same policy."""
        url = f"{self.api_url}/{method}"

        def send() -> tuple[dict[str, t.Any], requests.Response]:
            response = self.http_session.post(
                url, auth=self.slack_authenticator, timeout=self.config.get("request_timeout", 60)
            )
            return read_slack_response(response, method), response

        return self.retry_policy.call(
            method,
            send,
            CallStats(),
            on_token_expired=self.slack_authenticator.rotate_after_expiry,
            api_url=self.api_url,
        )

    @cached_property
    def identity(self) -> SlackIdentity:
        """auth.test, once per run: team, user, enterprise and granted scopes."""
        payload, response = self.call_slack("auth.test")
        header = response.headers.get("x-oauth-scopes", "")
        scopes = frozenset(s.strip() for s in header.split(",") if s.strip())
        return SlackIdentity(
            team_id=_str_or_none(payload.get("team_id")),
            user_id=_str_or_none(payload.get("user_id")),
            enterprise_id=_str_or_none(payload.get("enterprise_id")),
            is_enterprise_install=bool(payload.get("is_enterprise_install")),
            scopes=scopes,
            team_name=_str_or_none(payload.get("team")),
        )

    @cached_property
    def edition(self) -> str:
        """``enterprise`` or ``standard``: forced by the edition setting, else detected."""
        setting = self.config.get("edition", "auto")
        if setting in {"enterprise", "standard"}:
            return str(setting)
        identity = self.identity
        return (
            "enterprise"
            if identity.enterprise_id or identity.is_enterprise_install
            else ("standard")
        )

    def reason_to_skip(self, stream: SlackStream) -> str | None:
        """Why a selected stream is skipped by edition before any request (else None)."""
        if stream.enterprise_only and self.edition != "enterprise":
            return "Enterprise Grid only; this workspace is not on Enterprise Grid"
        if (
            stream.needs_team_id_with_org_token
            and self.identity.is_enterprise_install
            and not self.config.get("team_id")
        ):
            return (
                f"{stream.slack_method} is per workspace and the token is org-level: set "
                "team_id to a workspace id to read it (admin_users covers the whole org)"
            )
        return None

    def missing_scope(self, stream: SlackStream) -> str | None:
        """The scope to add when the token's granted scopes (x-oauth-scopes) lack it."""
        granted = self.identity.scopes
        if not granted or not stream.required_scopes:
            return None  # unknown: let Slack decide
        if granted.intersection(stream.required_scopes):
            return None
        return stream.required_scopes[0]

    def check_available(self, stream: SlackStream) -> str | None:
        """Skip reason by edition; raise StreamUnavailableError when a scope is missing."""
        reason = self.reason_to_skip(stream)
        if reason:
            return reason
        needed = self.missing_scope(stream)
        if needed:
            raise StreamUnavailableError(
                describe("missing_scope", stream.slack_method, needed), code="missing_scope"
            )
        return None

    def scope_report(self, plan: str | None = None) -> list[tuple[str, str, str, str]]:
        """Rows of (stream, needed scopes, granted, what will happen) for selected streams.

        ``plan`` is the team.billing.info key when known (tap-slack-snow-auth check reads
        it); it adds what Slack refuses on that plan (e.g. access_logs on Free).
        """
        policy = self.config.get("on_unavailable", "skip")
        refused_on_plan = FREE_PLAN_REFUSALS if plan in {"free", ""} else {}
        granted = self.identity.scopes
        rows = []
        for stream in self._selected_slack_streams():
            needs = " or ".join(stream.required_scopes) or "-"
            has = "unknown" if not granted else ("yes" if not self.missing_scope(stream) else "no")
            skip_reason = self.reason_to_skip(stream)
            if skip_reason:
                outcome = f"skipped: {skip_reason}"
            elif stream.name in refused_on_plan:
                code = refused_on_plan[stream.name]
                outcome = (
                    f"{'skipped' if policy == 'skip' else 'FAILS the run'}: Slack answers "
                    f"{code}: {rule_for(code).fix}"
                )
            elif has == "no":
                outcome = (
                    f"{'skipped' if policy == 'skip' else 'FAILS the run'}: add user scope "
                    f"{stream.required_scopes[0]} in the Slack app and re-authorise"
                )
            else:
                outcome = "runs" + (
                    f" ({stream.availability_note})" if stream.availability_note else ""
                )
            if stream.name == "users" and granted and "users:read.email" not in granted:
                outcome += " (no emails: add users:read.email for profile.email)"
            rows.append((stream.name, needs, has, outcome))
        return rows

    def _log_scope_report(self) -> None:
        rows = self.scope_report()
        if not rows:
            return
        header = ("stream", "needs", "granted", "what will happen")
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
        self.logger.info(
            "Scope report (granted: %s):", ", ".join(sorted(self.identity.scopes)) or "unknown"
        )
        for row in [header, *rows]:
            self.logger.info(
                "  %s  %s  %s  %s",
                row[0].ljust(widths[0]),
                row[1].ljust(widths[1]),
                row[2].ljust(widths[2]),
                row[3],
            )

    def _selected_slack_streams(self) -> list[SlackStream]:
        return [
            t.cast("SlackStream", stream) for stream in self.streams.values() if stream.selected
        ]

    # --- the run ----------------------------------------------------------------------------

    def announce_run(self) -> None:
        """Log the selected streams and the edition, once, when the first stream starts."""
        if self._announced:
            return
        self._announced = True
        selected = [name for name, stream in self.streams.items() if stream.selected]
        self.logger.info("Selected streams: %s", ", ".join(selected) or "(none)")
        identity = self.identity
        how = "detected" if self.config.get("edition", "auto") == "auto" else "set in config"
        self.logger.info(
            "Slack edition: %s (%s); team %s, enterprise %s, org-level token: %s",
            self.edition,
            how,
            identity.team_id or "-",
            identity.enterprise_id or "-",
            "yes" if identity.is_enterprise_install else "no",
        )
        self._log_scope_report()

    @classmethod
    def invoke(cls, *args: t.Any, **kwargs: t.Any) -> None:
        """Run the tap; a user-fixable error ends the run with one line and exit code 1."""
        try:
            super().invoke(*args, **kwargs)
        except TapSlackError as exc:
            cls.logger.error("Run failed: %s", exc)  # noqa: TRY400 - one line, no traceback
            raise SystemExit(1) from None

    @classmethod
    def cb_test(cls, *args: t.Any, **kwargs: t.Any) -> None:
        """``--test``: one record per stream, with the same one-line errors."""
        try:
            super().cb_test(*args, **kwargs)
        except TapSlackError as exc:
            cls.logger.error("Connection test failed: %s", exc)  # noqa: TRY400
            raise SystemExit(1) from None

    def log_stream_summary(self, stream: SlackStream, seconds: float) -> None:
        """One line per finished stream: records, requests, rate-limit waits, time.

        A skipped stream already had its one line (the reason and the fix).
        """
        if stream.skipped_reason:
            return
        stats = stream.call_stats
        self.logger.info(
            "Stream %s done: %d records, %d requests (%d rate-limited, %d retried), "
            "%.1f s waiting on rate limits, %.1f s in all",
            stream.name,
            stream.records_emitted,
            stats.requests,
            stats.rate_limited,
            stats.retries,
            stats.rate_limit_wait_seconds,
            seconds,
        )


def _str_or_none(value: t.Any) -> str | None:
    return value if isinstance(value, str) and value else None


if __name__ == "__main__":
    TapSlackSnow.cli()
