"""``exchange``: the OAuth v2 code for tokens, saved where the tap looks.

The second step of the flow ``authorize-url`` (:mod:`tap_slack_snow.cli.authorize`) starts:
the redirect is checked against the remembered state, the code exchanged, the token chain
started in the token store (or a rescue file), optionally a .env written.
"""

from __future__ import annotations

import time
import typing as t
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import click
import requests

from tap_slack_snow.auth.grant import Grant, Named, parse_grant
from tap_slack_snow.cli.common import (
    DEFAULT_API_URL,
    EXIT_FAILED,
    UserError,
    client_id_option,
    echo_json,
    failures_as,
    format_option,
    logger,
    read_client_secret,
    state_file_option,
)
from tap_slack_snow.cli.next_steps import next_step
from tap_slack_snow.cli.oauth_state import PendingState, StateBook, default_state_file
from tap_slack_snow.cli.tap_setup import StoreOptions, TapSetup, set_up_tap, write_env_file
from tap_slack_snow.errors import TapSlackError
from tap_slack_snow.redact import SecretRedactor
from tap_slack_snow.slack.client import SlackClient
from tap_slack_snow.slack.errors import SlackAPIError, rule_for
from tap_slack_snow.slack.http import SlackHTTPSession
from tap_slack_snow.slack.retry import RetryPolicy
from tap_slack_snow.text import printable


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


def read_code_and_state(
    redirect_response: str | None, code: str | None, state: str | None
) -> tuple[str, str]:
    """The code and the state, from the redirect address or from --code and --state."""
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
    return code, state


def redeem_code(
    book: StateBook,
    state: str,
    *,
    api_url: str,
    client_id: str,
    client_secret: str,
    code: str,
    redirect_uri: str | None,
) -> Grant:
    """Exchange the code for the grant; the state is spent once Slack has looked at the code.

    Only a wrong client secret leaves the state (and the code) usable: Slack refuses the
    secret before it looks at the code.
    """
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
    try:
        return parse_grant(payload, sent_at=sent_at, grant_type="code")
    except TapSlackError as exc:
        raise UserError(str(exc)) from None


def _named(named: Named | None) -> str:
    """``Name (ID)`` of a Slack team/enterprise, ``-`` when absent (printable: both come
    from Slack's answer)."""
    return printable(named.label) if named else "-"


def grant_lines(grant: Grant) -> list[str]:
    """What Slack granted, for the user to check (Slack's text made printable)."""
    return [
        "Authorised. Slack granted:",
        f"  team:              {_named(grant.team)}",
        f"  enterprise:        {_named(grant.enterprise)}",
        f"  org-level install: {'yes' if grant.is_enterprise_install else 'no'}",
        f"  user:              {printable(grant.user_id or '-')}",
        f"  user scopes:       {printable(', '.join(grant.user_scopes) or '-', 2000)}",
        f"  bot scopes:        {printable(grant.bot_scopes or '-', 2000)}",
    ]


def grant_warnings(grant: Grant, pending: PendingState) -> list[str]:
    """What was asked for by authorize-url but not granted."""
    warnings: list[str] = []
    missing = [s for s in pending.user_scopes if s not in grant.user_scopes]
    if missing and grant.user_scopes:
        warnings.append(f"not granted: {', '.join(missing)} (the streams needing them skip)")
    if pending.edition == "enterprise" and not grant.is_enterprise_install:
        warnings.append(
            "this is a workspace install, not an org-wide one: admin_users and "
            "member_analytics need the app installed on the whole org by an Org Owner"
        )
    return warnings


def secret_lines(grant: Grant, *, show_secrets: bool) -> list[str]:
    """The tokens, with --show-secrets; else that they are hidden."""
    if not show_secrets:
        return ["  tokens:            hidden (--show-secrets prints them)"]
    lines = [f"  refresh token:     {grant.refresh_token}"] if grant.refresh_token else []
    return [*lines, f"  access token:      {grant.access_token}"]


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
@format_option
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
    output_format: str,
) -> None:
    """Exchange the authorisation for tokens and save them where the tap looks.

    Exit codes: 0 the tokens are saved in the token store; 1 nothing was exchanged, or the
    store could not be written (the chain is then in the rescue file the output names);
    2 a usage mistake. --format json prints the outcome as one JSON object (never a token).
    """
    if show_secrets and output_format == "json":
        raise click.UsageError("--show-secrets prints tokens as text only; not with --format json")
    with failures_as(output_format):
        exchange_and_report(
            client_id=client_id,
            redirect_response=redirect_response,
            code=code,
            state=state,
            redirect_url=redirect_url,
            api_url=api_url,
            stores=StoreOptions.given(token_store_path, token_store_url, token_store_schema),
            write_env=write_env,
            show_secrets=show_secrets,
            state_file=state_file,
            output_format=output_format,
        )


def exchange_and_report(
    *,
    client_id: str,
    redirect_response: str | None,
    code: str | None,
    state: str | None,
    redirect_url: str | None,
    api_url: str,
    stores: StoreOptions,
    write_env: Path | None,
    show_secrets: bool,
    state_file: Path | None,
    output_format: str,
) -> None:
    """The exchange, then its report as text or JSON; a failed store ends it (exit 1)."""
    code, state = read_code_and_state(redirect_response, code, state)
    book = StateBook(state_file or default_state_file())
    pending = book.verify(state, client_id)
    client_secret = read_client_secret()
    SecretRedactor.add(client_secret)
    stores.check(client_id=client_id, client_secret=client_secret)
    grant = redeem_code(
        book,
        state,
        api_url=api_url,
        client_id=client_id,
        client_secret=client_secret,
        code=code,
        redirect_uri=redirect_url or pending.redirect_uri,
    )
    setup = set_up_tap(
        grant, stores, client_id=client_id, client_secret=client_secret, api_url=api_url
    )
    out = [*grant_lines(grant), *setup.lines, *secret_lines(grant, show_secrets=show_secrets)]
    out += write_env_file(write_env, setup) if write_env else []
    out += next_step(setup, stores, env_file=write_env, show_secrets=show_secrets)
    warnings = grant_warnings(grant, pending)
    if output_format == "json":
        echo_json(exchange_report(grant, setup, warnings, env_file=write_env))
    else:
        click.echo("\n".join(out))
    for warning in warnings:
        click.echo(f"Warning: {warning}", err=True)
    if setup.store_error is not None:
        raise setup.store_error


def exchange_report(
    grant: Grant, setup: TapSetup, warnings: list[str], *, env_file: Path | None
) -> dict[str, t.Any]:
    """The exchange as one JSON-ready object: what Slack granted and where the chain went
    (Slack's text made printable; never a token or the secret)."""
    failed = setup.store_error is not None
    return {
        "outcome": "rescued" if failed else "saved",
        "exit_code": EXIT_FAILED if failed else 0,
        "error": setup.store_error.message if setup.store_error is not None else None,
        "team": _named_json(grant.team),
        "enterprise": _named_json(grant.enterprise),
        "org_level_install": grant.is_enterprise_install,
        "user": grant.user_id,
        "user_scopes": [printable(scope) for scope in grant.user_scopes],
        "bot_scopes": printable(grant.bot_scopes) if grant.bot_scopes else None,
        "rotating": setup.rotating,
        "store": setup.location,
        "chain": setup.chain,
        "rescue_file": str(setup.rescue_file) if setup.rescue_file else None,
        "env_file": str(env_file) if env_file else None,
        "warnings": warnings,
    }


def _named_json(named: Named | None) -> dict[str, str | None] | None:
    if named is None:
        return None
    return {"id": printable(named.id), "name": printable(named.name) if named.name else None}
