"""``tap-slack-snow-auth``: set up the Slack app, authorise it and check it, in minutes.

Replaces the 15 manual steps of the Snow Atlas "Prepare Slack connector" page:

- ``manifest`` prints a Slack app manifest (scopes, redirect URL, token rotation), so the
  app is created in one paste instead of clicking through scope lists.
- ``authorize-url`` builds the OAuth v2 authorize URL with a fresh, remembered ``state``.
- ``exchange`` turns the address the browser landed on into tokens: it verifies ``state``,
  calls ``oauth.v2.access`` and saves the tokens in the token store the tap reads, so the
  tap's first run needs no refresh.
- ``check`` asks Slack what the configured token can do and prints, per stream, whether it
  will run and the fix when it will not.

Secrets (the client secret, tokens) never travel on the command line and are never printed
unless ``--show-secrets`` asks for it. Every user mistake ends with one line and a non-zero
exit code, never a traceback.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import tempfile
import time
import typing as t
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import click
import requests
import yaml  # a dependency of singer-sdk, so no new dependency
from dotenv import dotenv_values  # also a dependency of singer-sdk
from singer_sdk.exceptions import ConfigValidationError

from tap_slack_snow.auth import (
    DEFAULT_EXPIRES_IN,
    RotatingTokenProvider,
    SecretRedactor,
    StoredTokens,
    TokenStore,
    default_token_store_path,
    fingerprint,
)
from tap_slack_snow.errors import TapSlackError, rule_for
from tap_slack_snow.streams import PLAN_LABELS
from tap_slack_snow.tap import TapSlackSnow
from tap_slack_snow.transport import CallStats, RetryPolicy, read_slack_response

if t.TYPE_CHECKING:
    from tap_slack_snow.client import SlackStream

#: User scopes of the Snow Atlas lists (reference §1.1), in the order the page gives them.
ENTERPRISE_USER_SCOPES: tuple[str, ...] = (
    "admin",
    "users:read",
    "team:read",
    "users:read.email",
    "admin.users:read",
    "admin.analytics:read",
    "team.billing:read",
)
STANDARD_USER_SCOPES: tuple[str, ...] = ("admin", "users:read", "team.billing:read")
#: Opt-in for non-Enterprise editions: the team stream needs team:read, and users:read.email
#: adds profile.email to the users stream. Snow Atlas does not ask for them.
EXTRA_STANDARD_USER_SCOPES: tuple[str, ...] = ("team:read", "users:read.email")
BOT_SCOPES: tuple[str, ...] = ("bookmarks:read",)

EDITIONS = ("enterprise", "standard")
DEFAULT_REDIRECT_URL = "https://localhost"
DEFAULT_OAUTH_URL = "https://slack.com/oauth/v2/authorize"
DEFAULT_API_URL = "https://slack.com/api"
DEFAULT_APP_NAME = "tap-slack-snow"
#: Slack's authorisation codes live 10 minutes; a state older than that cannot be useful.
STATE_MAX_AGE_SECONDS = 600
#: Expired states are kept this long only to say "expired" instead of "unknown".
STATE_KEEP_SECONDS = 24 * 3600
STATE_FILE_NAME = "oauth-states.json"
SECRET_ENV_VARS = ("SLACK_CLIENT_SECRET", "TAP_SLACK_SNOW_CLIENT_SECRET")
ENV_PREFIX = "TAP_SLACK_SNOW_"
#: Exit code of ``check`` when a selected stream cannot run (1 = the check itself failed).
EXIT_STREAMS_CANNOT_RUN = 3


logger = logging.getLogger("tap-slack-snow-auth")


class UserError(click.ClickException):
    """A mistake the user can fix: click prints ``Error: <message>`` and exits 1."""


def user_scopes(edition: str, *, extra_scopes: bool = False) -> list[str]:
    """The user scopes to request for an edition (the Snow Atlas list, plus opt-in extras)."""
    if edition == "enterprise":
        return list(ENTERPRISE_USER_SCOPES)
    scopes = list(STANDARD_USER_SCOPES)
    if extra_scopes:
        scopes += [s for s in EXTRA_STANDARD_USER_SCOPES if s not in scopes]
    return scopes


def build_manifest(
    edition: str,
    *,
    redirect_urls: t.Sequence[str],
    app_name: str = DEFAULT_APP_NAME,
    extra_scopes: bool = False,
) -> dict[str, t.Any]:
    """A Slack app manifest for the tap (paste it under "Create New App → From a manifest")."""
    settings: dict[str, t.Any] = {
        # Rotation makes the refresh token the only long-lived secret; the tap rotates it.
        "token_rotation_enabled": True,
    }
    if edition == "enterprise":
        # Org-wide install is what gives the org-level token admin.users.list and
        # admin.analytics.getFile need.
        settings["org_deploy_enabled"] = True
    return {
        "display_information": {
            "name": app_name,
            "description": "Reads Slack users, billing plan and user activity for "
            "tap-slack-snow (Singer)",
        },
        # Slack refuses a manifest with bot scopes but no bot user.
        "features": {"bot_user": {"display_name": app_name, "always_online": False}},
        "oauth_config": {
            "redirect_urls": list(redirect_urls),
            "scopes": {
                "user": user_scopes(edition, extra_scopes=extra_scopes),
                "bot": list(BOT_SCOPES),
            },
        },
        "settings": settings,
    }


def render_manifest(manifest: dict[str, t.Any], output_format: str) -> str:
    """JSON or YAML text of the manifest, keys in the order Slack shows them."""
    if output_format == "json":
        return json.dumps(manifest, indent=2) + "\n"
    return str(
        # width: keep long descriptions on one line instead of YAML's folding.
        yaml.safe_dump(manifest, sort_keys=False, default_flow_style=False, width=10_000)
    )


# --- small file helpers ----------------------------------------------------------------------


def write_private_file(path: Path, text: str) -> None:
    """Write ``text`` atomically with mode 0600 (it may hold secrets or OAuth states)."""
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp_name = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=folder)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def default_state_file() -> Path:
    """The OAuth state file, in the folder of the default token store.

    ``default_token_store_path`` owns the folder choice (XDG_STATE_HOME); the file name it
    derives from the (here irrelevant) token arguments is dropped.
    """
    return default_token_store_path("state", "state").parent / STATE_FILE_NAME


@dataclass
class PendingState:
    """One authorize-url awaiting its exchange (the state itself is kept only as a hash)."""

    state_sha256: str
    created_at: float
    client_id: str
    redirect_uri: str | None
    edition: str
    user_scopes: list[str]


class StateBook:
    """The file of pending OAuth states (mode 0600); each state can be used once."""

    def __init__(self, path: Path) -> None:
        """Point at the state file (created by the first ``add``)."""
        self.path = path

    def _load(self) -> list[PendingState]:
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        try:
            return [PendingState(**entry) for entry in json.loads(raw)["states"]]
        except (ValueError, KeyError, TypeError):
            raise UserError(
                f"the OAuth state file {self.path} is damaged; delete it and run "
                "authorize-url again"
            ) from None

    def _save(self, states: list[PendingState]) -> None:
        payload = {"version": 1, "states": [state.__dict__ for state in states]}
        write_private_file(self.path, json.dumps(payload, indent=1) + "\n")

    def add(self, state: str, entry: PendingState) -> None:
        """Remember a new state (and forget ones too old to matter)."""
        now = time.time()
        kept = [s for s in self._load() if now - s.created_at < STATE_KEEP_SECONDS]
        entry.state_sha256 = fingerprint(state)
        self._save([*kept, entry])

    def consume(self, state: str, client_id: str) -> PendingState:
        """Verify ``state`` and remove it; raise a UserError saying what is wrong."""
        states = self._load()
        digest = fingerprint(state)
        match = next((s for s in states if s.state_sha256 == digest), None)
        if match is None:
            raise UserError(
                "the state in the redirect does not match any authorize-url made on this "
                f"machine (state file {self.path}); it may be forged or already used. Run "
                "authorize-url again and use the address that browser session lands on"
            )
        # Single use, whatever happens next: a replayed redirect must not pass again.
        self._save([s for s in states if s is not match])
        age = time.time() - match.created_at
        if age > STATE_MAX_AGE_SECONDS:
            raise UserError(
                f"the state is {age / 60:.0f} minutes old; authorisations expire after "
                f"{STATE_MAX_AGE_SECONDS // 60} minutes. Run authorize-url again and exchange "
                "the new redirect at once"
            )
        if match.client_id != client_id:
            raise UserError(
                f"the state was issued for client_id {match.client_id}, not {client_id}; "
                "pass the same --client-id to authorize-url and exchange"
            )
        return match


# --- the client secret -----------------------------------------------------------------------


def read_client_secret() -> str:
    """The client secret from the environment, else a hidden prompt; never an option."""
    for name in SECRET_ENV_VARS:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    value = click.prompt(
        "Slack app Client Secret (Basic Information page; input hidden)",
        hide_input=True,
        err=True,  # keep stdout for the command's own output
    )
    value = str(value).strip()
    if not value:
        raise UserError("no client secret given")
    return value


# --- the code exchange -----------------------------------------------------------------------


def parse_redirect_response(url: str) -> tuple[str, str | None]:
    """``code`` and ``state`` from the address the browser landed on after "Allow"."""
    query = urlsplit(url).query if "?" in url else url
    params = {key: values[0] for key, values in parse_qs(query).items() if values}
    error = params.get("error")
    if error:
        raise UserError(
            f"Slack's authorize page redirected with error={error}: {rule_for(error).fix}"
        )
    code = params.get("code")
    if not code:
        raise UserError(
            "the redirect address has no 'code' parameter: paste the full address the "
            "browser shows after clicking Allow (it starts with your redirect URL)"
        )
    return code, params.get("state")


def exchange_code(
    *,
    api_url: str,
    client_id: str,
    client_secret: str,
    code: str,
    redirect_uri: str | None,
    timeout: float = 60.0,
) -> tuple[dict[str, t.Any], float]:
    """POST oauth.v2.access; return Slack's answer and the time it was sent.

    Raises TapSlackError with the fix from the error table when Slack refuses.
    """
    url = api_url.rstrip("/") + "/oauth.v2.access"
    form = {"code": code}
    if redirect_uri:
        form["redirect_uri"] = redirect_uri
    # A code is single-use, so retrying a request Slack may have processed only turns the
    # real error into invalid_code: keep the retry budget small.
    policy = RetryPolicy(max_attempts=3, initial_wait=1.0, logger=logger)
    session = requests.Session()
    sent_at = time.time()

    def send() -> dict[str, t.Any]:
        response = session.post(
            url,
            data=form,
            auth=(client_id, client_secret),  # HTTP Basic, as Slack asks
            timeout=timeout,
        )
        return read_slack_response(response, "oauth.v2.access")

    with session:
        payload = policy.call("oauth.v2.access", send, CallStats(), api_url=api_url)
    return payload, sent_at


def _str(value: t.Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _named(obj: t.Any) -> str:
    """``Name (ID)`` of a Slack team/enterprise object, ``-`` when absent."""
    if not isinstance(obj, dict) or not obj.get("id"):
        return "-"
    name = _str(obj.get("name"))
    return f"{name} ({obj['id']})" if name else str(obj["id"])


def _env_value(value: str) -> str:
    """A .env value python-dotenv reads back unchanged."""
    if value and all(c.isalnum() or c in "._-:/+=@" for c in value):
        return value
    if "'" in value or "\n" in value:
        raise UserError("a value for the .env file contains a quote or newline")
    return f"'{value}'"


def upsert_env_file(path: Path, values: dict[str, str], remove: t.Iterable[str] = ()) -> None:
    """Set ``values`` in a .env file (mode 0600), keeping every other line as it was."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        lines = []
    drop = set(remove)
    pending = dict(values)
    out: list[str] = []
    for line in lines:
        stripped = line.strip()
        body = stripped.removeprefix("export ").lstrip()
        key = body.split("=", 1)[0].strip() if "=" in body and not stripped.startswith("#") else ""
        if key in drop:
            continue
        if key in pending:
            out.append(f"{key}={_env_value(pending.pop(key))}")
            continue
        out.append(line)
    out += [f"{key}={_env_value(value)}" for key, value in pending.items()]
    write_private_file(path, "\n".join(out) + "\n")


