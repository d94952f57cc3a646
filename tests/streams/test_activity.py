"""Activity streams: billable_info, access_logs, integration_logs; availability policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_emulator import (
    ENTERPRISE_USER_SCOPES,
    STANDARD_USER_SCOPES,
    Fault,
    SlackEmulator,
    WorkspaceConfig,
)
from tests._support import oauth_config, run_cli, sync

ACTIVITY = select_only("billable_info", "access_logs", "integration_logs")


def keys(records: list[dict]) -> set[tuple]:
    return {(r["user_id"], r["ip"], r["user_agent"]) for r in records}


def test_billable_info_one_record_per_billable_user(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    result = sync(
        oauth_config(emulator, tmp_path, page_size=50), catalog=select_only("billable_info")
    )
    assert result.exit_code == 0
    records = result.records["billable_info"]
    assert {r["user_id"] for r in records} == set(emulator.workspace.billable_user_ids())
    assert len(records) == len(emulator.workspace.billable_user_ids())
    assert {type(r["billing_active"]) for r in records} == {bool}
    assert all(r["team_id"] for r in records)


def test_access_logs_full_history_over_many_windows_with_ties(
    emulator_factory, tmp_path: Path
) -> None:
    # page_size 10 makes a window 100 pages x 10 = 1000 entries: 4,500 entries need 5 windows
    emu = emulator_factory(
        WorkspaceConfig(seed=5, users=300, access_logs=4500, access_log_tie_size=37)
    )
    result = sync(oauth_config(emu, tmp_path, page_size=10), catalog=select_only("access_logs"))
    assert result.exit_code == 0
    records = result.records["access_logs"]
    expected = emu.workspace.access_log_entries()
    assert keys(records) == keys(expected)
    assert len(records) == len(expected)  # no duplicates at the window edges
    assert emu.calls["team.accessLogs"] <= len(expected) // 10 + 5  # near the page minimum
    newest = max(e["date_last"] for e in expected)
    bookmark = result.state["bookmarks"]["access_logs"]["replication_key_value"]
    assert bookmark == records[0]["date_last"] and records[0]["date_last_unix"] == newest


def test_access_logs_incremental_second_run(emulator_factory, tmp_path: Path) -> None:
    emu = emulator_factory(WorkspaceConfig(seed=6, users=200, access_logs=1500))
    config = oauth_config(emu, tmp_path, page_size=100)
    first = sync(config, catalog=select_only("access_logs"))
    assert first.count("access_logs") == 1500
    emu.workspace.touch_access_logs(7)
    emu.workspace.add_access_logs(5)
    calls_before = emu.calls["team.accessLogs"]
    second = sync(config, state=first.state, catalog=select_only("access_logs"))
    assert second.exit_code == 0
    changed = emu.workspace.access_log_entries()[:12]
    assert keys(changed) <= keys(second.records["access_logs"])
    old_bookmark = first.state["bookmarks"]["access_logs"]["replication_key_value"]
    assert all(r["date_last"] >= old_bookmark for r in second.records["access_logs"])
    assert second.count("access_logs") < 30  # only what changed, plus the bookmark second
    assert emu.calls["team.accessLogs"] - calls_before == 1
    assert second.state["bookmarks"]["access_logs"]["replication_key_value"] > old_bookmark


def test_access_logs_interrupted_run_resumes_without_loss(emulator_factory, tmp_path: Path) -> None:
    emu = emulator_factory(WorkspaceConfig(seed=7, users=200, access_logs=3000))
    config = oauth_config(emu, tmp_path, page_size=100)
    clean = sync(config, catalog=select_only("access_logs"))
    prior_state = clean.state
    emu.workspace.add_access_logs(400)
    emu.add_fault(
        Fault(
            method="team.accessLogs",
            kind="error",
            error="invalid_auth",
            on_call=emu.calls["team.accessLogs"] + 3,
        )
    )
    broken = sync(config, state=prior_state, catalog=select_only("access_logs"))
    assert broken.exit_code == 1
    assert 0 < broken.count("access_logs") < 400
    # the bookmark did not move past what the broken run emitted
    assert (
        broken.state["bookmarks"]["access_logs"].get("replication_key_value")
        == prior_state["bookmarks"]["access_logs"]["replication_key_value"]
    )
    emu.clear_faults()
    resumed = sync(config, state=broken.state, catalog=select_only("access_logs"))
    assert resumed.exit_code == 0
    newest_400 = emu.workspace.access_log_entries()[:400]
    assert keys(newest_400) <= keys(resumed.records["access_logs"])


def test_integration_logs_keys_dates_and_incremental(emulator_factory, tmp_path: Path) -> None:
    emu = emulator_factory(WorkspaceConfig(seed=8, users=50, integration_logs=260))
    config = oauth_config(emu, tmp_path, page_size=100)
    first = sync(config, catalog=select_only("integration_logs"))
    records = first.records["integration_logs"]
    assert len(records) == 260 == len({r["id"] for r in records})
    assert all(r["date"].endswith("+00:00") and isinstance(r["date_unix"], int) for r in records)
    emu.workspace.add_integration_logs(4)
    second = sync(config, state=first.state, catalog=select_only("integration_logs"))
    new_ids = {r["id"] for r in second.records["integration_logs"]} - {r["id"] for r in records}
    assert len(new_ids) == 4
    assert emu.calls["team.integrationLogs"] == 3 + 1


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
