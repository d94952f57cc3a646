"""``tap-slack-snow-auth check``: what the configured token can do, per stream."""

from __future__ import annotations

import json
import os
import time
import typing as t
from pathlib import Path

import click
from singer_sdk.exceptions import ConfigValidationError

from tap_slack_snow.auth import RotatingTokenProvider
from tap_slack_snow.cli.common import ENV_PREFIX, UserError, read_client_secret
from tap_slack_snow.cli.env_file import environment_from
from tap_slack_snow.errors import TapSlackError
from tap_slack_snow.run.plan import format_table
from tap_slack_snow.streams.workspace import PLAN_LABELS
from tap_slack_snow.tap import TapSlackSnow

if t.TYPE_CHECKING:
    from tap_slack_snow.run.session import SlackRun

#: Exit code of ``check`` when a selected stream cannot run (1 = the check itself failed).
EXIT_STREAMS_CANNOT_RUN = 3


def load_config_files(paths: t.Sequence[str]) -> dict[str, t.Any]:
    """Merge JSON config files; later files win, as in the tap."""
    config: dict[str, t.Any] = {}
    for name in paths:
        try:
            data = json.loads(Path(name).read_text(encoding="utf-8"))
        except ValueError as exc:
            raise UserError(f"config file {name} is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise UserError(f"config file {name} must hold a JSON object")
        config.update(data)
    return config


def fill_client_secret(config: dict[str, t.Any]) -> None:
    """Add the client secret from SLACK_CLIENT_SECRET or a prompt when the config lacks it.

    Only for the rotating-token setup (client_id + refresh_token, no secret anywhere yet);
    TAP_SLACK_SNOW_CLIENT_SECRET is read by the tap itself.
    """
    if config.get("client_secret") or config.get("access_token"):
        return
    if os.environ.get(ENV_PREFIX + "CLIENT_SECRET") or os.environ.get(ENV_PREFIX + "ACCESS_TOKEN"):
        return
    has_oauth = config.get("client_id") or os.environ.get(ENV_PREFIX + "CLIENT_ID")
    if has_oauth:
        config["client_secret"] = read_client_secret()


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
    streams on a non-Enterprise workspace are shown as n/a and do not fail the check.
    """
    config = load_config_files(config_paths)
    catalog_dict: dict[str, t.Any] | None = None
    if catalog:
        try:
            catalog_dict = json.loads(Path(catalog).read_text(encoding="utf-8"))
        except ValueError as exc:
            raise UserError(f"catalog {catalog} is not valid JSON: {exc}") from None
    with environment_from(env_file):
        fill_client_secret(config)
        try:
            tap = TapSlackSnow(config=config, catalog=catalog_dict, parse_env_config=True)
        except ConfigValidationError as exc:
            raise UserError(f"invalid config: {'; '.join(exc.errors) or exc}") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise UserError(f"cannot read the config or catalog: {exc}") from None

    run = tap.run
    try:
        store_text = describe_store(run)
    except TapSlackError as exc:
        raise UserError(str(exc)) from None
    try:
        token = describe_token(run)
        identity = run.facts.identity
        plan, plan_text = read_plan(run)
        rows = run.plan.scope_report(tap.selected_slack_streams(), plan=plan)
        workspaces = run.plan.workspace_report()
    except TapSlackError as exc:
        raise UserError(str(exc)) from None

    edition = run.facts.edition
    how = "detected" if run.settings.edition == "auto" else "set in config"
    lines = [
        f"Store:      {store_text}",
        f"Token:      {token}",
        f"Team:       {identity.team_name or '-'} ({identity.team_id or '-'}); enterprise "
        f"{identity.enterprise_id or '-'}; org-level token: "
        f"{'yes' if identity.is_enterprise_install else 'no'}",
        f"User:       {identity.user_id or '-'}",
        f"Edition:    {edition} ({how})",
        f"Plan:       {plan_text}",
        f"Scopes:     {', '.join(sorted(identity.scopes)) or 'unknown (Slack sent none)'}",
        *([workspaces] if workspaces else []),
        "",
    ]
    table: list[tuple[str, str, str, str, str]] = []
    streams = {stream.name: stream for stream in tap.selected_slack_streams()}
    blocked: list[str] = []
    for name, needs, granted, outcome, availability in rows:
        stream = streams[name]
        if availability.runs:
            will_run = "yes"
        elif catalog is None and stream.enterprise_only and edition != "enterprise":
            # Selected only by default, and meaningless on this edition: not a setup fault.
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
