"""The tap's settings: one typed :class:`Settings`, read once from a config.

Every setting's default is written once, in the schema
(:mod:`tap_slack_snow.config_schema`); every rule JSON Schema cannot say (the credential
rule, the token store, workspaces, ``api_url`` and ``start_date``) is here, each problem a
line naming the setting and the fix. Nothing else in the package reads the config mapping:
it is handed a :class:`Settings`. How a config is put together and checked is in
:mod:`tap_slack_snow.config`.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from urllib.parse import urlsplit

from tap_slack_snow.config_schema import CONFIG_JSONSCHEMA, OAUTH_SETTINGS, SECRET_SETTINGS
from tap_slack_snow.inputs import DATE_TIME_EXAMPLE, parse_date_time

T = t.TypeVar("T")

#: The tap's name (its package, its logger, the start of its User-Agent).
TAP_NAME = "tap-slack-snow"
#: Every setting can be set as ``TAP_SLACK_SNOW_<NAME>`` (the SDK's convention for the name).
ENV_PREFIX = "TAP_SLACK_SNOW_"

#: Hosts a plain-HTTP ``scim_url`` may name (a test server on this machine).
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

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
    scim_url: str = DEFAULTS["scim_url"]
    start_date: str | None = None
    edition: str = DEFAULTS["edition"]
    team_id: str | None = None
    team_ids: tuple[str, ...] = ()
    page_size: int = DEFAULTS["page_size"]
    on_unavailable: str = DEFAULTS["on_unavailable"]
    emit_activate_version_messages: bool = DEFAULTS["emit_activate_version_messages"]
    concurrent_fetch: bool = DEFAULTS["concurrent_fetch"]
    max_concurrent_streams: int = DEFAULTS["max_concurrent_streams"]
    max_concurrent_workspaces: int = DEFAULTS["max_concurrent_workspaces"]
    request_timeout: int = DEFAULTS["request_timeout"]
    retry_max_attempts: int = DEFAULTS["retry_max_attempts"]
    retry_initial_wait: float = DEFAULTS["retry_initial_wait"]
    max_rate_limit_wait: float = DEFAULTS["max_rate_limit_wait"]
    keep_nul_characters: bool = DEFAULTS["keep_nul_characters"]
    max_analytics_line_bytes: int = DEFAULTS["max_analytics_line_bytes"]
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
            scim_url=_raw(config, "scim_url") or "",
            start_date=_raw(config, "start_date"),
            edition=_text(config, "edition") or "auto",
            team_id=_text(config, "team_id"),
            team_ids=tuple(str(team) for team in team_ids) if isinstance(team_ids, list) else (),
            page_size=_number(config, "page_size", int) or DEFAULTS["page_size"],
            on_unavailable=_text(config, "on_unavailable") or "skip",
            emit_activate_version_messages=_number(config, "emit_activate_version_messages", bool),
            concurrent_fetch=_number(config, "concurrent_fetch", bool),
            max_concurrent_streams=_number(config, "max_concurrent_streams", int),
            max_concurrent_workspaces=_number(config, "max_concurrent_workspaces", int),
            request_timeout=_number(config, "request_timeout", int),
            retry_max_attempts=_number(config, "retry_max_attempts", int),
            retry_initial_wait=_number(config, "retry_initial_wait", float),
            max_rate_limit_wait=_number(config, "max_rate_limit_wait", float),
            keep_nul_characters=_number(config, "keep_nul_characters", bool),
            max_analytics_line_bytes=_number(config, "max_analytics_line_bytes", int),
            has_stream_maps=bool(config.get("stream_maps")),
        )

    # --- derived ------------------------------------------------------------------------

    @property
    def api_base(self) -> str:
        """``api_url`` without a trailing slash: every call goes to ``{api_base}/{method}``."""
        return (self.api_url or DEFAULTS["api_url"]).rstrip("/")

    @property
    def scim_base(self) -> str:
        """``scim_url`` without a trailing slash: SCIM reads go to ``{scim_base}/Users``."""
        return (self.scim_url or DEFAULTS["scim_url"]).rstrip("/")

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
        errors.extend(self.scim_url_errors())
        if self.start_date is not None and parse_date_time(self.start_date) is None:
            errors.append(
                f"start_date {self.start_date!r} is not an ISO 8601 date-time: set it like "
                f"{DATE_TIME_EXAMPLE} (or a date, 2026-01-01)"
            )
        return errors

    def scim_url_errors(self) -> list[str]:
        """``scim_url``: an http(s) URL, and HTTPS unless it names this machine (the token
        travels to it, so plain HTTP is for a local test server only)."""
        try:
            parts = urlsplit(self.scim_url)
            host = parts.hostname
        except ValueError:  # e.g. an unclosed IPv6 address
            parts, host = urlsplit(""), None
        if parts.scheme not in {"http", "https"} or not host:
            return [
                f"scim_url {self.scim_url!r} is not an http(s) URL: set it to Slack's SCIM "
                f"base URL, {DEFAULTS['scim_url']}"
            ]
        if parts.scheme == "http" and host not in LOCAL_HOSTS:
            return [
                f"scim_url {self.scim_url!r} is plain HTTP: the token would cross the network "
                f"unencrypted; use https:// (Slack's is {DEFAULTS['scim_url']}); http:// is "
                "only for 127.0.0.1 or localhost"
            ]
        return []