def save_tokens(path: Path, *, refresh_token: str, access_token: str, expires_at: float) -> None:
    """Start the tap's token chain with the exchanged tokens (under the store's lock).

    The origin is the fingerprint of this refresh token, which is the one the user puts in
    the config: the tap then recognises the chain and reuses the access token.
    """
    store = TokenStore(path)
    try:
        with store.locked():
            store.save(
                StoredTokens(
                    origin=fingerprint(refresh_token),
                    refresh_token=refresh_token,
                    access_token=access_token,
                    expires_at=expires_at,
                    updated_at=time.time(),
                )
            )
    except (TapSlackError, OSError) as exc:
        raise UserError(f"cannot write the token store {path}: {exc}") from None


# --- check -----------------------------------------------------------------------------------


def load_config_files(paths: t.Sequence[str]) -> dict[str, t.Any]:
    """Merge JSON config files; later files win, as in the tap."""
    config: dict[str, t.Any] = {}
    for name in paths:
        try:
            data = json.loads(Path(name).read_text(encoding="utf-8"))
        except ValueError as exc:
            raise UserError(f"config file {name} is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise UserError(f"config file {name} must hold a JSON object")
        config.update(data)
    return config


def fill_client_secret(config: dict[str, t.Any]) -> None:
    """Add the client secret from SLACK_CLIENT_SECRET or a prompt when the config lacks it.

    Only for the rotating-token setup (client_id + refresh_token, no secret anywhere yet);
    TAP_SLACK_SNOW_CLIENT_SECRET is read by the tap itself.
    """
    if config.get("client_secret") or config.get("access_token"):
        return
    if os.environ.get(ENV_PREFIX + "CLIENT_SECRET") or os.environ.get(ENV_PREFIX + "ACCESS_TOKEN"):
        return
    has_oauth = config.get("client_id") or os.environ.get(ENV_PREFIX + "CLIENT_ID")
    if has_oauth:
        config["client_secret"] = read_client_secret()


@contextlib.contextmanager
def environment_from(env_file: Path | None) -> t.Iterator[None]:
    """Expose a .env file's tap variables while the tap reads its settings, then restore.

    The tap reads ``TAP_SLACK_SNOW_*`` from the environment only when it is built, so the
    process environment is put back afterwards (the SDK may also load a .env of its own).
    """
    saved = dict(os.environ)
    try:
        if env_file is not None:
            values = dotenv_values(env_file)
            os.environ.update(
                {
                    key: value
                    for key, value in values.items()
                    if value is not None and (key.startswith(ENV_PREFIX) or key in SECRET_ENV_VARS)
                }
            )
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def read_plan(tap: TapSlackSnow) -> tuple[str | None, str]:
    """The billing plan key (team.billing.info) and how to show it."""
    granted = tap.identity.scopes
    if granted and "team.billing:read" not in granted:
        return None, "unknown (the token lacks team.billing:read)"
    try:
        payload, _ = tap.call_slack("team.billing.info")
    except TapSlackError as exc:
        return None, f"unknown ({exc})"
    plan = payload.get("plan")
    if not isinstance(plan, str):
        return None, "unknown (team.billing.info returned no plan)"
    return plan, f"{PLAN_LABELS.get(plan or 'free', plan)} ({plan or 'free'})"


def describe_token(tap: TapSlackSnow) -> str:
    """Refresh or validate the token through the tap's provider; say what happened."""
    provider = tap.token_provider
    provider.current()
    if not isinstance(provider, RotatingTokenProvider):
        return "static access token (no rotation)"
    stored = provider.store.load()
    left = ((stored.expires_at or 0) - time.time()) / 60 if stored else 0
    if provider.refreshes:
        return (
            f"rotated: new access token (valid {left:.0f} min) and refresh token saved in "
            f"{provider.store.path}"
        )
    return f"stored access token reused (valid {left:.0f} more min) from {provider.store.path}"


def format_table(header: t.Sequence[str], rows: t.Sequence[t.Sequence[str]]) -> list[str]:
    """Left-aligned text columns; the last column is not padded."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    return [
        "  ".join([*(cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])), row[-1]])
        for row in [header, *rows]
    ]


# --- the commands ----------------------------------------------------------------------------

_edition_option = click.option(
    "--edition",
    type=click.Choice(EDITIONS),
    required=True,
    help="enterprise = Enterprise Grid (org-wide install, 7 user scopes); standard = Free, "
    "Pro, Business+ or Compliance workspaces (3 user scopes).",
)
_extra_scopes_option = click.option(
    "--extra-scopes",
    is_flag=True,
    help="standard only: also request team:read (the tap's team stream needs it) and "
    "users:read.email (emails in the users stream). Enterprise already has both.",
)
_client_id_option = click.option(
    "--client-id",
    required=True,
    envvar=["TAP_SLACK_SNOW_CLIENT_ID", "SLACK_CLIENT_ID"],
    help="The app's Client ID (Basic Information page). Env: TAP_SLACK_SNOW_CLIENT_ID.",
)
_state_file_option = click.option(
    "--state-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where pending OAuth states are kept (default: oauth-states.json beside the default "
    "token store, $XDG_STATE_HOME/tap-slack-snow/).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Set up the Slack app for tap-slack-snow: manifest, OAuth, connection check.

    \b
    1. tap-slack-snow-auth manifest --edition standard > manifest.yaml
       (create the app from it at api.slack.com/apps, copy Client ID and Secret)
    2. tap-slack-snow-auth authorize-url --edition standard --client-id ID
       (open it, click Allow, copy the address the browser lands on)
    3. tap-slack-snow-auth exchange --client-id ID --redirect-response 'URL' --write-env .env
    4. tap-slack-snow-auth check --config config.json

    The client secret is read from SLACK_CLIENT_SECRET or TAP_SLACK_SNOW_CLIENT_SECRET,
    else asked for with a hidden prompt; it is never a command-line option.
    """


@main.command()
@_edition_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["yaml", "json"]),
    default="yaml",
    show_default=True,
    help="Slack's 'From a manifest' dialog accepts both.",
)
@click.option(
    "--redirect-url",
    "redirect_urls",
    multiple=True,
    help=f"Redirect URL(s) of the app (repeatable). Default: {DEFAULT_REDIRECT_URL}; the "
    "browser cannot open it, but its address bar shows the code to paste into exchange.",
)
@click.option("--app-name", default=DEFAULT_APP_NAME, show_default=True, help="App name.")
@_extra_scopes_option
def manifest(
    *,
    edition: str,
    output_format: str,
    redirect_urls: tuple[str, ...],
    app_name: str,
    extra_scopes: bool,
) -> None:
    """Print a Slack app manifest with the scopes the tap needs and token rotation on."""
    data = build_manifest(
        edition,
        redirect_urls=redirect_urls or (DEFAULT_REDIRECT_URL,),
        app_name=app_name,
        extra_scopes=extra_scopes,
    )
    click.echo(render_manifest(data, output_format), nl=False)


