"""The tap's settings: the config schema, and one typed :class:`Settings` read once from it.

Every setting's default is written once, in the schema; every rule JSON Schema cannot say
(the credential rule, the token store, workspaces, ``api_url`` and ``start_date``) is here,
each problem a line naming the setting and the fix. Nothing else in the package reads the
config mapping: it is handed a :class:`Settings`.

How a config is put together (files, then ``TAP_SLACK_SNOW_*`` variables) and checked
(:func:`config_problems`) is here too, so the tap and the set-up CLI read and judge it the
same way, with the same lines.
"""

from __future__ import annotations

import copy
import os
import typing as t
from dataclasses import dataclass
from urllib.parse import urlsplit

from singer_sdk import typing as th
from singer_sdk.configuration._dict_config import (
    merge_missing_config_jsonschema,
    parse_environment_config,
)
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers._packaging import get_package_version
from singer_sdk.helpers.capabilities import FLATTENING_CONFIG, STREAM_MAPS_CONFIG
from singer_sdk.plugin_base import JSONSchemaValidator, _format_validation_error

from tap_slack_snow.inputs import DATE_TIME_EXAMPLE, json_object, parse_date_time, read_json_file

if t.TYPE_CHECKING:
    from pathlib import Path

T = t.TypeVar("T")

#: The tap's name (its package, its logger, the start of its User-Agent).
TAP_NAME = "tap-slack-snow"
#: Every setting can be set as ``TAP_SLACK_SNOW_<NAME>`` (the SDK's convention for the name).
ENV_PREFIX = "TAP_SLACK_SNOW_"

OAUTH_SETTINGS = ("client_id", "client_secret", "refresh_token")
SECRET_SETTINGS = ("client_secret", "refresh_token", "access_token", "token_store_key")
#: The two ways to authenticate, in the config schema: Meltano Hub derives the settings groups
#: (``settings_group_validation``) from it. :meth:`Settings.credential_errors` says what is
#: wrong.
AUTH_ANY_OF = [{"required": list(OAUTH_SETTINGS)}, {"required": ["access_token"]}]
#: How jsonschema words a failed ``anyOf``: after the whole config, secrets included.
ANY_OF_FAILURE = "is not valid under any of the given schemas"
#: ``token_store_url`` spellings the PostgreSQL store takes (libpq's and SQLAlchemy's).
DATABASE_URL_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")


def is_database_url(value: str) -> bool:
    """Whether a ``token_store_url`` value is a PostgreSQL URL the store takes."""
    return value.startswith(DATABASE_URL_SCHEMES)


def url_password(url: t.Any) -> str | None:
    """The password in a database URL (to keep it out of every log line)."""
    if not isinstance(url, str) or "://" not in url:
        return None
    try:
        return urlsplit(url).password
    except ValueError:
        return None


