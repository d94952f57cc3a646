"""``tap-slack-snow-auth check``: what the configured token can do, per stream."""

from __future__ import annotations

import logging
import time
import typing as t
from pathlib import Path

import click

from tap_slack_snow.auth import RotatingTokenProvider
from tap_slack_snow.cli.common import UserError, signals_wait_for_saves
from tap_slack_snow.cli.tap_settings import read_settings
from tap_slack_snow.config import user_agent
from tap_slack_snow.errors import TapSlackError
from tap_slack_snow.inputs import (
    NOTHING_SELECTED,
    check_catalog,
    read_json_file,
    selected_stream_ids,
)
from tap_slack_snow.run.availability import PLAN_LABELS, PLANS_WITH, Verdict
from tap_slack_snow.run.plan import format_table
from tap_slack_snow.run.session import SlackRun
from tap_slack_snow.settings import TAP_NAME
from tap_slack_snow.streams import STREAM_TYPES
from tap_slack_snow.text import printable

if t.TYPE_CHECKING:
    from tap_slack_snow.run.availability import StreamTraits

#: Exit code of ``check`` when a selected stream cannot run (1 = the check itself failed).
EXIT_STREAMS_CANNOT_RUN = 3


def selected_streams(catalog: str | None) -> list[StreamTraits]:
    """The stream classes a catalog file selects (all without one), by name as the tap
    lists them; the catalog's mistakes are the tap's one-line errors."""
    streams: list[StreamTraits] = list(STREAM_TYPES)
    streams.sort(key=lambda stream: stream.name)
    if catalog is None:
        return streams
    try:
        value = check_catalog(catalog, read_json_file("catalog", catalog))
        chosen = set(selected_stream_ids(value, [stream.name for stream in streams]))
    except TapSlackError as exc:
        raise UserError(str(exc)) from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UserError(f"cannot read the catalog: {exc}") from None
    if not chosen:
        logging.getLogger(TAP_NAME).warning(
            NOTHING_SELECTED, ", ".join(stream.name for stream in streams)
        )
    return [stream for stream in streams if stream.name in chosen]


def read_plan(run: SlackRun) -> tuple[str | None, str]:
    """The billing plan key (team.billing.info) and how to show it."""
    granted = run.facts.identity.scopes
    if granted and "team.billing:read" not in granted:
        return None, "unknown (the token lacks team.billing:read)"
    try:
        payload = run.client.call("team.billing.info").payload
    except TapSlackError as exc:
        return None, f"unknown ({exc})"
    plan = payload.get("plan")
    if not isinstance(plan, str):
        return None, "unknown (team.billing.info returned no plan)"
    return plan, f"{PLAN_LABELS.get(plan or 'free', plan)} ({plan or 'free'})"


def describe_store(run: SlackRun) -> str:
    """Which token store the config uses, and whether its chain can be read and decrypted."""
    provider = run.token_provider
    if not isinstance(provider, RotatingTokenProvider):
        return "none (a static access token needs no store)"
    store = provider.store
    try:
        found = store.load()
    except TapSlackError as exc:
        raise UserError(f"token store {store.location} is not readable: {exc}") from None
    held = "holds this chain" if found else "no chain yet for this config"
    return f"{store.location} (readable, {held}; encrypted, key from {store.key.source})"


def describe_token(run: SlackRun) -> str:
    """Refresh or validate the token through the run's provider; say what happened."""
    provider = run.token_provider
    provider.current()
    if not isinstance(provider, RotatingTokenProvider):
        return "static access token (no rotation)"
    held = provider.held
    left = ((held.expires_at or 0) - time.time()) / 60 if held else 0
    where = provider.store.location
    if provider.refreshes:
        return (
            f"rotated: new access token (valid {left:.0f} min) and refresh token saved in {where}"
        )
    return f"stored access token reused (valid {left:.0f} more min) from {where}"


@click.command()
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
    streams on a non-Enterprise workspace, and scim_users on Free or Pro, are shown as n/a
    and do not fail the check.
    """
    settings = read_settings(config_paths, env_file)
    streams = selected_streams(catalog)
    run = SlackRun(settings, user_agent=user_agent(), logger=logging.getLogger(TAP_NAME))
    with signals_wait_for_saves():
        report(run, streams, by_default=catalog is None)


def report(run: SlackRun, streams: list[StreamTraits], *, by_default: bool) -> None:
    """Print what the token can do and the table; exit 3 if a selected stream cannot run.

    ``by_default``: every stream is selected because no catalog was given.
    """
    try:
        store_text = describe_store(run)
    except TapSlackError as exc:
        raise UserError(str(exc)) from None
    try:
        token = describe_token(run)
        identity = run.facts.identity
        plan, plan_text = read_plan(run)
        rows = run.plan.scope_report(streams, plan=plan)
        workspaces = run.plan.workspace_report(streams)
    except TapSlackError as exc:
        raise UserError(str(exc)) from None

    edition = run.facts.edition
    how = "detected" if run.settings.edition == "auto" else "set in config"
    # Names, ids, scopes and the plan come from Slack's answers: printable, one line each.
    scopes = printable(", ".join(sorted(identity.scopes)), 2000)
    lines = [
        f"Store:      {store_text}",
        f"Token:      {token}",
        f"Team:       {printable(identity.team_name or '-')} "
        f"({printable(identity.team_id or '-')}); enterprise "
        f"{printable(identity.enterprise_id or '-')}; org-level token: "
        f"{'yes' if identity.is_enterprise_install else 'no'}",
        f"User:       {printable(identity.user_id or '-')}",
        f"Edition:    {edition} ({how})",
        f"Plan:       {printable(plan_text)}",
        f"Scopes:     {scopes or 'unknown (Slack sent none)'}",
        *([workspaces] if workspaces else []),
        "",
    ]
    table: list[tuple[str, str, str, str, str]] = []
    by_name = {stream.name: stream for stream in streams}
    blocked: list[str] = []
    for name, needs, granted, outcome, availability in rows:
        stream = by_name[name]
        if availability.runs:
            will_run = "yes"
        elif by_default and (
            (stream.enterprise_only and edition != "enterprise")
            or (availability.verdict is Verdict.REFUSED_ON_PLAN and name in PLANS_WITH)
        ):
            # Selected only by default, and meaningless on this edition or plan (scim_users
            # on Free or Pro): not a setup fault.
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
                f"--edition {edition}"
                + (" --extra-scopes" if edition == "standard" else "")
                + "), update the app with it, then run authorize-url and exchange again."
            )
    else:
        lines.append(f"All {sum(1 for row in table if row[3] == 'yes')} selected streams will run.")
    click.echo("\n".join(lines))
    if blocked:
        raise SystemExit(EXIT_STREAMS_CANNOT_RUN)
