"""What the CLI's commands share: the user-error type, settings names, shared options and
the client secret prompt."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import threading
import typing as t
from pathlib import Path

import click

from tap_slack_snow.interrupts import defer_signal, exit_code_for, signal_name
from tap_slack_snow.settings import DEFAULTS, ENV_PREFIX

if t.TYPE_CHECKING:
    from types import FrameType

#: The ``api_url`` setting's default (Slack's Web API).
DEFAULT_API_URL: str = DEFAULTS["api_url"]

EDITIONS = ("enterprise", "standard")
DEFAULT_REDIRECT_URL = "https://localhost"
SECRET_ENV_VARS = ("SLACK_CLIENT_SECRET", ENV_PREFIX + "CLIENT_SECRET")
#: The signals that stop a command (exit code 128 + the number).
SIGNALS = (signal.SIGINT, signal.SIGTERM)

logger = logging.getLogger("tap-slack-snow-auth")


class UserError(click.ClickException):
    """A mistake the user can fix: click prints ``Error: <message>`` and exits 1."""


#: Exit code of a command that could not do its job (a user mistake, Slack refused, a store
#: failed); click's usage errors exit 2, a signal 128 + its number.
EXIT_FAILED = 1
OUTPUT_FORMATS = ("text", "json")

format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(OUTPUT_FORMATS),
    default="text",
    show_default=True,
    help="json: one JSON object on stdout (the outcome, never a secret), for CI jobs and "
    "schedulers; a failure is also an object, with the same exit code.",
)


def echo_json(document: dict[str, t.Any]) -> None:
    """One JSON object, one line, on stdout."""
    click.echo(json.dumps(document, sort_keys=True))


@contextlib.contextmanager
def failures_as(output_format: str) -> t.Iterator[None]:
    """With ``--format json``, a :class:`UserError` is also printed as
    ``{"outcome": "error", "error": ..., "exit_code": 1}`` on stdout (the line on stderr
    stays, for people)."""
    try:
        yield
    except UserError as exc:
        if output_format == "json":
            echo_json({"outcome": "error", "error": exc.message, "exit_code": EXIT_FAILED})
        raise


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


def on_signal(signum: int, frame: FrameType | None) -> None:  # noqa: ARG001
    """SIGINT / SIGTERM: exit 130 / 143 with one line, but never between a token refresh
    and its save: a signal then waits for the save (:mod:`tap_slack_snow.interrupts`)."""
    name = signal_name(signum)
    waiting_for = defer_signal(signum)
    if waiting_for is not None:
        logger.info("%s received while %s; stopping once that is done", name, waiting_for)
        return
    logger.error("Interrupted by %s (exit code %d)", name, exit_code_for(signum))
    raise SystemExit(exit_code_for(signum))


@contextlib.contextmanager
def signals_wait_for_saves() -> t.Iterator[None]:
    """Handle SIGINT and SIGTERM with :func:`on_signal` (as the tap does) for a while."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread can set signal handlers
        return
    previous = {signum: signal.signal(signum, on_signal) for signum in SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


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
    "token store, in the user state folder: $XDG_STATE_HOME/tap-slack-snow/ on Linux).",
)