CONFIG_JSONSCHEMA: dict[str, t.Any] = th.PropertiesList(
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
        description="Schema of the token store table with token_store_url (created if missing).",
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


#: Each setting's default, as the schema declares it (the one place a default is written).
DEFAULTS: dict[str, t.Any] = {
    name: prop["default"]
    for name, prop in CONFIG_JSONSCHEMA["properties"].items()
    if "default" in prop
}


def _text(config: t.Mapping[str, t.Any], name: str) -> str | None:
    """A string setting: None when unset or empty, else its text."""
    value = config.get(name)
    if value is None or value == "":
        default = DEFAULTS.get(name)
        return None if default is None else str(default)
    return str(value)


def _raw(config: t.Mapping[str, t.Any], name: str) -> str | None:
    """A string setting as given (an empty string stays, for the rules to name it)."""
    value = config.get(name)
    if value is None:
        default = DEFAULTS.get(name)
        return None if default is None else str(default)
    return str(value)


def _number(config: t.Mapping[str, t.Any], name: str, kind: type[T]) -> T:
    """A number or boolean setting; the default when unset or not of its kind (the schema
    check names that mistake)."""
    value = config.get(name)
    try:
        return kind(DEFAULTS[name] if value is None else value)  # type: ignore[call-arg]
    except (TypeError, ValueError):
        return kind(DEFAULTS[name])  # type: ignore[call-arg]


@dataclass(frozen=True)
class Settings:
    """The tap's settings, typed, with the schema's defaults filled in.

    Built once per run from the config (:meth:`from_config`, which never fails: the schema
    and :meth:`errors` say what is wrong); the run, the streams, the token store and the
    set-up CLI read their settings here.
    """

    client_id: str | None = None
    client_secret: str | None = None
    refresh_token: str | None = None
    access_token: str | None = None
    token_store_path: str | None = None
    token_store_url: str | None = None
    token_store_schema: str = DEFAULTS["token_store_schema"]
    token_store_key: str | None = None
    api_url: str = DEFAULTS["api_url"]
    start_date: str | None = None
    edition: str = DEFAULTS["edition"]
    team_id: str | None = None
    team_ids: tuple[str, ...] = ()
    page_size: int = DEFAULTS["page_size"]
    on_unavailable: str = DEFAULTS["on_unavailable"]
    emit_activate_version_messages: bool = DEFAULTS["emit_activate_version_messages"]
    concurrent_fetch: bool = DEFAULTS["concurrent_fetch"]
    max_concurrent_streams: int = DEFAULTS["max_concurrent_streams"]
    request_timeout: int = DEFAULTS["request_timeout"]
    retry_max_attempts: int = DEFAULTS["retry_max_attempts"]
    retry_initial_wait: float = DEFAULTS["retry_initial_wait"]
    max_rate_limit_wait: float = DEFAULTS["max_rate_limit_wait"]
    #: The SDK's ``stream_maps`` setting is set (batch files are then not written).
    has_stream_maps: bool = False

    @classmethod
    def from_config(cls, config: t.Mapping[str, t.Any]) -> Settings:
        """The settings of a config mapping (as the SDK parsed it)."""
        team_ids = config.get("team_ids") or ()
        return cls(
            client_id=_text(config, "client_id"),
            client_secret=_text(config, "client_secret"),
            refresh_token=_text(config, "refresh_token"),
            access_token=_text(config, "access_token"),
            token_store_path=_text(config, "token_store_path"),
            token_store_url=_text(config, "token_store_url"),
            token_store_schema=_text(config, "token_store_schema") or "public",
            token_store_key=_raw(config, "token_store_key"),
            api_url=_raw(config, "api_url") or "",
            start_date=_raw(config, "start_date"),
            edition=_text(config, "edition") or "auto",
            team_id=_text(config, "team_id"),
            team_ids=tuple(str(team) for team in team_ids) if isinstance(team_ids, list) else (),
            page_size=_number(config, "page_size", int) or DEFAULTS["page_size"],
            on_unavailable=_text(config, "on_unavailable") or "skip",
            emit_activate_version_messages=_number(config, "emit_activate_version_messages", bool),
            concurrent_fetch=_number(config, "concurrent_fetch", bool),
            max_concurrent_streams=_number(config, "max_concurrent_streams", int),
            request_timeout=_number(config, "request_timeout", int),
            retry_max_attempts=_number(config, "retry_max_attempts", int),
            retry_initial_wait=_number(config, "retry_initial_wait", float),
            max_rate_limit_wait=_number(config, "max_rate_limit_wait", float),
            has_stream_maps=bool(config.get("stream_maps")),
        )

    # --- derived ------------------------------------------------------------------------

    @property
    def api_base(self) -> str:
        """``api_url`` without a trailing slash: every call goes to ``{api_base}/{method}``."""
        return (self.api_url or DEFAULTS["api_url"]).rstrip("/")

    @property
    def skips_unavailable(self) -> bool:
        """``on_unavailable`` is ``skip`` (else a stream Slack refuses fails the run)."""
        return self.on_unavailable == "skip"

    @property
    def wanted_team_ids(self) -> list[str] | None:
        """The workspaces the settings restrict the run to (``team_ids``, or ``team_id`` as a
        list of one); None = every workspace the token can read."""
        if self.team_ids:
            return list(dict.fromkeys(self.team_ids))
        return [self.team_id] if self.team_id else None

    @property
    def single_workspace(self) -> str | None:
        """The one workspace the run is restricted to (team_id, or team_ids of one)."""
        wanted = self.wanted_team_ids
        return wanted[0] if wanted and len(wanted) == 1 else None

    @property
    def lacks_client_secret(self) -> bool:
        """A rotating-token setup (client_id, no access_token) without its client_secret.

        The set-up CLI then asks for the secret (SLACK_CLIENT_SECRET or a prompt).
        """
        return bool(self.client_id) and not self.client_secret and not self.access_token

    @property
    def secrets(self) -> list[str]:
        """Every secret value set (to mask in logs), the database password included."""
        values = [getattr(self, name) for name in SECRET_SETTINGS]
        values.append(url_password(self.token_store_url))
        return [value for value in values if value]

    # --- rules JSON Schema cannot say -------------------------------------------------------

    def errors(self) -> list[str]:
        """Every problem with these settings that the schema does not catch."""
        return self.credential_errors() + self.workspace_errors() + self.url_and_date_errors()

    def credential_errors(self) -> list[str]:
        """What is wrong with the credential settings (an empty list when they are usable)."""
        present = [name for name in OAUTH_SETTINGS if getattr(self, name)]
        missing = [name for name in OAUTH_SETTINGS if not getattr(self, name)]
        if self.access_token and present:
            return [
                "Set either access_token, or client_id + client_secret + refresh_token, "
                f"not both (found access_token and {', '.join(present)})"
            ]
        if self.access_token:
            return []
        store_errors = self.store_errors()
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

    def store_errors(self) -> list[str]:
        """Mistakes in the token store settings, each a line naming the setting and the fix."""
        errors = []
        url = self.token_store_url or ""
        if url and self.token_store_path:
            errors.append("Set token_store_url (a database) or token_store_path (a file), not both")
        if url and not is_database_url(url):
            errors.append(
                "token_store_url must be a PostgreSQL URL (postgresql://USER:PASSWORD@HOST:"
                "PORT/DATABASE, or postgresql+psycopg://...)"
            )
        key = self.token_store_key
        if key is not None and len(key) < 16:
            errors.append(
                "token_store_key is too short: use at least 16 random characters "
                "(e.g. the output of: openssl rand -hex 32)"
            )
        return errors

    def workspace_errors(self) -> list[str]:
        """Contradictory workspace settings."""
        if self.team_id and self.team_ids:
            return [
                "Set team_id or team_ids, not both (team_id is the same as team_ids with one "
                "workspace)"
            ]
        return []

    def url_and_date_errors(self) -> list[str]:
        """``api_url``'s scheme and host, ``start_date``'s format."""
        errors: list[str] = []
        parts = urlsplit(self.api_url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            errors.append(
                f"api_url {self.api_url!r} is not an http(s) URL: set it to Slack's Web API "
                "base URL, https://slack.com/api (GovSlack: https://slack-gov.com/api)"
            )
        if self.start_date is not None and parse_date_time(self.start_date) is None:
            errors.append(
                f"start_date {self.start_date!r} is not an ISO 8601 date-time: set it like "
                f"{DATE_TIME_EXAMPLE} (or a date, 2026-01-01)"
            )
        return errors


def numeric_env_settings(schema: t.Mapping[str, t.Any], prefix: str) -> dict[str, t.Any]:
    """The number settings of ``schema`` set as ``<prefix><NAME>`` variables, as numbers.

    The SDK converts integer, boolean, array and object settings but leaves a number
    setting (retry_initial_wait) a string, which then fails validation, and stops with a
    traceback on an integer variable that is not one.
    """
    numeric = {
        name: int if "integer" in prop.get("type", []) else float
        for name, prop in schema["properties"].items()
        if {"integer", "number"} & set(prop.get("type", []))
    }
    converted: dict[str, t.Any] = {}
    for name, kind in numeric.items():
        variable = f"{prefix}{name.upper()}"
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
    return converted


# --- the config as the tap reads and checks it (shared by the tap and the set-up CLI) ------


def checked_schema() -> dict[str, t.Any]:
    """The schema a config is checked against: :data:`CONFIG_JSONSCHEMA` plus the SDK's
    built-in settings of a tap with stream maps and flattening (``stream_maps``,
    ``flattening_enabled``...), as ``PluginBase.append_builtin_config`` adds them."""
    schema = copy.deepcopy(CONFIG_JSONSCHEMA)
    merge_missing_config_jsonschema(STREAM_MAPS_CONFIG, schema)
    merge_missing_config_jsonschema(FLATTENING_CONFIG, schema)
    return schema


def read_config_files(paths: t.Iterable[str | Path]) -> dict[str, t.Any]:
    """JSON config files merged in order (later files win); an unreadable file, one that is
    not JSON or not an object raises :class:`~tap_slack_snow.inputs.InputError`."""
    config: dict[str, t.Any] = {}
    example = '{"client_id": ..., "refresh_token": ...}'
    for path in paths:
        config.update(json_object("config", path, read_json_file("config", path), example))
    return config


def environment_config(
    schema: t.Mapping[str, t.Any] | None = None, prefix: str = ENV_PREFIX
) -> dict[str, t.Any]:
    """The settings set as ``TAP_SLACK_SNOW_*`` variables, as the tap reads them.

    The SDK's parsing (integers, booleans, JSON or ``x,y,z`` lists, objects; it also loads
    a ``.env`` file it finds), with number settings as numbers (:func:`numeric_env_settings`,
    whose :class:`ConfigValidationError` names a variable that is not a number). A JSON
    variable that does not parse raises ``ValueError``.
    """
    schema = dict(checked_schema() if schema is None else schema)
    # Numbers first: the SDK's own int() of a bad integer variable is a traceback.
    converted = numeric_env_settings(schema, prefix)
    return parse_environment_config(schema, prefix) | converted


def load_config(paths: t.Iterable[str | Path] = (), *, parse_env: bool = True) -> dict[str, t.Any]:
    """The config mapping the tap would read: the files, then the environment over them."""
    config = read_config_files(paths)
    if parse_env:
        config.update(environment_config())
    return config


def schema_problems(
    config: dict[str, t.Any], schema: t.Mapping[str, t.Any] | None = None
) -> list[str]:
    """What the JSON Schema check finds, worded as the SDK words it (which also fills the
    schema's defaults into ``config``).

    jsonschema words the schema's failed ``anyOf`` (the two ways to authenticate) as the
    whole config, secrets included, "is not valid under any of the given schemas": that
    line is left out; :meth:`Settings.credential_errors` says what is wrong instead.
    """
    validator = JSONSchemaValidator(checked_schema() if schema is None else schema)
    errors = [_format_validation_error(error) for error in validator.iter_errors(config)]
    return [error for error in errors if ANY_OF_FAILURE not in error]


def config_problems(
    config: dict[str, t.Any], schema: t.Mapping[str, t.Any] | None = None
) -> list[str]:
    """Every problem with a config, one line each, never a secret: the schema's, then the
    rules of :meth:`Settings.errors`. The tap and the set-up CLI both report these."""
    problems = schema_problems(config, schema)
    return problems + Settings.from_config(config).errors()


def validated_settings(
    config: dict[str, t.Any], schema: t.Mapping[str, t.Any] | None = None
) -> Settings:
    """The settings of a config that passes :func:`config_problems`, else
    :class:`ConfigValidationError` with those problems as its ``errors``."""
    problems = config_problems(config, schema)
    if problems:
        raise ConfigValidationError(
            "Config validation failed",
            errors=problems,
            schema=dict(checked_schema() if schema is None else schema),
        )
    return Settings.from_config(config)


def user_agent() -> str:
    """The User-Agent of the tap's requests: ``tap-slack-snow/<version>``."""
    return f"{TAP_NAME}/{get_package_version(TAP_NAME)}"
