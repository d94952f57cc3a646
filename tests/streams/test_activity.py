"""Activity streams (``tap_slack_snow.streams.activity``): billable_info, access_logs,
integration_logs."""

from __future__ import annotations

import time
import typing as t
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_emulator import ENTERPRISE_USER_SCOPES, Fault, SlackEmulator, WorkspaceConfig
from tests._support import change_answers, oauth_config, run_cli, sync, warning_lines

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


# --- times Slack should not send: never the end of the read, never a bookmark ahead

#: Each log stream: its method, its records key, its time field.
LOGS = {
    "access_logs": ("team.accessLogs", "logins", "date_last"),
    "integration_logs": ("team.integrationLogs", "logs", "date"),
}


def set_time(method_key: str, field: str, value: t.Any, on_call: int, index: int) -> t.Any:
    """An answer whose entry ``index`` has ``field`` = ``value``, on call ``on_call``."""

    def change(reply: t.Any, call: int) -> None:
        if call == on_call:
            reply.payload[method_key][index][field] = value

    return change


def bookmark_values(state: dict[str, t.Any], stream: str) -> list[str]:
    """The stream's bookmark, or each partition's."""
    mark = state["bookmarks"][stream]
    partitions = mark.get("partitions") or [mark]
    return [part["replication_key_value"] for part in partitions]


@pytest.mark.parametrize(
    "value", [0, -5, "soon", None, 10**400], ids=["0", "-5", "soon", "null", "1e400"]
)
@pytest.mark.parametrize("stream", sorted(LOGS))
def test_an_entry_without_a_time_is_dropped_not_the_end_of_the_read(
    stream: str, value: t.Any, emulator_factory, tmp_path: Path
) -> None:
    """An entry whose time is 0, negative, not a number or past year 9999 is dropped with a
    warning; the read goes on to the lower bound. Before: 0 or -5 on page 1 read as "older
    than the bookmark", so the read stopped after page 1 (and the bookmark moved past the
    pages never read); "soon" or null failed the run."""
    method, key, field = LOGS[stream]
    emu = emulator_factory(
        WorkspaceConfig(seed=9, users=200, access_logs=1200, integration_logs=240)
    )
    change_answers(emu, method, set_time(key, field, value, on_call=1, index=5))
    config = oauth_config(emu, tmp_path, page_size=40, start_date="2015-01-01T00:00:00Z")
    result = run_cli(config, tmp_path, catalog=select_only(stream))
    assert result.exit_code == 0, result.stderr[-3000:]
    total = 1200 if stream == "access_logs" else 240
    assert result.count(stream) == total - 1
    warned = [line for line in warning_lines(result) if f"{field} is not a time" in line]
    assert len(warned) == 2, warned  # the entry, then the stream's count
    newest = max(r[field] for r in result.records[stream])
    assert bookmark_values(result.state, stream) == [newest]


@pytest.mark.parametrize("stream", sorted(LOGS))
def test_a_page_without_times_is_not_the_end_of_the_read(
    stream: str, emulator_factory, tmp_path: Path
) -> None:
    """Every entry of page 1 without a time: 40 dropped (5 warnings and a count), the other
    pages read. Before: the read stopped after page 1, with nothing."""
    method, key, field = LOGS[stream]
    emu = emulator_factory(
        WorkspaceConfig(seed=9, users=200, access_logs=400, integration_logs=240)
    )

    def no_times(reply: t.Any, call: int) -> None:
        if call == 1:
            for entry in reply.payload[key]:
                entry[field] = 0

    change_answers(emu, method, no_times)
    config = oauth_config(emu, tmp_path, page_size=40, start_date="2015-01-01T00:00:00Z")
    result = sync(config, catalog=select_only(stream))
    assert result.exit_code == 0
    assert result.count(stream) == (400 if stream == "access_logs" else 240) - 40


def test_an_old_entry_out_of_order_does_not_end_the_read(emulator_factory, tmp_path: Path) -> None:
    """Entries older than the lower bound are skipped, but the read ends only when a page's
    oldest entry is below it: one out-of-order old entry on page 1 is not the end."""
    emu = emulator_factory(WorkspaceConfig(seed=9, users=200, access_logs=1200))
    change_answers(emu, "team.accessLogs", set_time("logins", "date_last", 1000, 1, 5))
    config = oauth_config(emu, tmp_path, page_size=40, start_date="2015-01-01T00:00:00Z")
    result = sync(config, catalog=select_only("access_logs"))
    assert result.exit_code == 0
    assert result.count("access_logs") == 1199


def in_a_month() -> int:
    return int(time.time()) + 30 * 86400


@pytest.mark.parametrize("stream", sorted(LOGS))
def test_a_future_time_never_moves_the_bookmark_past_the_run_start(
    stream: str, emulator_factory, tmp_path: Path
) -> None:
    """A time later than the run's start (Slack's clock, a bogus value): the record keeps
    Slack's value, the bookmark stops at the run's start, with a warning. Before: the
    bookmark went a month ahead and the next runs read nothing until then."""
    method, key, field = LOGS[stream]
    emu = emulator_factory(
        WorkspaceConfig(seed=9, users=200, access_logs=400, integration_logs=120)
    )
    future = in_a_month()
    change_answers(emu, method, set_time(key, field, future, on_call=1, index=0))
    config = oauth_config(emu, tmp_path, page_size=40, start_date="2015-01-01T00:00:00Z")
    started = datetime.now(tz=timezone.utc).replace(microsecond=0)
    result = run_cli(config, tmp_path, catalog=select_only(stream))
    ended = datetime.now(tz=timezone.utc)
    assert result.exit_code == 0, result.stderr[-3000:]
    assert max(r[f"{field}_unix"] for r in result.records[stream]) == future  # as Slack sent it
    for mark in bookmark_values(result.state, stream):
        assert started <= datetime.fromisoformat(mark) <= ended, mark
    assert [line for line in warning_lines(result) if "run's start" in line]


def test_a_future_time_in_one_workspace_of_an_org(emulator_factory, tmp_path: Path) -> None:
    """integration_logs per workspace on an org-level token: each partition's bookmark stops
    at the run's start."""
    emu = emulator_factory(
        WorkspaceConfig(
            seed=9,
            users=120,
            plan="enterprise",
            enterprise=True,
            workspaces=2,
            integration_logs=120,
            access_logs=50,
        )
    )
    future = in_a_month()
    change_answers(emu, "team.integrationLogs", set_time("logs", "date", future, 1, 0))
    config = oauth_config(
        emu,
        tmp_path,
        scopes=ENTERPRISE_USER_SCOPES,
        org_level=True,
        page_size=40,
        start_date="2015-01-01T00:00:00Z",
    )
    result = sync(config, catalog=select_only("integration_logs"))
    ended = datetime.now(tz=timezone.utc)
    assert result.exit_code == 0
    marks = bookmark_values(result.state, "integration_logs")
    assert len(marks) == 2
    assert all(datetime.fromisoformat(mark) <= ended for mark in marks), marks
