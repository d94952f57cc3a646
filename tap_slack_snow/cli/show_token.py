"""``tap-slack-snow-auth show-refresh-token``: the current refresh token of a chain, printed
once, on request.

The token store and rescue files are encrypted, so this is the one way to read a refresh
token back: after ``exchange`` without ``--write-env`` (which prints the command with the
chain id and the store), or to move a chain's runs to another config. The token goes to
stdout alone (so it can be piped into a secret manager), a warning to stderr; nothing is
logged.
"""

from __future__ import annotations

import dataclasses
import typing as t
from pathlib import Path

import click

from tap_slack_snow.auth import StoredTokens, open_store
from tap_slack_snow.auth.crypto import StoreKey
from tap_slack_snow.auth.rescue import open_rescue
from tap_slack_snow.cli.common import UserError, read_client_secret
from tap_slack_snow.cli.tap_settings import read_settings
from tap_slack_snow.errors import TapSlackError

if t.TYPE_CHECKING:
    from tap_slack_snow.settings import Settings

COMMAND = "tap-slack-snow-auth show-refresh-token"


def chain_settings(settings: Settings, *, chain: str | None, store_path: Path | None) -> Settings:
    """The settings with ``--token-store-path`` applied, the client secret asked for when
    missing, and a check that the chain and its store can be named."""
    if store_path is not None:
        settings = dataclasses.replace(
            settings, token_store_path=str(store_path.expanduser()), token_store_url=None
        )
    if chain is None and not (settings.client_id and settings.refresh_token):
        raise UserError(
            "name the chain: --chain ID (exchange printed it) or a config with client_id and "
            "refresh_token (--config FILE, --env-file, or TAP_SLACK_SNOW_* variables)"
        )
    named_store = settings.token_store_path or settings.token_store_url
    if chain is not None and not settings.refresh_token and not named_store:
        # The default store's file is named after the configured refresh token.
        raise UserError(
            "with --chain, name the store too: --token-store-path FILE (exchange printed it) "
            "or TAP_SLACK_SNOW_TOKEN_STORE_URL"
        )
    if not (settings.client_secret or settings.token_store_key):
        settings = dataclasses.replace(settings, client_secret=read_client_secret())
    return settings


@click.command("show-refresh-token")
@click.option(
    "--config",
    "config_paths",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="The tap's config file (repeatable; later files win): its chain is shown. "
    "TAP_SLACK_SNOW_* variables override it.",
)
@click.option(
    "--env-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A .env file whose TAP_SLACK_SNOW_* values are used as if exported.",
)
@click.option("--chain", default=None, help="The chain id exchange printed (instead of a config).")
@click.option(
    "--token-store-path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The token store file exchange printed (overrides the config's store).",
)
@click.option(
    "--from",
    "rescue_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Read the chain from this rescue file instead of the store.",
)
def show_refresh_token(
    *,
    config_paths: tuple[str, ...],
    env_file: Path | None,
    chain: str | None,
    token_store_path: Path | None,
    rescue_file: Path | None,
) -> None:
    """Print the current refresh token of a token chain (stdout), once.

    The chain is the config's (client_id and refresh_token), or --chain with the store
    exchange printed, or the one a rescue file (--from) holds. The client secret (or
    token_store_key) decrypts it: from the config, SLACK_CLIENT_SECRET, or a prompt.
    Anyone holding the token can read Slack as the user who authorised the app.
    """
    settings = read_settings(config_paths, env_file, validate=False)
    try:
        if rescue_file is not None:
            secret = settings.token_store_key or settings.client_secret or read_client_secret()
            key = StoreKey.derive(client_secret=secret, token_store_key=settings.token_store_key)
            content: dict[str, t.Any] | None = open_rescue(rescue_file, key)
            where = f"the rescue file {rescue_file}"
        else:
            settings = chain_settings(settings, chain=chain, store_path=token_store_path)
            store = open_store(settings, chain=chain)
            content = store.load()
            if content is None:
                raise UserError(
                    f"{store.location} holds no chain {store.chain}: check the config "
                    "(client_id, refresh_token, store settings) or the --chain and "
                    "--token-store-path given"
                )
            where = store.location
        tokens = StoredTokens.from_content(content or {}, where)
    except TapSlackError as exc:
        raise UserError(str(exc)) from None
    click.echo(
        f"Warning: the line on stdout is the live refresh token of the chain in {where}: "
        "anyone holding it can read Slack as you, so keep it secret. Put it in the "
        "refresh_token of the tap's config for runs that keep using this chain's store; "
        "Slack accepts it once, so it must never start a chain in a second store",
        err=True,
    )
    click.echo(tokens.refresh_token)
