"""``exchange``: the OAuth v2 code for tokens, saved where the tap looks.

The second step of the flow ``authorize-url`` (:mod:`tap_slack_snow.cli.authorize`) starts:
the redirect is checked against the remembered state, the code exchanged, the token chain
started in the token store (or a rescue file), optionally a .env written.
"""

from __future__ import annotations

import os
import time
import typing as t
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import click
import requests

from tap_slack_snow.auth import (
    DEFAULT_EXPIRES_IN,
    ChainStore,
    StoredTokens,
    fingerprint,
    open_store,
)
from tap_slack_snow.auth.rescue import RESTORE_COMMAND, write_rescue
from tap_slack_snow.cli.common import (
    DEFAULT_API_URL,
    ENV_PREFIX,
    UserError,
    client_id_option,
    logger,
    read_client_secret,
    state_file_option,
)
from tap_slack_snow.cli.env_file import upsert_env_file
from tap_slack_snow.cli.oauth_state import StateBook, default_state_file
from tap_slack_snow.errors import TapSlackError
from tap_slack_snow.redact import SecretRedactor
from tap_slack_snow.run.facts import str_or_none
from tap_slack_snow.slack.client import SlackClient
from tap_slack_snow.slack.errors import SlackAPIError, rule_for
from tap_slack_snow.slack.http import SlackHTTPSession
from tap_slack_snow.slack.retry import RetryPolicy


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
    form = {"code": code}
    if redirect_uri:
        form["redirect_uri"] = redirect_uri
    # A code is single-use, so retrying a request Slack may have processed only turns the
    # real error into invalid_code: keep the retry budget small.
    policy = RetryPolicy(max_attempts=3, initial_wait=1.0, logger=logger)
    sent_at = time.time()
    with SlackHTTPSession() as session:
        client = SlackClient(api_url=api_url, http=session, retry=policy, timeout=timeout)
        answer = client.call(
            "oauth.v2.access",
            data=form,
            auth=requests.auth.HTTPBasicAuth(client_id, client_secret),  # as Slack asks
        )
        payload = answer.payload
    return payload, sent_at


def _named(obj: t.Any) -> str:
    """``Name (ID)`` of a Slack team/enterprise object, ``-`` when absent."""
    if not isinstance(obj, dict) or not obj.get("id"):
        return "-"
    name = str_or_none(obj.get("name"))
    return f"{name} ({obj['id']})" if name else str(obj["id"])


def save_tokens(
    store: ChainStore, *, refresh_token: str, access_token: str, expires_at: float
) -> None:
    """Start the tap's token chain with the exchanged tokens (under the store's lock).

    The origin is the fingerprint of this refresh token, which is the one the user puts in
    the config: the tap then recognises the chain and reuses the access token. A store that
    cannot take them loses nothing: the tokens go to a rescue file.
    """
    tokens = StoredTokens(
        origin=fingerprint(refresh_token),
        refresh_token=refresh_token,
        access_token=access_token,
        expires_at=expires_at,
        updated_at=time.time(),
    )
    try:
        with store.locked():
            store.save(tokens.content())
    except TapSlackError as exc:
        path = write_rescue(store, tokens.content())
        if path is None:
            raise UserError(
                f"{exc}, and no other folder could take the new tokens: authorise again "
                "once the store is fixed"
            ) from None
        raise UserError(
            f"{exc}; the new tokens are kept in {path} (encrypted, mode 0600): once the store "
            f"is fixed, run '{RESTORE_COMMAND} {path}' with the tap's config"
        ) from None