@main.command("authorize-url")
@_edition_option
@_client_id_option
@click.option(
    "--redirect-url",
    default=DEFAULT_REDIRECT_URL,
    show_default=True,
    help="One of the app's Redirect URLs; exchange sends the same one.",
)
@click.option(
    "--oauth-url",
    default=DEFAULT_OAUTH_URL,
    show_default=True,
    help="Slack's authorize page (slack-gov.com for GovSlack).",
)
@_extra_scopes_option
@_state_file_option
def authorize_url(
    *,
    edition: str,
    client_id: str,
    redirect_url: str,
    oauth_url: str,
    extra_scopes: bool,
    state_file: Path | None,
) -> None:
    """Print the URL an admin opens to authorise the app (with a fresh, remembered state)."""
    state = secrets.token_urlsafe(32)
    scopes = user_scopes(edition, extra_scopes=extra_scopes)
    book = StateBook(state_file or default_state_file())
    book.add(
        state,
        PendingState(
            state_sha256="",
            created_at=time.time(),
            client_id=client_id,
            redirect_uri=redirect_url or None,
            edition=edition,
            user_scopes=scopes,
        ),
    )
    params = {
        "client_id": client_id,
        "scope": ",".join(BOT_SCOPES),
        "user_scope": ",".join(scopes),
        "redirect_uri": redirect_url,
        "state": state,
    }
    separator = "&" if "?" in oauth_url else "?"
    click.echo(oauth_url + separator + urlencode(params, safe=",:/"))
    who = (
        "an Org Owner, installing on the whole organisation"
        if edition == "enterprise"
        else "a Workspace Admin or Owner"
    )
    click.echo(
        f"Open this URL in a browser signed in as {who}, click Allow, then copy the whole "
        "address the browser lands on and, within 10 minutes, run:\n"
        f"  tap-slack-snow-auth exchange --client-id {client_id} --redirect-response '<address>'",
        err=True,
    )


