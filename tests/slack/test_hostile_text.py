"""Slack's text in log lines and errors (``tap_slack_snow.text.printable``): an error code, a
``needed`` scope, a workspace's or team's name holding newlines and ANSI escapes is shown on
one line, escaped, cut to a bounded length, so a hostile answer cannot forge a log line
("… Stream users done: 0 records") or recolour the terminal.

Black-box: the tap and ``tap-slack-snow-auth check`` run as real processes against the Slack
emulator (a fault, or an answer edited on its way out).
"""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_devkit.emulators import EmulatorFactory
from tap_slack_snow_emulator import ENTERPRISE_USER_SCOPES, Fault, SlackEmulator, WorkspaceConfig
from tests._support import (
    auth_cli,
    oauth_config,
    one_line_failure,
    run_tap,
    static_config,
    warning_lines,
)
from tests.cli.cli_support import REDIRECT, authorize, exchange
from tests.tamper import edit_json

#: A line a hostile answer would like to see in the log, and terminal escapes.
FORGED = "\n2026-01-01 00:00:00,000 | INFO     | tap-slack-snow | Stream users done: 0 records"
ESCAPES = "\x1b[31m\x1b]0;owned\x07"
HOSTILE = f"bad{FORGED}{ESCAPES}" + "x" * 5000


def assert_not_forged(output: str) -> None:
    """No ESC from Slack's text, and the forged text never starts a line of its own."""
    assert "\x1b" not in output
    assert "\x07" not in output
    for line in output.splitlines():
        if "Stream users done: 0 records" in line:
            assert "\\n2026-01-01" in line, line  # inside the line that quotes it, escaped
        assert len(line) < 2000, line[:300]  # Slack's text is cut


def test_an_error_code_is_printed_on_one_safe_line(emulator: SlackEmulator, tmp_path: Path) -> None:
    emulator.add_fault(Fault("users.list", "error", times=None, error=HOSTILE))
    token = emulator.issue_access_token()
    result = run_tap(
        tmp_path, config=static_config(emulator.url, token), catalog=select_only("users")
    )
    line = one_line_failure(result)
    assert "answered 'bad\\n2026-01-01" in line and "\\x1b[31m" in line
    assert "more)" in line  # cut, with a count
    assert_not_forged(result.stderr)


def test_a_needed_scope_is_printed_on_one_safe_line(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    emulator.add_fault(
        Fault("users.list", "error", times=None, error="missing_scope", needed=HOSTILE)
    )
    token = emulator.issue_access_token()
    result = run_tap(
        tmp_path, config=static_config(emulator.url, token), catalog=select_only("users")
    )
    assert result.exit_code == 0, result.stderr[-3000:]  # skipped (on_unavailable=skip)
    skipped = [line for line in warning_lines(result) if "Skipping stream users" in line]
    assert len(skipped) == 1
    assert "scope 'bad\\n2026-01-01" in skipped[0]
    assert_not_forged(result.stderr)


def hostile_member_key(payload: dict[str, t.Any]) -> None:
    payload["billable_info"][HOSTILE] = "not an object"


def test_a_member_key_in_an_error_is_printed_on_one_safe_line(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    edit_json(emulator, "team.billableInfo", hostile_member_key)
    token = emulator.issue_access_token()
    result = run_tap(
        tmp_path, config=static_config(emulator.url, token), catalog=select_only("billable_info")
    )
    line = one_line_failure(result)
    assert "returned user bad\\n2026-01-01" in line and "more) as str" in line
    assert_not_forged(result.stderr)


def hostile_names(payload: dict[str, t.Any]) -> None:
    for team in payload["teams"]:
        team["name"] = HOSTILE


def test_a_workspace_name_is_printed_on_one_safe_line(
    emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    emu = emulator_factory(
        WorkspaceConfig(
            seed=21,
            users=40,
            plan="enterprise",
            enterprise=True,
            workspaces=3,
            denied_workspaces=(1,),
        )
    )
    edit_json(emu, "auth.teams.list", hostile_names)
    denied = emu.workspace.team_ids[1]
    config = oauth_config(emu, tmp_path, scopes=ENTERPRISE_USER_SCOPES, org_level=True)
    result = run_tap(tmp_path, config=config, catalog=select_only("billable_info"))
    assert result.exit_code == 0, result.stderr[-3000:]
    skipped = [line for line in warning_lines(result) if f"Skipping workspace {denied}" in line]
    assert len(skipped) == 1, result.stderr[-3000:]
    assert f"{denied} (bad\\n2026-01-01" in skipped[0]
    assert_not_forged(result.stderr)


def hostile_team(payload: dict[str, t.Any]) -> None:
    payload["team"] = HOSTILE


def test_the_team_name_is_printed_on_one_safe_line_by_check(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    edit_json(emulator, "auth.test", hostile_team)
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(oauth_config(emulator, tmp_path)))
    completed = auth_cli("check", "--config", str(config_path))
    # 3: a stream cannot run with the emulator's default scopes (team); the report is whole
    assert completed.returncode in {0, 3}, completed.stderr + completed.stdout
    team = [line for line in completed.stdout.splitlines() if line.startswith("Team:")]
    assert len(team) == 1 and "Team:       bad\\n2026-01-01" in team[0]
    assert_not_forged(completed.stdout + completed.stderr)


def hostile_grant(payload: dict[str, t.Any]) -> None:
    payload["team"] = {"id": payload["team"]["id"], "name": HOSTILE}


def test_the_team_name_is_printed_on_one_safe_line_by_exchange(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    edit_json(emulator, "oauth.v2.access", hostile_grant)
    params = authorize(emulator)
    code = emulator.issue_auth_code(redirect_uri=REDIRECT)
    store = tmp_path / "tokens.json"
    result = exchange(
        emulator, "--code", code, "--state", params["state"], "--token-store-path", str(store)
    )
    assert result.exit_code == 0, result.output
    team = [line for line in result.stdout.splitlines() if line.startswith("  team:")]
    assert len(team) == 1 and "  team:              bad\\n2026-01-01" in team[0]
    assert_not_forged(result.output)