@click.command()
@client_id_option
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
    # The tap's own setting, so `meltano invoke tap-slack-snow:auth-exchange` writes where
    # the tap will read.
    envvar="TAP_SLACK_SNOW_TOKEN_STORE_PATH",
    help="Token store to write (default: TAP_SLACK_SNOW_TOKEN_STORE_PATH, else the tap's "
    "default for this client_id and refresh_token, so the tap finds it with the same config).",
)
@click.option(
    "--token-store-url",
    default=None,
    envvar="TAP_SLACK_SNOW_TOKEN_STORE_URL",
    help="Start the chain in this PostgreSQL database instead (the tap's token_store_url; "
    "needs tap-slack-snow[postgres]). Env: TAP_SLACK_SNOW_TOKEN_STORE_URL.",
)
@click.option(
    "--token-store-schema",
    default=None,
    envvar="TAP_SLACK_SNOW_TOKEN_STORE_SCHEMA",
    help="Schema of the token store table (default public), with --token-store-url.",
)
@click.option(
    "--write-env",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also set TAP_SLACK_SNOW_CLIENT_ID, _CLIENT_SECRET and _REFRESH_TOKEN in this .env "
    "file (mode 0600; other lines are kept).",
)
@click.option("--show-secrets", is_flag=True, help="Print the refresh and access tokens.")
@state_file_option
def exchange(
    *,
    client_id: str,
    redirect_response: str | None,
    code: str | None,
    state: str | None,
    redirect_url: str | None,
    api_url: str,
    token_store_path: Path | None,
    token_store_url: str | None,
    token_store_schema: str | None,
    write_env: Path | None,
    show_secrets: bool,
    state_file: Path | None,
) -> None:
    """Exchange the authorisation for tokens and save them where the tap looks."""
    if token_store_path and token_store_url:
        raise click.UsageError("give at most one of --token-store-path and --token-store-url")
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
    book = StateBook(state_file or default_state_file())
    pending = book.verify(state, client_id)
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
    except SlackAPIError as exc:
        if exc.code == "bad_client_secret":
            # Slack refuses the secret before it looks at the code: both stay usable.
            raise UserError(
                f"{exc}; the authorisation is still valid for a few minutes: run the same "
                "exchange command again with the right secret"
            ) from None
        book.forget(state)
        raise UserError(str(exc)) from None
    except TapSlackError as exc:
        book.forget(state)
        raise UserError(str(exc)) from None
    book.forget(state)

    authed = payload.get("authed_user")
    authed = authed if isinstance(authed, dict) else {}
    access_token = str_or_none(authed.get("access_token"))
    refresh_token = str_or_none(authed.get("refresh_token"))
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
        f"  user:              {str_or_none(authed.get('id')) or '-'}",
        f"  user scopes:       {', '.join(granted) or '-'}",
        f"  bot scopes:        {str_or_none(payload.get('scope')) or '-'}",
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
    store_error: UserError | None = None
    if refresh_token:
        store_settings = {
            "client_id": client_id,
            "client_secret": client_secret,
            "refresh_token": refresh_token,
            "token_store_path": str(token_store_path.expanduser()) if token_store_path else None,
            "token_store_url": token_store_url,
            "token_store_schema": token_store_schema,
            "token_store_key": os.environ.get(ENV_PREFIX + "TOKEN_STORE_KEY") or None,
        }
        try:
            store = open_store(store_settings)
        except TapSlackError as exc:
            raise UserError(str(exc)) from None
        try:
            save_tokens(
                store,
                refresh_token=refresh_token,
                access_token=access_token,
                expires_at=sent_at + float(expires_in),
            )
        except UserError as exc:
            store_error = exc  # the .env is still written: it holds the refresh token
        out += [
            f"  token rotation:    on (access token valid {float(expires_in) / 3600:.0f} h; the "
            "refresh token is single-use and the tap keeps rotating it)",
            f"  token store:       {store.location}" + (" (NOT written)" if store_error else ""),
        ]
        env_values = {
            ENV_PREFIX + "CLIENT_ID": client_id,
            ENV_PREFIX + "CLIENT_SECRET": client_secret,
            ENV_PREFIX + "REFRESH_TOKEN": refresh_token,
        }
        if token_store_path:
            env_values[ENV_PREFIX + "TOKEN_STORE_PATH"] = store.location
        if token_store_url:
            env_values[ENV_PREFIX + "TOKEN_STORE_URL"] = token_store_url
            if token_store_schema:
                env_values[ENV_PREFIX + "TOKEN_STORE_SCHEMA"] = token_store_schema
        if api_url.rstrip("/") != DEFAULT_API_URL:
            # The refresh must go where the code was exchanged (e.g. GovSlack).
            env_values[ENV_PREFIX + "API_URL"] = api_url
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
    if store_error is not None:
        raise store_error
