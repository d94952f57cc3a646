"""Enterprise Grid: admin_users and member_analytics."""

from __future__ import annotations

import gzip
import json
import typing as t
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import requests

from tap_slack_snow.streams.analytics import months_before
from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_emulator import ENTERPRISE_USER_SCOPES, Fault, SlackEmulator, WorkspaceConfig
from tests._support import change_answers, change_gzip_rows, oauth_config, run_cli, sync

GRID = WorkspaceConfig(
    seed=11,
    users=180,
    plan="enterprise",
    enterprise=True,
    workspaces=3,
    analytics_rows_per_day=150,
    analytics_lag_days=2,
)


def today() -> date:
    return datetime.now(tz=timezone.utc).date()


def grid_config(emu: SlackEmulator, tmp_path: Path, **extra) -> dict:
    return oauth_config(emu, tmp_path, scopes=ENTERPRISE_USER_SCOPES, org_level=True, **extra)


def test_admin_users_active_and_deactivated(emulator_factory, tmp_path: Path) -> None:
    emu = emulator_factory(GRID)
    result = sync(grid_config(emu, tmp_path), catalog=select_only("admin_users"))
    assert result.exit_code == 0
    records = result.records["admin_users"]
    expected = emu.workspace.admin_users(is_active=None)
    assert {r["id"] for r in records} == {u["id"] for u in expected}
    assert len(records) == len(expected)
    assert {r["is_active"] for r in records} == {True, False}
    # admin.users.list pages are at most 100
    assert all(
        int(r.form.get("limit", 0)) <= 100 for r in emu.requests if r.method == "admin.users.list"
    )
    assert any(r["date_created"] and r["date_created_unix"] for r in records)


def test_admin_users_one_workspace_with_team_id(emulator_factory, tmp_path: Path) -> None:
    emu = emulator_factory(GRID)
    team_id = emu.workspace.team_ids[1]
    result = sync(grid_config(emu, tmp_path, team_id=team_id), catalog=select_only("admin_users"))
    assert {r["id"] for r in result.records["admin_users"]} == {
        u["id"] for u in emu.workspace.admin_users(team_id=team_id, is_active=None)
    }


def test_member_analytics_range_and_types(emulator_factory, tmp_path: Path) -> None:
    emu = emulator_factory(GRID)
    start = today() - timedelta(days=6)
    config = grid_config(emu, tmp_path, start_date=start.isoformat() + "T00:00:00Z")
    result = sync(config, catalog=select_only("member_analytics"))
    assert result.exit_code == 0
    rows = result.records["member_analytics"]
    published = [start + timedelta(days=i) for i in range(5)]  # up to today - 2
    assert sorted({r["date"] for r in rows}) == [d.isoformat() for d in published]
    assert len(rows) == 150 * len(published)
    assert len({(r["date"], r["user_id"]) for r in rows}) == len(rows)
    row = rows[0]
    assert isinstance(row["is_active"], bool) and isinstance(row["messages_posted_count"], int)
    assert (
        result.state["bookmarks"]["member_analytics"]["replication_key_value"]
        == published[-1].isoformat()
    )
    # one request per published day plus the one that said "not yet available"
    assert emu.calls["admin.analytics.getFile"] == len(published) + 1


def test_member_analytics_next_run_across_the_not_yet_available_edge(
    emulator_factory, tmp_path: Path
) -> None:
    emu = emulator_factory(GRID)
    start = today() - timedelta(days=4)
    config = grid_config(emu, tmp_path, start_date=start.isoformat() + "T00:00:00Z")
    first = sync(config, catalog=select_only("member_analytics"))
    assert {r["date"] for r in first.records["member_analytics"]} == {
        (start + timedelta(days=i)).isoformat() for i in range(3)
    }
    again = sync(config, state=first.state, catalog=select_only("member_analytics"))
    assert again.count("member_analytics") == 0  # nothing new published yet
    assert (
        again.state["bookmarks"]["member_analytics"]["replication_key_value"]
        == (start + timedelta(days=2)).isoformat()
    )
    emu.advance(86400)  # Slack publishes one more day
    third = sync(config, state=again.state, catalog=select_only("member_analytics"))
    assert {r["date"] for r in third.records["member_analytics"]} == {
        (start + timedelta(days=3)).isoformat()
    }


def test_member_analytics_start_is_clamped_to_13_months(emulator_factory, tmp_path: Path) -> None:
    emu = emulator_factory(GRID)
    config = grid_config(emu, tmp_path, start_date="2020-01-01T00:00:00Z")
    result = sync(config, catalog=select_only("member_analytics"))
    dates = [
        r.query.get("date") or r.form.get("date")
        for r in emu.requests
        if r.method == "admin.analytics.getFile"
    ]
    assert dates[0] == months_before(today(), 13).isoformat()
    assert result.exit_code == 0


