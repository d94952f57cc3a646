"""``authorize-url``: the first step of the OAuth v2 flow that starts the token chain.

It prints the authorize page's address and remembers its state; ``exchange``
(:mod:`tap_slack_snow.cli.token_exchange`) takes the redirect back.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from urllib.parse import urlencode

import click

from tap_slack_snow.cli.common import (
    DEFAULT_REDIRECT_URL,
    client_id_option,
    edition_option,
    extra_scopes_option,
    state_file_option,
)
from tap_slack_snow.cli.manifest import BOT_SCOPES, user_scopes
from tap_slack_snow.cli.oauth_state import PendingState, StateBook, default_state_file

DEFAULT_OAUTH_URL = "https://slack.com/oauth/v2/authorize"


@click.command("authorize-url")
@edition_option
@client_id_option
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
@extra_scopes_option
@state_file_option
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
