"""The tap's config schema (what ``--about`` prints and Meltano Hub reads), and the names of
the credential and secret settings.

Each setting's default is written here, once; :mod:`tap_slack_snow.settings` reads them.
"""

from __future__ import annotations

import typing as t

from singer_sdk import typing as th

OAUTH_SETTINGS = ("client_id", "client_secret", "refresh_token")
SECRET_SETTINGS = ("client_secret", "refresh_token", "access_token", "token_store_key")
#: The two ways to authenticate, in the config schema (a config checker reads the ``anyOf``).
#: :meth:`Settings.credential_errors` says what is wrong, in the tap's words.
AUTH_ANY_OF = [{"required": list(OAUTH_SETTINGS)}, {"required": ["access_token"]}]
#: The OAuth set as ``dependentRequired``, the only shape Meltano Hub's tooling (hub-utils)
#: turns into a settings group when it builds a definition from ``--about``: it reads
#: ``required`` and ``dependentRequired``, never ``anyOf``. (A one-setting group such as
#: ``[access_token]`` cannot be said this way; hub/tap-slack-snow.yml adds it by hand.)
AUTH_DEPENDENT_REQUIRED = {OAUTH_SETTINGS[0]: list(OAUTH_SETTINGS[1:])}
#: How jsonschema words a failed ``anyOf`` (after the whole config, secrets included) and a
#: failed ``dependentRequired``: both left to :meth:`Settings.credential_errors`.
CREDENTIAL_RULE_FAILURES = ("is not valid under any of the given schemas", "is a dependency of")


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
        "`tokens-<hash>.json` in the user state folder: `$XDG_STATE_HOME/tap-slack-snow` on "
        "Linux (`~/.local/state` when XDG_STATE_HOME is unset), "
        "`~/Library/Application Support/tap-slack-snow` on macOS, "
        "`%LOCALAPPDATA%/tap-slack-snow` on Windows. "
        "It is the only place the rotated refresh token survives "
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
        "no cache. Needs the package's postgres extra (`tap-slack-snow[postgres]`). The table "
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
        "scim_url",
        th.StringType,
        default="https://api.slack.com/scim/v2",
        title="SCIM URL",
        description="Base URL of Slack's SCIM v2 API, read by the scim_users stream "
        "(`GET {scim_url}/Users`; Business+ and Enterprise Grid). The token is sent only to "
        "this host and api_url's; plain http:// only for 127.0.0.1 or localhost.",
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
        description="Send ACTIVATE_VERSION after the records of each full-table stream read "
        "to its end (never for a stream that failed or was cut short), so a target can mark "
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
        "max_concurrent_workspaces",
        th.IntegerType(minimum=1),
        default=10,
        title="Max Concurrent Workspaces",
        description="Enterprise Grid, org-level token: how many workspaces each per-workspace "
        "stream (users, team, billable_info, integration_logs) reads at once with "
        "concurrent_fetch. Slack counts rate limits per method and workspace, so each "
        "workspace read at once has its own allowance; each is one request in flight and one "
        "page in memory. 1 reads a stream's workspaces one after another.",
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
    th.Property(
        "keep_nul_characters",
        th.BooleanType,
        default=False,
        title="Keep NUL Characters",
        description="Keep NUL characters (`\\u0000`) in strings from Slack. By default they "
        "are removed, with one warning per field, because PostgreSQL (target-postgres) "
        "cannot store them and fails the whole load; set true for a target that can.",
    ),
    th.Property(
        "max_analytics_line_bytes",
        th.IntegerType(minimum=1024),
        default=16777216,
        title="Max Analytics Line Bytes",
        description="The longest line of a member_analytics day file the tap reads (default "
        "16 MiB; a row is under 1 KB). A longer line fails the run with one line naming "
        "the day, instead of the tap's memory growing with the line.",
    ),
).to_dict() | {"anyOf": AUTH_ANY_OF, "dependentRequired": AUTH_DEPENDENT_REQUIRED}