def test_truncated_gzip_is_retried_then_fails_with_the_date(
    emulator_factory, tmp_path: Path
) -> None:
    emu = emulator_factory(GRID)
    start = today() - timedelta(days=3)
    config = grid_config(emu, tmp_path, start_date=start.isoformat() + "T00:00:00Z")
    emu.add_fault(Fault(method="admin.analytics.getFile", kind="truncated_gzip", on_call=1))
    ok = sync(config, catalog=select_only("member_analytics"))
    assert ok.exit_code == 0 and ok.count("member_analytics") == 150 * 2
    emu.clear_faults()
    emu.add_fault(Fault(method="admin.analytics.getFile", kind="corrupt_gzip", on_call=1, times=50))
    bad = run_cli({**config, "token_store_path": config["token_store_path"]}, tmp_path)
    assert bad.exit_code == 1
    last = bad.stderr.strip().splitlines()[-1]
    assert start.isoformat() in last and "corrupt" in last
    assert bad.count("member_analytics") == 0  # no row of a broken file is emitted


def test_standard_workspace_skips_grid_streams_with_one_info_line(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    result = run_cli(oauth_config(emulator, tmp_path), tmp_path)
    assert result.exit_code == 0
    for stream in ("admin_users", "member_analytics"):
        lines = [
            line
            for line in result.stderr.splitlines()
            if f"Skipping stream {stream}: Enterprise Grid only" in line
        ]
        assert len(lines) == 1
    assert emulator.calls["admin.users.list"] == emulator.calls["admin.analytics.getFile"] == 0


def test_forced_enterprise_edition_on_standard_workspace_skips_by_policy(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    config = oauth_config(emulator, tmp_path, scopes=ENTERPRISE_USER_SCOPES, edition="enterprise")
    result = run_cli(config, tmp_path)
    assert result.exit_code == 0
    assert "Skipping stream admin_users (on_unavailable=skip)" in result.stderr
    assert "feature_not_enabled" in result.stderr


def test_rows_parse_from_real_gzip_lines(emulator_factory, tmp_path: Path) -> None:
    """The emulator's file really is gzip NDJSON (guards the test double itself)."""
    emu = emulator_factory(GRID)
    token = emu.issue_access_token(scopes=ENTERPRISE_USER_SCOPES, org_level=True)
    day = (today() - timedelta(days=3)).isoformat()
    resp = requests.get(
        f"{emu.url}/admin.analytics.getFile",
        params={"type": "member", "date": day},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert resp.headers["Content-Type"].startswith("application/gzip")
    lines = gzip.decompress(resp.content).decode().splitlines()
    assert len(lines) == 150 and json.loads(lines[0])["date"] == day


def rows_dated(value: str, on_call: int = 1) -> t.Callable[[t.Any, int], None]:
    """The analytics file of call ``on_call`` with every row's ``date`` = ``value``."""

    def change(reply: t.Any, call: int) -> None:
        if call == on_call:
            change_gzip_rows(reply, lambda row: row.update(date=value))

    return change


def test_member_analytics_rows_of_another_day_keep_the_day_asked_for(
    emulator_factory, tmp_path: Path
) -> None:
    """A day's file whose rows say 2030-01-01: the rows are stored under the day the tap
    asked for, with a warning, and the bookmark is that day. Before: the bookmark became
    2030-01-01 and every later run read nothing."""
    emu = emulator_factory(GRID)
    start = today() - timedelta(days=4)
    change_answers(emu, "admin.analytics.getFile", rows_dated("2030-01-01"))
    config = grid_config(emu, tmp_path, start_date=start.isoformat() + "T00:00:00Z")
    result = run_cli(config, tmp_path, catalog=select_only("member_analytics"))
    assert result.exit_code == 0, result.stderr[-3000:]
    days = [(start + timedelta(days=i)).isoformat() for i in range(3)]
    rows = result.records["member_analytics"]
    assert sorted({r["date"] for r in rows}) == days
    assert sum(r["date"] == days[0] for r in rows) == 150
    bookmark = result.state["bookmarks"]["member_analytics"]["replication_key_value"]
    assert bookmark == days[-1]
    warned = [line for line in result.stderr.splitlines() if "not the day asked for" in line]
    assert len(warned) == 5 + 1, warned  # the first five rows, then the count
