"""Whether a stream can run (``tap_slack_snow.run.availability``): the plan x scope x policy
matrix, streams skipped by scope and by edition, and the scope report.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest

from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_emulator import (
    ENTERPRISE_USER_SCOPES,
    STANDARD_USER_SCOPES,
    SlackEmulator,
    WorkspaceConfig,
)
from tests._support import oauth_config, run_cli, sync

CORE = select_only("users", "team", "billing")


@pytest.mark.parametrize(
    ("plan", "scopes", "admin", "expect_skipped"),
    [
        ("free", STANDARD_USER_SCOPES, True, {"access_logs"}),
        ("std", STANDARD_USER_SCOPES, True, set()),
        (
            "plus",
            ["users:read", "team.billing:read"],
            True,
            {"billable_info", "access_logs", "integration_logs"},
        ),
        ("plus", STANDARD_USER_SCOPES, False, {"billable_info", "access_logs", "integration_logs"}),
        ("compliance", STANDARD_USER_SCOPES, True, set()),
    ],
)
@pytest.mark.parametrize("policy", ["skip", "fail"])
def test_availability_policy(
    emulator_factory, tmp_path: Path, plan, scopes, admin, expect_skipped, policy
) -> None:
    emu = emulator_factory(
        WorkspaceConfig(seed=9, users=40, plan=plan, access_logs=50, integration_logs=10)
    )
    refresh_token = emu.issue_refresh_token(scopes=scopes, user_is_admin=admin)
    config = {
        "client_id": emu.client_id,
        "client_secret": emu.client_secret,
        "refresh_token": refresh_token,
        "api_url": emu.url,
        "scim_url": emu.scim_url,
        "token_store_path": str(tmp_path / "t.json"),
        "on_unavailable": policy,
    }
    # team needs team:read, which the Snow Atlas standard list lacks: not part of this matrix
    catalog = select_only("users", "billing", "billable_info", "access_logs", "integration_logs")
    result = run_cli(config, tmp_path, catalog=catalog)
    ran = set(result.records)
    if policy == "skip" or not expect_skipped:
        assert result.exit_code == 0, result.stderr[-1500:]
        assert ran >= {"users", "billing"}
        assert ran.isdisjoint(expect_skipped)
        for stream in expect_skipped:
            warnings = [
                line
                for line in result.stderr.splitlines()
                if f"Skipping stream {stream} (on_unavailable=skip)" in line
            ]
            assert len(warnings) == 1, result.stderr[-3000:]
            assert stream not in (result.state or {}).get("bookmarks", {}) or not result.state[
                "bookmarks"
            ][stream].get("replication_key_value")
    else:
        assert result.exit_code == 1
        assert "Traceback" not in result.stderr


def test_standard_scopes_skip_team_without_team_read(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    """Snow Atlas's standard scope list has no team:read: team is skipped, the rest runs."""
    config = oauth_config(emulator, tmp_path)  # default = standard list
    result = sync(config, catalog=CORE)
    assert result.exit_code == 0
    assert "team" not in result.records
    assert result.count("users") == emulator.workspace.user_count
    # no email without users:read.email
    assert not any("email" in u["profile"] for u in result.records["users"])
    assert emulator.calls["team.info"] == 0  # the scope header told us; no wasted call


def test_enterprise_scopes_run_everything_standard(emulator: SlackEmulator, tmp_path: Path) -> None:
    config = oauth_config(emulator, tmp_path, scopes=ENTERPRISE_USER_SCOPES)
    result = sync(config)
    assert result.exit_code == 0
    assert {"users", "team", "billing", "billable_info", "access_logs", "integration_logs"} <= set(
        result.records
    )
    # Grid-only streams are skipped on a standard workspace, not failed
    assert "admin_users" not in result.records and "member_analytics" not in result.records
    assert emulator.calls["admin.users.list"] == 0


def test_scope_report_tells_what_to_add(emulator: SlackEmulator, tmp_path: Path) -> None:
    config = oauth_config(emulator, tmp_path, scopes=["users:read", "team.billing:read"])
    result = run_cli(config, tmp_path)
    assert result.exit_code == 0
    report = [
        line
        for line in result.stderr.splitlines()
        if "  access_logs " in line or "  team " in line or "  users " in line
    ]
    text = "\n".join(report)
    assert "access_logs" in text and "admin" in text and "skipped: add user scope admin" in text
    assert "team:read" in text
    assert "no emails: add users:read.email" in text
    test_mode = run_cli(config, tmp_path, "--test")
    assert test_mode.exit_code == 0
    assert "Scope report" in test_mode.stderr


def test_the_scope_report_on_free_says_access_logs_is_skipped(
    emulator_factory: t.Callable[..., SlackEmulator], tmp_path: Path
) -> None:
    emu = emulator_factory(WorkspaceConfig(seed=7, users=30, plan="free", access_logs=20))
    config = oauth_config(emu, tmp_path)
    result = run_cli(config, tmp_path, catalog=select_only("users", "access_logs"))
    assert result.exit_code == 0, result.stderr[-3000:]
    report = [ln for ln in result.stderr.splitlines() if "access_logs" in ln and "admin" in ln]
    assert report, result.stderr[-3000:]
    assert "paid_only" in report[0] and " runs" not in report[0]
    assert emu.calls["team.billing.info"] == 1