@main.command()
@_client_id_option
@click.option("--redirect-response", help="The full address the browser landed on after Allow.")
@click.option("--code", help="Only the code parameter of that address (then --state too).")
@click.option("--state", help="The state parameter of that address, with --code.")
@click.option(
    "--redirect-url",
    default=None,
    help="The redirect_uri sent to Slack (default: the one authorize-url used).",
)
@click.option(
    "--api-url",
    default=DEFAULT_API_URL,
    show_default=True,
    envvar="TAP_SLACK_SNOW_API_URL",
    help="Slack Web API base URL (oauth.v2.access is under it).",
)
@click.option(
    "--token-store-path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Token store to write (default: the tap's default for this client_id and "
    "refresh_token, so the tap finds it with the same config).",
)
@click.option(
    "--write-env",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also set TAP_SLACK_SNOW_CLIENT_ID, _CLIENT_SECRET and _REFRESH_TOKEN in this .env "
    "file (mode 0600; other lines are kept).",
)
@click.option("--show-secrets", is_flag=True, help="Print the refresh and access tokens.")
@_state_file_option
def exchange(
    *,
    client_id: str,
    redirect_response: str | None,
    code: str | None,
    state: str | None,
    redirect_url: str | None,
    api_url: str,
    token_store_path: Path | None,
    write_env: Path | None,
    show_secrets: bool,
    state_file: Path | None,
) -> None:
    """Exchange the authorisation for tokens and save them where the tap looks."""
    if bool(redirect_response) == bool(code):
        raise click.UsageError("give exactly one of --redirect-response and --code")
    if redirect_response:
        code, state = parse_redirect_response(redirect_response)
    if not state:
        raise UserError(
            "the redirect has no state: use the address from the URL authorize-url printed "
            "(without a state, a forged redirect cannot be told apart)"
        )
    assert code is not None
    pending = StateBook(state_file or default_state_file()).consume(state, client_id)
    redirect_uri = redirect_url or pending.redirect_uri
    client_secret = read_client_secret()
    SecretRedactor.add(client_secret)
    try:
        payload, sent_at = exchange_code(
            api_url=api_url,
            client_id=client_id,
            client_secret=client_secret,
            code=code,
            redirect_uri=redirect_uri,
        )
    except TapSlackError as exc:
        raise UserError(str(exc)) from None

    authed = payload.get("authed_user")
    authed = authed if isinstance(authed, dict) else {}
    access_token = _str(authed.get("access_token"))
    refresh_token = _str(authed.get("refresh_token"))
    if not access_token:
        raise UserError(
            "Slack granted no user token (authed_user.access_token): the authorize URL must "
            "ask for user scopes; use the URL authorize-url prints"
        )
    SecretRedactor.add(access_token, refresh_token)
    granted = sorted(s for s in str(authed.get("scope") or "").split(",") if s)
    expires_in = authed.get("expires_in")
    if not isinstance(expires_in, int | float) or expires_in <= 0:
        expires_in = DEFAULT_EXPIRES_IN

    out = [
        "Authorised. Slack granted:",
        f"  team:              {_named(payload.get('team'))}",
        f"  enterprise:        {_named(payload.get('enterprise'))}",
        f"  org-level install: {'yes' if payload.get('is_enterprise_install') else 'no'}",
        f"  user:              {_str(authed.get('id')) or '-'}",
        f"  user scopes:       {', '.join(granted) or '-'}",
        f"  bot scopes:        {_str(payload.get('scope')) or '-'}",
    ]
    warnings: list[str] = []
    missing = [s for s in pending.user_scopes if s not in granted]
    if missing and granted:
        warnings.append(f"not granted: {', '.join(missing)} (the streams needing them skip)")
    if pending.edition == "enterprise" and not payload.get("is_enterprise_install"):
        warnings.append(
            "this is a workspace install, not an org-wide one: admin_users and "
            "member_analytics need the app installed on the whole org by an Org Owner"
        )

    env_values: dict[str, str] = {}
    env_remove: list[str] = []
    if refresh_token:
        store_path = (
            token_store_path.expanduser()
            if token_store_path
            else default_token_store_path(client_id, refresh_token)
        )
        save_tokens(
            store_path,
            refresh_token=refresh_token,
            access_token=access_token,
            expires_at=sent_at + float(expires_in),
        )
        out += [
            f"  token rotation:    on (access token valid {float(expires_in) / 3600:.0f} h; the "
            "refresh token is single-use and the tap keeps rotating it)",
            f"  token store:       {store_path}",
        ]
        env_values = {
            ENV_PREFIX + "CLIENT_ID": client_id,
            ENV_PREFIX + "CLIENT_SECRET": client_secret,
            ENV_PREFIX + "REFRESH_TOKEN": refresh_token,
        }
        if token_store_path:
            env_values[ENV_PREFIX + "TOKEN_STORE_PATH"] = str(store_path)
        # The tap refuses access_token next to the refresh-token settings.
        env_remove = [ENV_PREFIX + "ACCESS_TOKEN"]
    else:
        out.append(
            "  token rotation:    OFF (the user token never expires; configure it as "
            "access_token, or enable rotation in the app and authorise again)"
        )
        env_values = {ENV_PREFIX + "ACCESS_TOKEN": access_token}
        env_remove = [ENV_PREFIX + k for k in ("CLIENT_ID", "CLIENT_SECRET", "REFRESH_TOKEN")]

    if show_secrets:
        if refresh_token:
            out.append(f"  refresh token:     {refresh_token}")
        out.append(f"  access token:      {access_token}")
    else:
        out.append("  tokens:            hidden (--show-secrets prints them)")

    if write_env:
        try:
            upsert_env_file(write_env, env_values, env_remove)
        except OSError as exc:
            raise UserError(f"cannot write {write_env}: {exc}") from None
        out.append(f"  .env:              {write_env} ({', '.join(env_values)})")
        out.append(f"Next: tap-slack-snow-auth check --env-file {write_env}")
    elif refresh_token:
        out.append(
            "Next: put client_id, client_secret and refresh_token in the tap's config "
            "(the refresh token is in the token store, key refresh_token; or rerun the flow "
            "with --write-env .env), then run tap-slack-snow-auth check --config config.json"
        )
    else:
        out.append(
            "Next: put the access token in the tap's access_token setting (--show-secrets "
            "or --write-env), then run tap-slack-snow-auth check --config config.json"
        )
    click.echo("\n".join(out))
    for warning in warnings:
        click.echo(f"Warning: {warning}", err=True)


