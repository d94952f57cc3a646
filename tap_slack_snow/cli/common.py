"""What the CLI's commands share: the user-error type, settings names, shared options and
the client secret prompt."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import click

from tap_slack_snow.settings import DEFAULTS

#: The ``api_url`` setting's default (Slack's Web API).
DEFAULT_API_URL: str = DEFAULTS["api_url"]

EDITIONS = ("enterprise", "standard")
DEFAULT_REDIRECT_URL = "https://localhost"
SECRET_ENV_VARS = ("SLACK_CLIENT_SECRET", "TAP_SLACK_SNOW_CLIENT_SECRET")
ENV_PREFIX = "TAP_SLACK_SNOW_"

logger = logging.getLogger("tap-slack-snow-auth")


class UserError(click.ClickException):
    """A mistake the user can fix: click prints ``Error: <message>`` and exits 1."""


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


edition_option = click.option(
    "--edition",
    type=click.Choice(EDITIONS),
    required=True,
    help="enterprise = Enterprise Grid (org-wide install, 7 user scopes); standard = Free, "
    "Pro, Business+ or Compliance workspaces (3 user scopes).",
)
extra_scopes_option = click.option(
    "--extra-scopes",
    is_flag=True,
    help="standard only: also request team:read (the tap's team stream needs it) and "
    "users:read.email (emails in the users stream). Enterprise already has both.",
)
client_id_option = click.option(
    "--client-id",
    required=True,
    envvar=["TAP_SLACK_SNOW_CLIENT_ID", "SLACK_CLIENT_ID"],
    help="The app's Client ID (Basic Information page). Env: TAP_SLACK_SNOW_CLIENT_ID.",
)
state_file_option = click.option(
    "--state-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where pending OAuth states are kept (default: oauth-states.json beside the default "
    "token store, $XDG_STATE_HOME/tap-slack-snow/).",
)
