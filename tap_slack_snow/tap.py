"""tap-slack-snow: settings, the credential check, the stream list and one-line errors."""

from __future__ import annotations

import contextlib
import io
import json
import os
import typing as t
from functools import cached_property
from urllib.parse import urlsplit

import click
from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers._classproperty import classproperty
from singer_sdk.helpers.capabilities import TapCapabilities
from singer_sdk.plugin_base import _ConfigInput  # the SDK's type for a parsed --config
from typing_extensions import override

from tap_slack_snow.auth.store_choice import store_setting_errors
from tap_slack_snow.errors import TapSlackError
from tap_slack_snow.inputs import (
    InputError,
    check_catalog,
    check_state,
    json_object,
    parse_json_text,
    read_json_file,
    setting_errors,
)
from tap_slack_snow.interrupts import defer_signal, exit_code_for, signal_name
from tap_slack_snow.redact import SecretRedactor
from tap_slack_snow.session import SlackSession
from tap_slack_snow.streams import STREAM_TYPES
from tap_slack_snow.workspaces import setting_errors as workspace_setting_errors
from tap_slack_snow.writer import SlackMessageWriter

if t.TYPE_CHECKING:
    from types import FrameType

    from singer_sdk.helpers.capabilities import CapabilitiesEnum
    from singer_sdk.streams import Stream

    from tap_slack_snow.client import SlackStream

__all__ = ["STREAM_TYPES", "TapSlackSnow"]

OAUTH_SETTINGS = ("client_id", "client_secret", "refresh_token")
SECRET_SETTINGS = ("client_secret", "refresh_token", "access_token", "token_store_key")
#: The two ways to authenticate, in the config schema: Meltano Hub derives the settings groups
#: (``settings_group_validation``) from it. ``auth_setting_errors`` says what is wrong.
AUTH_ANY_OF = [{"required": list(OAUTH_SETTINGS)}, {"required": ["access_token"]}]
#: How jsonschema words a failed ``anyOf``: after the whole config, secrets included.
_ANY_OF_FAILURE = "is not valid under any of the given schemas"


def auth_setting_errors(config: t.Mapping[str, t.Any]) -> list[str]:
    """What is wrong with the credential settings (an empty list when they are usable)."""
    present = [name for name in OAUTH_SETTINGS if config.get(name)]
    missing = [name for name in OAUTH_SETTINGS if not config.get(name)]
    has_static = bool(config.get("access_token"))
    if has_static and present:
        return [
            "Set either access_token, or client_id + client_secret + refresh_token, "
            f"not both (found access_token and {', '.join(present)})"
        ]
    if has_static:
        return []
    store_errors = store_setting_errors(config)
    if store_errors:
        return store_errors
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


def url_password(url: t.Any) -> str | None:
    """The password in a database URL (to keep it out of every log line)."""
    if not isinstance(url, str) or "://" not in url:
        return None
    try:
        return urlsplit(url).password
    except ValueError:
        return None