@main.command()
@click.option(
    "--config",
    "config_paths",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Tap config file (repeatable; later files win). TAP_SLACK_SNOW_* variables "
    "override it, as in the tap.",
)
@click.option(
    "--catalog",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Singer catalog: only its selected streams are checked (default: all streams).",
)
@click.option(
    "--env-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A .env file (e.g. from exchange --write-env) whose TAP_SLACK_SNOW_* and "
    "SLACK_CLIENT_SECRET values are used as if exported (they win over the shell's).",
)
def check(*, config_paths: tuple[str, ...], catalog: str | None, env_file: Path | None) -> None:
    """Check the token against Slack and show, per stream, whether it will run.

    Exit codes: 0 every selected stream will run; 3 a selected stream cannot run (the
    table says the fix); 1 the check could not be done. Without --catalog, Enterprise Grid
    streams on a non-Enterprise workspace are shown as n/a and do not fail the check.
    """
    config = load_config_files(config_paths)
    catalog_dict: dict[str, t.Any] | None = None
    if catalog:
        try:
            catalog_dict = json.loads(Path(catalog).read_text(encoding="utf-8"))
        except ValueError as exc:
            raise UserError(f"catalog {catalog} is not valid JSON: {exc}") from None
    with environment_from(env_file):
        fill_client_secret(config)
        try:
            tap = TapSlackSnow(config=config, catalog=catalog_dict, parse_env_config=True)
        except ConfigValidationError as exc:
            raise UserError(f"invalid config: {'; '.join(exc.errors) or exc}") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise UserError(f"cannot read the config or catalog: {exc}") from None

    try:
        token = describe_token(tap)
        identity = tap.identity
        plan, plan_text = read_plan(tap)
        rows = tap.scope_report(plan=plan)
    except TapSlackError as exc:
        raise UserError(str(exc)) from None

    how = "detected" if tap.config.get("edition", "auto") == "auto" else "set in config"
    lines = [
        f"Token:      {token}",
        f"Team:       {identity.team_name or '-'} ({identity.team_id or '-'}); enterprise "
        f"{identity.enterprise_id or '-'}; org-level token: "
        f"{'yes' if identity.is_enterprise_install else 'no'}",
        f"User:       {identity.user_id or '-'}",
        f"Edition:    {tap.edition} ({how})",
        f"Plan:       {plan_text}",
        f"Scopes:     {', '.join(sorted(identity.scopes)) or 'unknown (Slack sent none)'}",
        "",
    ]
    table: list[tuple[str, str, str, str, str]] = []
    blocked: list[str] = []
    for name, needs, granted, outcome in rows:
        stream = t.cast("SlackStream", tap.streams[name])
        if outcome.startswith("runs"):
            will_run = "yes"
        elif catalog is None and stream.enterprise_only and tap.edition != "enterprise":
            # Selected only by default, and meaningless on this edition: not a setup fault.
            will_run = "n/a"
        else:
            will_run = "no"
            blocked.append(name)
        table.append((name, needs, granted, will_run, outcome))
    lines += format_table(("stream", "needs", "granted", "will run", "what will happen"), table)
    lines.append("")
    if blocked:
        lines.append(
            f"{len(blocked)} selected stream(s) cannot run: {', '.join(blocked)}. "
            "Fix them as the table says, or deselect them in the catalog."
        )
        if any(row[2] == "no" and row[3] == "no" for row in table):
            lines.append(
                "To add scopes: print a new manifest (tap-slack-snow-auth manifest "
                f"--edition {tap.edition}"
                + (" --extra-scopes" if tap.edition == "standard" else "")
                + "), update the app with it, then run authorize-url and exchange again."
            )
    else:
        lines.append(f"All {sum(1 for row in table if row[3] == 'yes')} selected streams will run.")
    click.echo("\n".join(lines))
    if blocked:
        raise SystemExit(EXIT_STREAMS_CANNOT_RUN)


if __name__ == "__main__":
    main()
