"""``tap-slack-snow-auth restore``: load a rescued token chain back into the token store."""

from __future__ import annotations

from pathlib import Path

import click

from tap_slack_snow.auth import open_store
from tap_slack_snow.auth.rescue import restore_from_file
from tap_slack_snow.cli.common import UserError, signals_wait_for_saves
from tap_slack_snow.cli.tap_settings import read_settings
from tap_slack_snow.errors import TapSlackError


@click.command()
@click.option(
    "--from",
    "rescue_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The rescue file a run or exchange named when its token store failed.",
)
@click.option(
    "--config",
    "config_paths",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="The tap's config file (repeatable; later files win): its client_id, "
    "client_secret and token store settings. TAP_SLACK_SNOW_* variables override it.",
)
@click.option(
    "--env-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A .env file whose TAP_SLACK_SNOW_* values are used as if exported.",
)
def restore(*, rescue_file: Path, config_paths: tuple[str, ...], env_file: Path | None) -> None:
    """Load a rescued token chain back into the configured token store.

    When a store failed after Slack had rotated the token, the new tokens were sealed
    (encrypted) into a rescue file. Once the store works again, this puts them back under
    the store's lock, unless the store already holds a chain as new; then the file is
    deleted. The config is the one of the run that wrote the file (its client_id,
    client_secret or token_store_key, refresh_token and store settings): a rescue file of
    another chain is refused, and kept.
    """
    settings = read_settings(config_paths, env_file, validate=False)
    needed = ("client_id", "client_secret", "refresh_token")
    missing = [name for name in needed if not getattr(settings, name)]
    if missing:
        raise UserError(
            f"the config lacks {' and '.join(missing)}: pass the config of the run that wrote "
            "the rescue file (--config FILE, --env-file, or TAP_SLACK_SNOW_* variables); the "
            "refresh_token names the chain the file must belong to"
        )
    try:
        with signals_wait_for_saves():
            store = open_store(settings)
            click.echo(restore_from_file(rescue_file, store))
    except TapSlackError as exc:
        raise UserError(str(exc)) from None