class TapSlackSnow(Tap):
    """Singer tap for Slack subscriptions, users and user activity."""

    name = "tap-slack-snow"
    message_writer_class = SlackMessageWriter
    # `--test` reads one record per stream (Meltano's `meltano config test` runs it).
    capabilities: t.ClassVar[list[CapabilitiesEnum]] = [*Tap.capabilities, TapCapabilities.TEST]

    config_jsonschema = th.PropertiesList(
        th.Property(
            "client_id",
            th.StringType,
            title="Client ID",
            description="Slack app Client ID (Basic Information page). Use with client_secret and "
            "refresh_token.",
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
            description="User refresh token (`authed_user.refresh_token` from `oauth.v2.access`, "
            "token rotation on). Single-use: after the first run the rotated token lives in the "
            "token store.",
        ),
        th.Property(
            "access_token",
            th.StringType,
            secret=True,
            title="Access Token",
            description="Instead of the three OAuth settings: a non-rotating user token (prefix "
            "`xoxp-`) for apps without token rotation.",
        ),
        th.Property(
            "token_store_path",
            th.StringType,
            title="Token Store Path",
            description="File where rotated tokens are kept between runs (encrypted, mode "
            "0600, locked while rotating; one chain per Slack app and authorisation). Default: "
            "`$XDG_STATE_HOME/tap-slack-snow/tokens-<hash>.json`, with `~/.local/state` when "
            "XDG_STATE_HOME is unset. It is the only place the rotated refresh token survives "
            "between runs (Meltano deletes its config file after each run): in CI and on many "
            "machines, use token_store_url instead.",
        ),
        th.Property(
            "token_store_url",
            th.StringType,
            secret=True,  # it may hold the database password
            title="Token Store URL",
            description="A PostgreSQL database to keep the token chains in instead of a file "
            "(`postgresql://USER:PASSWORD@HOST:PORT/DB`, or the `postgresql+psycopg://` form): "
            "shared by every machine and locked per chain, so CI runners and worker pools need "
            "no cache. Needs `pip install 'tap-slack-snow[postgres]'`. The table "
            "`tap_slack_snow_token_chains` is created on first use.",
        ),
        th.Property(
            "token_store_schema",
            th.StringType,
            default="public",
            title="Token Store Schema",
            description="Schema of the token store table with token_store_url (created if "
            "missing).",
        ),
        th.Property(
            "token_store_key",
            th.StringType,
            secret=True,
            title="Token Store Key",
            description="Key the stored tokens are encrypted with (at least 16 random "
            "characters). Default: derived from client_secret, so rotating the secret makes "
            "the store unreadable; set this to keep one key across secret rotations.",
        ),
        th.Property(
            "api_url",
            th.StringType,
            default="https://slack.com/api",
            title="API URL",
            description="Base URL of Slack's Web API; every call, `oauth.v2.access` included, "
            "goes under it.",
        ),
        th.Property(
            "start_date",
            th.DateTimeType,
            title="Start Date",
            description="Lower bound for the activity streams (access_logs, integration_logs, "
            "member_analytics) on a first run.",
        ),
        th.Property(
            "edition",
            th.StringType,
            default="auto",
            allowed_values=["auto", "enterprise", "standard"],
            title="Edition",
            description="auto detects Enterprise Grid from `auth.test`; enterprise or standard "
            "force it.",
        ),
        th.Property(
            "team_id",
            th.StringType,
            title="Team ID",
            description="One workspace ID (starting with T) of an Enterprise Grid org: with an "
            "org-level token the run reads only it (the same as team_ids with one id).",
        ),
        th.Property(
            "team_ids",
            th.ArrayType(th.StringType),
            title="Team IDs",
            description="Workspace IDs (starting with T) of an Enterprise Grid org to read "
            "with an org-level token; default: every workspace `auth.teams.list` names.",
        ),
        th.Property(
            "page_size",
            th.IntegerType(minimum=1, maximum=1000),
            default=1000,
            title="Page Size",
            description="Items per page for paginated methods, capped at each method's maximum "
            "(1000; `admin.users.list` 100). The default needs the fewest requests.",
        ),
        th.Property(
            "on_unavailable",
            th.StringType,
            default="skip",
            allowed_values=["skip", "fail"],
            title="On Unavailable",
            description="When a stream cannot be read with this token on this plan (missing "
            "scope, Free plan, not an admin or owner): skip it with one warning, or fail the run.",
        ),
        th.Property(
            "emit_activate_version_messages",
            th.BooleanType,
            default=False,
            title="Emit ACTIVATE_VERSION messages",
            description="Send ACTIVATE_VERSION after each full-table stream, so a target can mark "
            "rows that disappeared (such as a member no longer in billable_info) as deleted.",
        ),
        th.Property(
            "concurrent_fetch",
            th.BooleanType,
            default=True,
            title="Concurrent Fetch",
            description="Fetch the selected streams side by side (Slack's rate limits are per "
            "method), while records and state are still written one stream after another; a "
            "sync then takes about as long as its slowest method instead of the sum. false "
            "reads one stream after another.",
        ),
        th.Property(
            "max_concurrent_streams",
            th.IntegerType(minimum=1),
            default=8,
            title="Max Concurrent Streams",
            description="How many streams fetch at once with concurrent_fetch (the default, 8, "
            "is every stream: each reads its own Slack method). Pages fetched ahead of a "
            "stream's turn wait in temporary files, not in memory.",
        ),
        th.Property(
            "request_timeout",
            th.IntegerType(minimum=1),
            default=60,
            title="Request Timeout",
            description="Seconds to wait for one whole Slack answer (downloads included) "
            "before retrying.",
        ),
        th.Property(
            "retry_max_attempts",
            th.IntegerType(minimum=1),
            default=8,
            title="Retry Max Attempts",
            description="Tries per request for faults (5xx, timeouts, resets). Rate limits "
            "(429) do not count: they wait Retry-After, up to max_rate_limit_wait.",
        ),
        th.Property(
            "retry_initial_wait",
            th.NumberType(minimum=0),
            default=1.0,
            title="Retry Initial Wait",
            description="Seconds before the first retry of a fault; doubles each time, up to 60 s.",
        ),
        th.Property(
            "max_rate_limit_wait",
            th.NumberType(minimum=0),
            default=900,
            title="Max Rate Limit Wait",
            description="Seconds one request may wait on rate limits (429, Retry-After) in all "
            "before the run gives up with a clear line.",
        ),
    ).to_dict() | {"anyOf": AUTH_ANY_OF}

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Build the tap (validating the config unless told not to) and mask its secrets."""
        super().__init__(*args, **kwargs)
        SecretRedactor.add(*(self.config.get(name) for name in SECRET_SETTINGS))
        SecretRedactor.add(url_password(self.config.get("token_store_url")))
        if self.input_catalog is not None and not self.selected_slack_streams():
            self.logger.warning(
                "The catalog selects no stream of this tap (its streams: %s), so nothing "
                'will be synced: mark streams selected (meltano select, or "selected": '
                "true in the catalog's metadata)",
                ", ".join(self.streams),
            )

    @override
    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """The SDK's schema check plus the credential rule, each problem named.

        jsonschema words the schema's failed ``anyOf`` as the whole config (secrets included)
        "is not valid under any of the given schemas", so that line is replaced by what
        ``auth_setting_errors`` finds. Without ``raise_errors`` (``--discover``, which needs
        no credentials) only the other problems are warned about.
        """
        try:
            super()._validate_config(raise_errors=True)
        except ConfigValidationError as exc:
            schema_errors = [error for error in exc.errors if _ANY_OF_FAILURE not in error]
        else:
            schema_errors = []
        if not raise_errors:
            if schema_errors:
                self.logger.warning("Config validation failed: %s", "; ".join(schema_errors))
            return schema_errors
        errors = (
            schema_errors
            + auth_setting_errors(self.config)
            + workspace_setting_errors(self.config)
            + setting_errors(self.config)
        )
        if errors:
            raise ConfigValidationError(
                "Config validation failed", errors=errors, schema=self.config_jsonschema
            )
        return []

    @classproperty
    @override
    def _env_var_config(cls) -> dict[str, t.Any]:
        """``TAP_SLACK_SNOW_*`` variables as the SDK parses them, with numbers as numbers.

        The SDK converts integer, boolean, array and object settings but leaves a number
        setting (retry_initial_wait) a string, which then fails validation, and stops with a
        traceback on an integer variable that is not one. Meltano passes every setting this
        way to plugin commands such as ``auth-check``.
        """
        numeric = {
            name: int if "integer" in prop.get("type", []) else float
            for name, prop in cls.config_jsonschema["properties"].items()
            if {"integer", "number"} & set(prop.get("type", []))
        }
        converted: dict[str, t.Any] = {}
        for name, kind in numeric.items():
            variable = f"{cls._env_var_prefix}{name.upper()}"
            if variable in os.environ:
                try:
                    converted[name] = kind(os.environ[variable])
                except ValueError:
                    raise ConfigValidationError(
                        "Config validation failed",
                        errors=[
                            f"{variable}={os.environ[variable]!r} is not "
                            f"{'a whole number' if kind is int else 'a number'}: set {name} "
                            "to a number in the environment, the config file or Meltano"
                        ],
                    ) from None
        # Checked above, so the SDK's own int() of the integer settings cannot fail.
        parsed: dict[str, t.Any] = super()._env_var_config
        return parsed | converted

    @override
    def discover_streams(self) -> list[Stream]:
        """The streams; discovery never calls Slack."""
        return [stream_class(tap=self, session=self.session) for stream_class in STREAM_TYPES]

    @cached_property
    def session(self) -> SlackSession:
        """The run's shared objects (built without calling Slack)."""
        return SlackSession(
            self.config,
            user_agent=f"{self.name}/{self.plugin_version}",
            logger=self.logger,
            auth_setting_errors=lambda: auth_setting_errors(self.config),
            selected_streams=self.selected_slack_streams,
        )

    def selected_slack_streams(self) -> list[SlackStream]:
        """The streams this run syncs, in the tap's order."""
        return [
            t.cast("SlackStream", stream) for stream in self.streams.values() if stream.selected
        ]

    @override
    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        """SIGTERM / SIGINT: the last STATE, one line saying where, and exit 143 / 130.

        The SDK's handler exits 0 ("Gracefully shutting down"), so an orchestrator would
        record a killed run as a success. A signal during the token refresh-and-save waits
        for the save (see :mod:`tap_slack_snow.interrupts`).
        """
        name = signal_name(signum)
        waiting_for = defer_signal(signum)
        if waiting_for is not None:
            self.logger.info("%s received while %s; stopping once that is done", name, waiting_for)
            return
        self.state_writer.write_state(self.state)
        running = [s for s in self.selected_slack_streams() if s.running]
        where = (
            "during stream "
            + ", ".join(f"{s.name} ({s.records_emitted} records so far)" for s in running)
            if running
            else "between streams"
        )
        self.logger.error(
            "Interrupted by %s %s; the last STATE message is where the next run resumes "
            "(exit code %d)",
            name,
            where,
            exit_code_for(signum),
        )
        raise SystemExit(exit_code_for(signum))

    @override
    @classmethod
    def cb_config(
        cls, ctx: click.Context, param: click.Option, value: tuple[str, ...]
    ) -> _ConfigInput:
        """``--config``: files merged in order (later ones win); ``ENV`` as the SDK reads it.

        Replaces the SDK's file reader, which ends in a traceback for a file that is empty,
        not JSON or not an object.
        """
        config: dict[str, t.Any] = {}
        with _one_line_errors("Run failed"):
            for name in value:
                if name == "ENV":
                    continue  # read by _env_var_config when the tap is built
                example = '{"client_id": ..., "refresh_token": ...}'
                config.update(json_object("config", name, read_json_file("config", name), example))
        return _ConfigInput(config=config, parse_env="ENV" in value)

    @override
    @classmethod
    def invoke(cls, *args: t.Any, **kwargs: t.Any) -> None:
        """Run the tap; a user-fixable error ends the run with one line and exit code 1.

        The state and catalog files are checked first (one line per mistake, nothing
        written): the SDK would take an empty file, a list or a bookmark of "not-a-date".
        """
        with _one_line_errors("Run failed"):
            for name, check in (("state", cls._checked_state), ("catalog", cls._checked_catalog)):
                handle = kwargs.get(name)
                if handle is not None:
                    path = getattr(handle, "name", name)
                    try:
                        text = handle.read()
                    except (OSError, UnicodeDecodeError) as exc:
                        raise InputError(f"{name} file {path} cannot be read ({exc})") from None
                    value = check(path, parse_json_text(name, path, text))
                    kwargs[name] = io.StringIO(json.dumps(value))
            super().invoke(*args, **kwargs)

    @classmethod
    def _checked_state(cls, path: str, value: t.Any) -> dict[str, t.Any]:
        # Streams with a replication key declare it as a class attribute (a date-time).
        dated = [
            str(getattr(stream, "name", ""))
            for stream in STREAM_TYPES
            if isinstance(getattr(stream, "replication_key", None), str)
        ]
        return check_state(path, value, dated, cls.logger)

    @classmethod
    def _checked_catalog(cls, path: str, value: t.Any) -> dict[str, t.Any]:
        return check_catalog(path, value)

    @override
    @classmethod
    def cb_test(cls, *args: t.Any, **kwargs: t.Any) -> None:
        """``--test``: one record per stream, with the same one-line errors."""
        with _one_line_errors("Connection test failed"):
            super().cb_test(*args, **kwargs)


@contextlib.contextmanager
def _one_line_errors(prefix: str) -> t.Iterator[None]:
    """A user-fixable error (or invalid settings) ends the run with one line and exit 1."""
    try:
        yield
    except ConfigValidationError as exc:
        TapSlackSnow.logger.error("%s: invalid settings: %s", prefix, "; ".join(exc.errors) or exc)
        raise SystemExit(1) from None
    except TapSlackError as exc:
        TapSlackSnow.logger.error("%s: %s", prefix, exc)
        raise SystemExit(1) from None


if __name__ == "__main__":
    TapSlackSnow.cli()
