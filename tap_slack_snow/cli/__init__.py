"""``tap-slack-snow-auth``: set up the Slack app, authorise it and check it, in minutes.

Replaces the 15 manual steps of the Snow Atlas "Prepare Slack connector" page:

- ``manifest`` prints a Slack app manifest (scopes, redirect URL, token rotation), so the
  app is created in one paste instead of clicking through scope lists.
- ``authorize-url`` builds the OAuth v2 authorize URL with a fresh, remembered ``state``.
- ``exchange`` turns the address the browser landed on into tokens: it verifies ``state``,
  calls ``oauth.v2.access`` and saves the tokens in the token store the tap reads, so the
  tap's first run needs no refresh.
- ``check`` asks Slack what the configured token can do and prints, per stream, whether it
  will run and the fix when it will not, and which token store is used.
- ``restore`` loads a rescued token chain (written when a store failed after Slack had
  rotated the token) back into the token store.
- ``show-refresh-token`` prints a chain's current refresh token, on request (the store and
  rescue files are encrypted, so this is the way to read one back).

Secrets (the client secret, tokens) never travel on the command line and are never printed
unless ``--show-secrets`` or ``show-refresh-token`` asks for them. Every user mistake ends
with one line and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import click

from tap_slack_snow.cli.authorize import authorize_url
from tap_slack_snow.cli.check import check
from tap_slack_snow.cli.manifest import manifest
from tap_slack_snow.cli.restore import restore
from tap_slack_snow.cli.show_token import show_refresh_token
from tap_slack_snow.cli.token_exchange import exchange


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tap-slack-snow", prog_name="tap-slack-snow-auth")
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

    check and exchange take --format json (one object on stdout, never a secret). Shell
    completion: eval "$(_TAP_SLACK_SNOW_AUTH_COMPLETE=bash_source tap-slack-snow-auth)"
    (zsh_source, fish_source for those shells).
    """


for _command in (manifest, authorize_url, exchange, check, restore, show_refresh_token):
    main.add_command(_command)
