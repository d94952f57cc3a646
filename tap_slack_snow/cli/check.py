"""``tap-slack-snow-auth check``: what the configured token can do, per stream."""

from __future__ import annotations

import logging
import time
import typing as t
from pathlib import Path

import click

from tap_slack_snow.auth import RotatingTokenProvider
from tap_slack_snow.cli.common import (
    UserError,
    echo_json,
    failures_as,
    format_option,
    signals_wait_for_saves,
)
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


def store_facts(run: SlackRun) -> dict[str, t.Any] | None:
    """Which token store the config uses and whether its chain can be read and decrypted
    (None: a static access token needs no store)."""
    provider = run.token_provider
    if not isinstance(provider, RotatingTokenProvider):
        return None
    store = provider.store
    try:
        found = store.load()
    except TapSlackError as exc:
        raise UserError(f"token store {store.location} is not readable: {exc}") from None
    return {"location": store.location, "holds_chain": bool(found), "key": store.key.source}


def token_facts(run: SlackRun) -> dict[str, t.Any]:
    """Refresh or validate the token through the run's provider; what happened."""
    provider = run.token_provider
    provider.current()
    if not isinstance(provider, RotatingTokenProvider):
        return {"rotating": False}
    held = provider.held
    left = ((held.expires_at or 0) - time.time()) / 60 if held else 0
    return {
        "rotating": True,
        "rotated": bool(provider.refreshes),
        "valid_minutes": round(left),
        "store": provider.store.location,
    }


def describe_store(store: dict[str, t.Any] | None) -> str:
    if store is None:
        return "none (a static access token needs no store)"
    held = "holds this chain" if store["holds_chain"] else "no chain yet for this config"
    return f"{store['location']} (readable, {held}; encrypted, key from {store['key']})"


def describe_token(token: dict[str, t.Any]) -> str:
    if not token["rotating"]:
        return "static access token (no rotation)"
    left, where = token["valid_minutes"], token["store"]
    if token["rotated"]:
        return f"rotated: new access token (valid {left} min) and refresh token saved in {where}"
    return f"stored access token reused (valid {left} more min) from {where}"


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
    "SLACK_CLIENT_SECRET values are used as if exported; a variable the shell already has "
    "wins, as in Meltano.",
)
@format_option
def check(
    *,
    config_paths: tuple[str, ...],
    catalog: str | None,
    env_file: Path | None,
    output_format: str,
) -> None:
    """Check the token against Slack and show, per stream, whether it will run.

    Exit codes: 0 every selected stream will run; 3 a selected stream cannot run (the
    table says the fix); 1 the check could not be done; 2 a usage mistake. Without
    --catalog, Enterprise Grid streams on a non-Enterprise workspace, and scim_users on Free
    or Pro, are shown as n/a and do not fail the check. --format json prints the same as
    one JSON object.
    """
    with failures_as(output_format):
        settings = read_settings(config_paths, env_file)
        streams = selected_streams(catalog)
        run = SlackRun(settings, user_agent=user_agent(), logger=logging.getLogger(TAP_NAME))
        with signals_wait_for_saves():
            found = inspect(run, streams, by_default=catalog is None)
    if output_format == "json":
        echo_json(found)
    else:
        click.echo("\n".join(text_report(found)))
    if found["exit_code"]:
        raise SystemExit(found["exit_code"])


def stream_rows(
    run: SlackRun, streams: list[StreamTraits], plan: str | None, *, by_default: bool
) -> list[dict[str, str]]:
    """One row per stream: what it needs, whether it is granted, whether it will run."""
    by_name = {stream.name: stream for stream in streams}
    rows = []
    for name, needs, granted, outcome, availability in run.plan.scope_report(streams, plan=plan):
        stream = by_name[name]
        if availability.runs:
            will_run = "yes"
        elif by_default and (
            (stream.enterprise_only and run.facts.edition != "enterprise")
            or (availability.verdict is Verdict.REFUSED_ON_PLAN and name in PLANS_WITH)
        ):
            # Selected only by default, and meaningless on this edition or plan (scim_users
            # on Free or Pro): not a setup fault.
            will_run = "n/a"
        else:
            will_run = "no"
        rows.append(
            {"stream": name, "needs": needs, "granted": granted, "will_run": will_run}
            | {"outcome": outcome}
        )
    return rows


