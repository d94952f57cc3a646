"""``tap-slack-snow-auth check`` (``tap_slack_snow.cli.check``): what the configured token can
do, per stream, on a Free workspace, a Business+ token missing scopes and a Grid org; its
errors in one line.
"""

from __future__ import annotations

import json
import re
import typing as t
from pathlib import Path

from tap_slack_snow.slack.errors import ERROR_POLICY
from tap_slack_snow_emulator import SlackEmulator
from tests.cli.cli_support import (
    ENTERPRISE,
    STANDARD,
    STREAMS,
    catalog_selecting,
    cli,
    one_line_error,
)


def table(output: str) -> dict[str, list[str]]:
    """The check table as stream -> [needs, granted, will run, what will happen]."""
    rows = {}
    for line in output.splitlines():
        cells = re.split(r"\s{2,}", line.strip(), maxsplit=4)
        if cells and cells[0] in STREAMS and len(cells) == 5:
            rows[cells[0]] = cells[1:]
    return rows


def write_config(tmp_path: Path, **config: t.Any) -> str:
    path = tmp_path / f"config-{len(list(tmp_path.glob('config-*')))}.json"
    path.write_text(json.dumps(config))
    return str(path)


def test_check_free_workspace_flags_access_logs_paid_only(
    emulators: t.Callable[..., SlackEmulator], tmp_path: Path
) -> None:
    emu = emulators(plan="free")
    refresh = emu.issue_refresh_token(scopes=[*STANDARD, "team:read", "users:read.email"])
    # Credentials only in TAP_SLACK_SNOW_* variables, as the tap reads them.
    env = {
        "TAP_SLACK_SNOW_CLIENT_ID": emu.client_id,
        "TAP_SLACK_SNOW_CLIENT_SECRET": emu.client_secret,
        "TAP_SLACK_SNOW_REFRESH_TOKEN": refresh,
        "TAP_SLACK_SNOW_TOKEN_STORE_PATH": str(tmp_path / "tokens.json"),
    }
    config = write_config(tmp_path, api_url=emu.url)
    result = cli("check", "--config", config, env=env)
    assert result.exit_code == 3, result.output
    rows = table(result.stdout)
    assert set(rows) == STREAMS
    assert rows["access_logs"][1:3] == ["yes", "no"]
    assert "paid_only" in rows["access_logs"][3]
    assert ERROR_POLICY["paid_only"].fix in rows["access_logs"][3]
    for name in ("users", "team", "billing", "billable_info", "integration_logs"):
        assert rows[name][2] == "yes", (name, rows[name])
    assert rows["admin_users"][2] == rows["member_analytics"][2] == "n/a"
    assert "Plan:       Free (free)" in result.stdout
    assert "Edition:    standard (detected)" in result.stdout
    assert "1 selected stream(s) cannot run: access_logs" in result.stdout
    assert emu.refreshes == 1  # the token was rotated once, through the tap's provider
    for secret in (emu.client_secret, refresh):
        assert secret not in result.output

    # Deselect access_logs in a catalog: the rest can run, so the check passes.
    catalog = tmp_path / "catalog.json"
    catalog.write_text(
        json.dumps(catalog_selecting(STREAMS - {"access_logs", "admin_users", "member_analytics"}))
    )
    result = cli("check", "--config", config, "--catalog", str(catalog), env=env)
    assert result.exit_code == 0, result.output
    assert set(table(result.stdout)) == {
        "users",
        "team",
        "billing",
        "billable_info",
        "integration_logs",
    }
    assert "All 5 selected streams will run." in result.stdout
    assert emu.refreshes == 1  # the second check reused the stored access token
    assert "stored access token reused" in result.stdout


def test_check_business_plus_token_missing_scopes(
    emulators: t.Callable[..., SlackEmulator], tmp_path: Path
) -> None:
    emu = emulators(plan="plus")
    refresh = emu.issue_refresh_token(scopes=["users:read"])
    config = write_config(
        tmp_path,
        client_id=emu.client_id,
        refresh_token=refresh,
        api_url=emu.url,
        token_store_path=str(tmp_path / "tokens.json"),
    )
    # The secret is not in the config: it comes from SLACK_CLIENT_SECRET.
    result = cli("check", "--config", config, env={"SLACK_CLIENT_SECRET": emu.client_secret})
    assert result.exit_code == 3, result.output
    rows = table(result.stdout)
    assert rows["users"][1:3] == ["yes", "yes"]
    assert "no emails: add users:read.email" in rows["users"][3]
    for name, scope in [
        ("billable_info", "admin"),
        ("access_logs", "admin"),
        ("integration_logs", "admin"),
        ("team", "team:read"),
        ("billing", "team.billing:read"),
    ]:
        assert rows[name][1:3] == ["no", "no"], (name, rows[name])
        assert f"add user scope {scope} " in rows[name][3]
    assert "Plan:       unknown (the token lacks team.billing:read)" in result.stdout
    assert emu.calls["team.billing.info"] == 0
    assert "Scopes:     users:read" in result.stdout
    assert "To add scopes: print a new manifest" in result.stdout
    assert emu.client_secret not in result.output


def test_check_enterprise_org_everything_runs(
    emulators: t.Callable[..., SlackEmulator], tmp_path: Path
) -> None:
    emu = emulators(plan="enterprise", enterprise=True, workspaces=2)
    refresh = emu.issue_refresh_token(scopes=ENTERPRISE, org_level=True)
    config = write_config(
        tmp_path,
        client_id=emu.client_id,
        client_secret=emu.client_secret,
        refresh_token=refresh,
        api_url=emu.url,
        token_store_path=str(tmp_path / "tokens.json"),
    )
    # team_id in a second file: later config files win, as in the tap.
    team = write_config(tmp_path, team_id=emu.workspace.primary_team.id)
    result = cli("check", "--config", config, "--config", team)
    assert result.exit_code == 0, result.output
    rows = table(result.stdout)
    assert set(rows) == STREAMS
    assert all(row[1:3] == ["yes", "yes"] for row in rows.values()), rows
    assert "Plan:       Enterprise Grid (enterprise)" in result.stdout
    assert "Edition:    enterprise (detected)" in result.stdout
    assert "org-level token: yes" in result.stdout
    assert "All 9 selected streams will run." in result.stdout


def test_check_errors_are_one_line(emu: SlackEmulator, tmp_path: Path) -> None:
    empty = write_config(tmp_path, api_url=emu.url)
    error = one_line_error(cli("check", "--config", empty))
    assert "No credentials" in error
    revoked = write_config(
        tmp_path,
        client_id=emu.client_id,
        client_secret=emu.client_secret,
        refresh_token="xoxe-1-not-issued",
        api_url=emu.url,
        token_store_path=str(tmp_path / "tokens.json"),
    )
    error = one_line_error(cli("check", "--config", revoked))
    assert "invalid_refresh_token" in error
    assert ERROR_POLICY["invalid_refresh_token"].fix in error
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert "not valid JSON" in one_line_error(cli("check", "--config", str(broken)))