def inspect(run: SlackRun, streams: list[StreamTraits], *, by_default: bool) -> dict[str, t.Any]:
    """What the token can do, as a JSON-ready object (Slack's text made printable; no
    secret); ``exit_code`` 3 if a selected stream cannot run.

    ``by_default``: every stream is selected because no catalog was given.
    """
    try:
        store = store_facts(run)
        token = token_facts(run)
        identity = run.facts.identity
        plan, plan_text = read_plan(run)
        rows = stream_rows(run, streams, plan, by_default=by_default)
        summary = run.plan.workspace_report(streams)
        workspaces = (
            [{"id": w.id, "name": printable(w.name)} for w in run.workspaces.to_read]
            if summary
            else None
        )
    except TapSlackError as exc:
        raise UserError(str(exc)) from None
    blocked = [row["stream"] for row in rows if row["will_run"] == "no"]
    return {
        "outcome": "streams_cannot_run" if blocked else "ok",
        "exit_code": EXIT_STREAMS_CANNOT_RUN if blocked else 0,
        "store": store,
        "token": token,
        "team": {"id": identity.team_id, "name": printable(identity.team_name or "") or None},
        "enterprise_id": identity.enterprise_id,
        "org_level_token": bool(identity.is_enterprise_install),
        "user": identity.user_id,
        "edition": run.facts.edition,
        "edition_from": "detected" if run.settings.edition == "auto" else "config",
        "plan": plan,
        "plan_text": printable(plan_text),
        "scopes": sorted(printable(scope) for scope in identity.scopes),
        "workspaces": workspaces,
        "workspaces_text": summary,
        "streams": rows,
        "cannot_run": blocked,
    }


def text_report(found: dict[str, t.Any]) -> list[str]:
    """The check as people read it: the facts, the table, what to do."""
    team = found["team"]
    how = "detected" if found["edition_from"] == "detected" else "set in config"
    scopes = printable(", ".join(found["scopes"]), 2000)
    lines = [
        f"Store:      {describe_store(found['store'])}",
        f"Token:      {describe_token(found['token'])}",
        f"Team:       {printable(team['name'] or '-')} ({printable(team['id'] or '-')}); "
        f"enterprise {printable(found['enterprise_id'] or '-')}; org-level token: "
        f"{'yes' if found['org_level_token'] else 'no'}",
        f"User:       {printable(found['user'] or '-')}",
        f"Edition:    {found['edition']} ({how})",
        f"Plan:       {found['plan_text']}",
        f"Scopes:     {scopes or 'unknown (Slack sent none)'}",
        *([found["workspaces_text"]] if found["workspaces_text"] else []),
        "",
    ]
    table = [tuple(row.values()) for row in found["streams"]]
    lines += format_table(("stream", "needs", "granted", "will run", "what will happen"), table)
    lines.append("")
    blocked = found["cannot_run"]
    if not blocked:
        ready = sum(1 for row in found["streams"] if row["will_run"] == "yes")
        return [*lines, f"All {ready} selected streams will run."]
    lines.append(
        f"{len(blocked)} selected stream(s) cannot run: {', '.join(blocked)}. "
        "Fix them as the table says, or deselect them in the catalog."
    )
    if any(row["granted"] == "no" and row["will_run"] == "no" for row in found["streams"]):
        edition = found["edition"]
        lines.append(
            "To add scopes: print a new manifest (tap-slack-snow-auth manifest "
            f"--edition {edition}"
            + (" --extra-scopes" if edition == "standard" else "")
            + "), update the app with it, then run authorize-url and exchange again."
        )
    return lines
