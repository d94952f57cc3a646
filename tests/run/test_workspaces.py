"""Enterprise Grid with an org-level token: every workspace of the org in one run.

The emulator's org has several workspaces listed by ``auth.teams.list`` (cursor pages),
members shared between some of them, workspace-level data per workspace, and optionally a
workspace the token may not read (``team_access_not_granted``).

Then the workspace gate of ``tap_slack_snow.run.workspaces.OrgWorkspaces`` on its own (no
HTTP): the first request to a workspace goes out, the others wait for its answer, a refusal
is shared, ``stop`` wakes the waiting ones, the wait is bounded, a skip is reported once.
"""

from __future__ import annotations

import json
import logging
import math
import re
import subprocess
import sys
import threading
import time
import typing as t
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tap_slack_snow.run.spool import SpoolStopped
from tap_slack_snow.run.workspaces import OrgWorkspaces
from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_emulator import (
    ENTERPRISE_USER_SCOPES,
    Fault,
    SlackEmulator,
    WorkspaceConfig,
)
from tests._support import oauth_config, run_cli, sync

START_DATE = "2015-01-01T00:00:00Z"
GRID = WorkspaceConfig(
    seed=21,
    users=300,
    plan="enterprise",
    enterprise=True,
    workspaces=5,
    integration_logs=400,
    access_logs=300,
)
#: The streams whose Slack method is per workspace on an org-level token.
WORKSPACE_STREAMS = ("users", "team", "billable_info", "integration_logs")


def org_config(emu: SlackEmulator, tmp_path: Path, **extra: t.Any) -> dict[str, t.Any]:
    return oauth_config(
        emu,
        tmp_path,
        scopes=ENTERPRISE_USER_SCOPES,
        org_level=True,
        start_date=START_DATE,
        **extra,
    )


def expected_integration_logs(emu: SlackEmulator, team_id: str) -> list[dict[str, t.Any]]:
    return emu.workspace.integration_log_entries(team_id=team_id)


def first_workspace_of(member: dict[str, t.Any], order: list[str]) -> str:
    teams = member["enterprise_user"]["teams"]
    return next(team for team in order if team in teams)


def sent_team_ids(emu: SlackEmulator, method: str) -> list[str | None]:
    return [{**r.query, **r.form}.get("team_id") for r in emu.requests if r.method == method]


# --- the whole org ---------------------------------------------------------------------------


def test_org_token_reads_every_workspace_with_exact_counts(
    emulator_factory: t.Callable[..., SlackEmulator], tmp_path: Path
) -> None:
    emu = emulator_factory(GRID)
    ws = emu.workspace
    teams = ws.team_ids
    assert ws.enterprise is not None
    result = sync(
        org_config(emu, tmp_path),
        catalog=select_only(*WORKSPACE_STREAMS, "billing"),
    )
    assert result.exit_code == 0

    # integration_logs: every entry of every workspace, each tagged with its workspace
    logs = result.records["integration_logs"]
    assert Counter(r["team_id"] for r in logs) == {
        team: len(expected_integration_logs(emu, team)) for team in teams
    }
    assert len(logs) == sum(len(expected_integration_logs(emu, team)) for team in teams)
    assert len({r["id"] for r in logs}) == len(logs)

    # billable_info: one record per (workspace, billable member)
    billable = result.records["billable_info"]
    assert {(r["team_id"], r["user_id"]) for r in billable} == {
        (team, uid) for team in teams for uid in ws.billable_user_ids(team)
    }
    assert len(billable) == sum(len(ws.billable_user_ids(team)) for team in teams)

    # users: one row per member of the org (Grid ids are org-wide), from the first
    # workspace in the run's order that lists the member
    users = result.records["users"]
    assert len(users) == ws.user_count
    assert len({r["id"] for r in users}) == len(users)
    shared = [r for r in users if len(r["enterprise_user"]["teams"]) > 1]
    assert shared, "the emulated org must have members in several workspaces"
    for record in users:
        assert record["team_id"] == first_workspace_of(record, teams)
    per_team = Counter(r["team_id"] for r in users)
    assert sum(per_team.values()) == ws.user_count
    assert set(per_team) <= set(teams)

    # team: each workspace and the org itself
    assert sorted(r["id"] for r in result.records["team"]) == sorted([*teams, ws.enterprise.id])

    # billing: Grid bills the org, one record for it
    (plan,) = result.records["billing"]
    assert plan["plan"] == "enterprise"
    assert plan["team_id"] == ws.enterprise.id
    assert plan["enterprise_id"] == ws.enterprise.id

    # one auth.teams.list listing per run, and every workspace-level call names its workspace
    assert emu.calls["auth.teams.list"] == 1
    for method in ("users.list", "team.billableInfo", "team.integrationLogs"):
        assert set(sent_team_ids(emu, method)) == set(teams), method
    assert emu.calls["team.billing.info"] == 1


def test_workspace_list_is_paginated_and_read_once_per_run(
    emulator_factory: t.Callable[..., SlackEmulator], tmp_path: Path
) -> None:
    emu = emulator_factory(GRID)
    result = sync(
        org_config(emu, tmp_path, page_size=2),
        catalog=select_only("billable_info", "integration_logs", "team"),
    )
    assert result.exit_code == 0
    listing = [r for r in emu.requests if r.method == "auth.teams.list"]
    assert len(listing) == math.ceil(len(emu.workspace.team_ids) / 2)
    assert all(int({**r.query, **r.form}["limit"]) == 2 for r in listing)
    assert {r["team_id"] for r in result.records["billable_info"]} == set(emu.workspace.team_ids)


def test_team_ids_restricts_the_run_and_team_id_is_a_list_of_one(
    emulator_factory: t.Callable[..., SlackEmulator], tmp_path: Path
) -> None:
    emu = emulator_factory(GRID)
    teams = emu.workspace.team_ids
    wanted = [teams[3], teams[1]]
    catalog = select_only("users", "billable_info", "integration_logs")
    result = sync(org_config(emu, tmp_path, team_ids=wanted), catalog=catalog)
    assert result.exit_code == 0
    for stream in ("billable_info", "integration_logs"):
        assert {r["team_id"] for r in result.records[stream]} == set(wanted), stream
    assert len(result.records["integration_logs"]) == sum(
        len(expected_integration_logs(emu, team)) for team in wanted
    )
    members = {r["id"] for r in result.records["users"]}
    expected_members = {m["id"] for team in wanted for m in emu.workspace.members(team)}
    assert members == expected_members
    for method in ("users.list", "team.billableInfo", "team.integrationLogs"):
        assert set(sent_team_ids(emu, method)) == set(wanted), method

    emu.reset_stats()
    single = sync(org_config(emu, tmp_path, team_id=teams[2]), catalog=catalog)
    assert single.exit_code == 0
    assert {r["team_id"] for r in single.records["integration_logs"]} == {teams[2]}
    assert set(sent_team_ids(emu, "team.billableInfo")) == {teams[2]}
    assert single.state is not None
    partitions = single.state["bookmarks"]["integration_logs"]["partitions"]
    assert [p["context"] for p in partitions] == [{"team_id": teams[2]}]


def test_team_id_and_team_ids_together_is_one_clear_error(
    emulator_factory: t.Callable[..., SlackEmulator], tmp_path: Path
) -> None:
    emu = emulator_factory(GRID)
    teams = emu.workspace.team_ids
    config = org_config(emu, tmp_path, team_id=teams[0], team_ids=[teams[1]])
    result = run_cli(config, tmp_path)
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    assert "Set team_id or team_ids, not both" in result.stderr
    assert sum(emu.calls.values()) == 0


def test_state_holds_one_bookmark_per_workspace(
    emulator_factory: t.Callable[..., SlackEmulator], tmp_path: Path
) -> None:
    emu = emulator_factory(GRID)
    teams = emu.workspace.team_ids
    result = sync(org_config(emu, tmp_path), catalog=select_only("integration_logs"))
    assert result.exit_code == 0 and result.state is not None
    bookmark = result.state["bookmarks"]["integration_logs"]
    partitions = {p["context"]["team_id"]: p for p in bookmark["partitions"]}
    assert set(partitions) == set(teams)
    for team in teams:
        newest = max(int(e["date"]) for e in expected_integration_logs(emu, team))
        value = partitions[team]["replication_key_value"]
        assert value == datetime.fromtimestamp(newest, tz=timezone.utc).isoformat(), team
        assert "progress_markers" not in partitions[team]

    # The next run reads each workspace from its own bookmark: only the bookmark's second
    # (inclusive) and what is new in that workspace.
    new_entries = emu.workspace.add_integration_logs(3)
    assert new_entries
    again = sync(
        org_config(emu, tmp_path), state=result.state, catalog=select_only("integration_logs")
    )
    assert again.exit_code == 0
    per_team = Counter(r["team_id"] for r in again.records["integration_logs"])
    for team in teams:
        newest = max(int(e["date"]) for e in expected_integration_logs(emu, team))
        at_edge = [e for e in expected_integration_logs(emu, team) if int(e["date"]) == newest]
        assert per_team[team] >= len(at_edge)
    assert sum(per_team.values()) <= len(teams) * 2 + len(new_entries)


def test_interrupted_run_resumes_in_the_workspace_it_stopped_in(
    emulator_factory: t.Callable[..., SlackEmulator], tmp_path: Path
) -> None:
    emu = emulator_factory(GRID)
    teams = emu.workspace.team_ids
    page = 20
    pages = [math.ceil(len(expected_integration_logs(emu, team)) / page) for team in teams]
    assert pages[2] >= 2
    # The second page of the third workspace fails for good (invalid_auth stops the run).
    emu.add_fault(
        Fault("team.integrationLogs", "error", on_call=2, workspace=teams[2], error="invalid_auth")
    )
    catalog = select_only("integration_logs")
    first = sync(org_config(emu, tmp_path, page_size=page), catalog=catalog)
    assert first.exit_code == 1
    assert first.state is not None
    done = {
        p["context"]["team_id"]: p
        for p in first.state["bookmarks"]["integration_logs"]["partitions"]
        if p.get("replication_key_value")
    }
    assert set(done) == {teams[0], teams[1]}

    emu.clear_faults()
    emu.reset_stats()
    second = sync(org_config(emu, tmp_path, page_size=page), state=first.state, catalog=catalog)
    assert second.exit_code == 0
    resumed = second.records["integration_logs"]
    # workspaces 1-2 are not read again: one page each, only the bookmark's second
    for team in (teams[0], teams[1]):
        assert sent_team_ids(emu, "team.integrationLogs").count(team) == 1
        newest = max(int(e["date"]) for e in expected_integration_logs(emu, team))
        assert all(r["date_unix"] == newest for r in resumed if r["team_id"] == team), team
    # nothing lost: both runs together hold every entry of every workspace
    expected_ids = {
        (team, json.dumps(e, sort_keys=True))
        for team in teams
        for e in expected_integration_logs(emu, team)
    }
    got = {r["id"] for r in first.records.get("integration_logs", [])} | {r["id"] for r in resumed}
    assert len(got) == len(expected_ids)
    # the resumed run reads workspaces 3-5 whole
    for team in teams[2:]:
        assert sum(1 for r in resumed if r["team_id"] == team) == len(
            expected_integration_logs(emu, team)
        )


# --- workspaces the token cannot read -------------------------------------------------------


def test_unreadable_workspace_is_skipped_with_one_warning(
    emulator_factory: t.Callable[..., SlackEmulator], tmp_path: Path
) -> None:
    emu = emulator_factory(
        WorkspaceConfig(**{**GRID.__dict__, "denied_workspaces": (2,)})  # type: ignore[arg-type]
    )
    teams = emu.workspace.team_ids
    denied = teams[2]
    readable = [team for team in teams if team != denied]
    catalog = select_only(*WORKSPACE_STREAMS, "billing")
    result = run_cli(org_config(emu, tmp_path), tmp_path, catalog=catalog)
    assert result.exit_code == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if denied in line and "kipping" in line]
    assert len(warnings) == 1, warnings
    assert "team_access_not_granted" in warnings[0]
    for stream in ("billable_info", "integration_logs"):
        assert {r["team_id"] for r in result.records[stream]} == set(readable), stream
    assert len(result.records["integration_logs"]) == sum(
        len(expected_integration_logs(emu, team)) for team in readable
    )
    # the workspace is asked once; later streams skip it without a request
    asked = [r for r in emu.requests if {**r.query, **r.form}.get("team_id") == denied] + [
        r for r in emu.requests if r.method == "team.info" and r.query.get("team") == denied
    ]
    assert len(asked) == 1

    failing = run_cli(org_config(emu, tmp_path, on_unavailable="fail"), tmp_path, catalog=catalog)
    assert failing.exit_code == 1
    assert "Traceback" not in failing.stderr
    last = failing.stderr.strip().splitlines()[-1]
    assert denied in last and "team_access_not_granted" in last


def test_team_ids_naming_an_unknown_workspace_is_skipped_by_policy(
    emulator_factory: t.Callable[..., SlackEmulator], tmp_path: Path
) -> None:
    emu = emulator_factory(GRID)
    teams = emu.workspace.team_ids
    config = org_config(emu, tmp_path, team_ids=[teams[0], "T0NOTINORG"])
    result = run_cli(config, tmp_path, catalog=select_only("billable_info"))
    assert result.exit_code == 0, result.stderr
    assert {r["team_id"] for r in result.records["billable_info"]} == {teams[0]}
    warnings = [line for line in result.stderr.splitlines() if "T0NOTINORG" in line]
    assert len(warnings) == 1 and "auth.teams.list" in warnings[0]
    assert "T0NOTINORG" not in sent_team_ids(emu, "team.billableInfo")


# --- reports, limits and the workspace-level token ------------------------------------------


def test_scope_report_and_summary_show_the_workspaces(
    emulator_factory: t.Callable[..., SlackEmulator], tmp_path: Path
) -> None:
    emu = emulator_factory(GRID)
    n = len(emu.workspace.team_ids)
    catalog = select_only("users", "integration_logs", "admin_users", "access_logs")
    result = run_cli(org_config(emu, tmp_path), tmp_path, catalog=catalog)
    assert result.exit_code == 0, result.stderr
    assert f"Workspaces: {n} found by auth.teams.list, {n} to read" in result.stderr
    messages = [line.rsplit(" | ", 1)[-1] for line in result.stderr.splitlines()]
    report = {
        message.split()[0]: message
        for message in messages
        if message.startswith("  ") and message.split()[0] in catalog_names(catalog)
    }
    assert f"runs in {n} workspaces" in report["users"]
    assert f"runs in {n} workspaces" in report["integration_logs"]
    assert "org-wide" in report["admin_users"]
    assert "org-wide" in report["access_logs"]
    summary = re.search(
        r"Stream integration_logs done: (\d+) workspaces, (\d+) records, (\d+) requests",
        result.stderr,
    )
    assert summary is not None
    assert int(summary.group(1)) == n
    assert int(summary.group(2)) == len(result.records["integration_logs"])
    assert int(summary.group(3)) == emu.calls["team.integrationLogs"]


def catalog_names(catalog: dict[str, t.Any]) -> set[str]:
    return {
        entry["tap_stream_id"]
        for entry in catalog["streams"]
        if any(m["breadcrumb"] == [] and m["metadata"].get("selected") for m in entry["metadata"])
    }


def test_check_command_shows_the_workspaces(
    emulator_factory: t.Callable[..., SlackEmulator], tmp_path: Path
) -> None:
    emu = emulator_factory(GRID)
    n = len(emu.workspace.team_ids)
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(org_config(emu, tmp_path)))
    command = Path(sys.executable).with_name("tap-slack-snow-auth")
    completed = subprocess.run(
        [str(command), "check", "--config", str(config_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr + completed.stdout
    assert f"Workspaces: {n} found by auth.teams.list, {n} to read" in completed.stdout
    users = next(line for line in completed.stdout.splitlines() if line.startswith("users "))
    assert f"runs in {n} workspaces" in users


def test_rate_limits_per_method_and_workspace_are_waited_out(
    emulator_factory: t.Callable[..., SlackEmulator], tmp_path: Path
) -> None:
    emu = emulator_factory(
        WorkspaceConfig(seed=3, users=400, plan="enterprise", enterprise=True, workspaces=2),
        minute_seconds=0.3,
    )
    # a window a slow or busy machine may never fill: one 429 is forced, the rest come if so
    emu.add_fault(Fault("team.billableInfo", "http_429", on_call=3))
    result = run_cli(
        org_config(emu, tmp_path, page_size=8), tmp_path, catalog=select_only("billable_info")
    )
    assert result.exit_code == 0, result.stderr
    teams = emu.workspace.team_ids
    assert len(result.records["billable_info"]) == sum(
        len(emu.workspace.billable_user_ids(team)) for team in teams
    )
    assert emu.rate_limited["team.billableInfo"] >= 1
    summary = re.search(
        r"Stream billable_info done: 2 workspaces, \d+ records, \d+ requests \((\d+) rate-limited",
        result.stderr,
    )
    assert summary is not None and int(summary.group(1)) == emu.rate_limited["team.billableInfo"]


def test_discovery_with_an_org_token_never_calls_slack(
    emulator_factory: t.Callable[..., SlackEmulator], tmp_path: Path
) -> None:
    emu = emulator_factory(GRID)
    config = org_config(emu, tmp_path, team_ids=emu.workspace.team_ids[:2])
    result = run_cli(config, tmp_path, "--discover")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["streams"]
    assert sum(emu.calls.values()) == 0


def test_workspace_level_token_behaves_as_before(
    emulator_factory: t.Callable[..., SlackEmulator], tmp_path: Path
) -> None:
    emu = emulator_factory(GRID)
    team = emu.workspace.team_ids[1]
    config = oauth_config(emu, tmp_path, scopes=ENTERPRISE_USER_SCOPES, start_date=START_DATE)
    # a workspace-level install on one workspace of the org
    config["refresh_token"] = emu.issue_refresh_token(scopes=ENTERPRISE_USER_SCOPES, team_id=team)
    result = sync(config, catalog=select_only(*WORKSPACE_STREAMS, "billing"))
    assert result.exit_code == 0
    assert emu.calls["auth.teams.list"] == 0
    assert {r["team_id"] for r in result.records["billable_info"]} == {team}
    assert [r["id"] for r in result.records["team"]] == [team]
    assert len(result.records["integration_logs"]) == len(expected_integration_logs(emu, team))
    assert result.state is not None
    bookmark = result.state["bookmarks"]["integration_logs"]
    assert "partitions" not in bookmark and bookmark["replication_key_value"]
    assert (result.records["billing"][0]["team_id"]) == team
    for method in ("users.list", "team.billableInfo", "team.integrationLogs"):
        assert set(sent_team_ids(emu, method)) == {None}, method


def test_standard_workspace_state_and_requests_unchanged(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    config = oauth_config(emulator, tmp_path, start_date=START_DATE)
    result = sync(config, catalog=select_only("integration_logs", "billable_info"))
    assert result.exit_code == 0
    assert emulator.calls["auth.teams.list"] == 0
    bookmark = result.state["bookmarks"]["integration_logs"] if result.state else {}
    assert "partitions" not in bookmark and bookmark.get("replication_key_value")


# --- the workspace gate: each workspace's first answer shared between threads (no HTTP) -----

REFUSAL = "team_access_not_granted"


def gate(wait_seconds: float | None = None) -> OrgWorkspaces:
    """An OrgWorkspaces whose listing is never needed (the gate makes no call)."""

    def no_call(method: str, params: dict[str, t.Any]) -> dict[str, t.Any]:
        raise AssertionError(f"the gate called Slack: {method} {params}")

    workspaces = OrgWorkspaces(
        call=no_call, page_size=100, wanted=None, logger=logging.getLogger("test-gate")
    )
    if wait_seconds is not None:
        workspaces.FIRST_ANSWER_WAIT_SECONDS = wait_seconds
    return workspaces


class Waiter:
    """``before_request(team_id)`` in its own thread: what it returned or raised, and when."""

    def __init__(self, workspaces: OrgWorkspaces, team_id: str) -> None:
        self.outcome: list[t.Any] = []
        self.done = threading.Event()
        self.seconds = 0.0

        def run() -> None:
            started = time.monotonic()
            try:
                self.outcome.append(workspaces.before_request(team_id))
            except SpoolStopped as exc:
                self.outcome.append(exc)
            self.seconds = time.monotonic() - started
            self.done.set()

        threading.Thread(target=run, daemon=True).start()


def test_the_first_request_to_a_workspace_goes_out_at_once() -> None:
    workspaces = gate()
    first = Waiter(workspaces, "T1")
    assert first.done.wait(1)  # no answer to wait for: it is the first
    assert first.outcome == [None]
    other = Waiter(workspaces, "T2")  # another workspace: its own first request
    assert other.done.wait(1)
    assert other.outcome == [None]


def test_later_requests_wait_for_the_first_answer_then_go_out() -> None:
    workspaces = gate()
    assert workspaces.before_request("T1") is None
    waiters = [Waiter(workspaces, "T1") for _ in range(3)]
    assert not waiters[0].done.wait(0.2)  # the first answer is not in yet
    workspaces.after_answer("T1", None)
    for waiter in waiters:
        assert waiter.done.wait(5)
        assert waiter.outcome == [None]  # Slack answered: send the request
    assert workspaces.before_request("T1") is None  # and no wait any more


def test_a_refusal_is_shared_with_waiting_and_later_requests() -> None:
    workspaces = gate()
    assert workspaces.before_request("T1") is None
    waiter = Waiter(workspaces, "T1")
    assert not waiter.done.wait(0.1)
    workspaces.after_answer("T1", REFUSAL)
    assert waiter.done.wait(5)
    assert waiter.outcome == [REFUSAL]  # refused without a request of its own
    assert workspaces.before_request("T1") == REFUSAL
    assert workspaces.before_request("T2") is None  # other workspaces are not refused


def test_only_the_first_answer_of_a_workspace_counts() -> None:
    workspaces = gate()
    assert workspaces.before_request("T1") is None
    workspaces.after_answer("T1", None)
    workspaces.after_answer("T1", REFUSAL)  # a later request's answer changes nothing
    assert workspaces.before_request("T1") is None


def test_stop_wakes_the_waiting_requests_with_spool_stopped() -> None:
    workspaces = gate()
    assert workspaces.before_request("T1") is None
    waiters = [Waiter(workspaces, "T1") for _ in range(2)]
    assert not waiters[0].done.wait(0.1)
    workspaces.stop()
    for waiter in waiters:
        assert waiter.done.wait(5)
        assert len(waiter.outcome) == 1 and isinstance(waiter.outcome[0], SpoolStopped)


def test_the_wait_for_a_first_answer_is_bounded() -> None:
    workspaces = gate(wait_seconds=0.3)
    assert workspaces.before_request("T1") is None  # its answer never comes
    waiter = Waiter(workspaces, "T1")
    assert waiter.done.wait(10)
    assert waiter.outcome == [None]  # after the bound the request goes out
    assert 0.25 <= waiter.seconds < 5


def test_report_is_true_once_per_workspace_and_remembered() -> None:
    workspaces = gate()
    assert not workspaces.reported("T1")
    assert workspaces.report("T1") is True  # the first skip warns
    assert workspaces.report("T1") is False  # later streams skip it quietly
    assert workspaces.reported("T1")
    assert not workspaces.reported("T2")
    assert workspaces.report("T2") is True


# --- auth.teams.list only when a per-workspace stream reads an org ----------------------------

ORG_WIDE = ("admin_users", "member_analytics")


def teams_list_failing(emu: SlackEmulator) -> None:
    emu.add_fault(Fault("auth.teams.list", "error", times=None, error="fatal_error"))


@pytest.mark.parametrize("listing", ["works", "fails"])
def test_a_workspace_level_token_with_team_id_never_lists_the_org(
    emulator_factory: t.Callable[..., SlackEmulator], tmp_path: Path, listing: str
) -> None:
    emu = emulator_factory(GRID)
    team = emu.workspace.team_ids[1]
    config = oauth_config(
        emu, tmp_path, scopes=ENTERPRISE_USER_SCOPES, start_date=START_DATE, team_id=team
    )
    # a workspace-level install on one workspace of the org, team_id naming it
    config["refresh_token"] = emu.issue_refresh_token(scopes=ENTERPRISE_USER_SCOPES, team_id=team)
    if listing == "fails":
        teams_list_failing(emu)
    for streams in (ORG_WIDE, ("users", "billable_info", *ORG_WIDE)):
        result = sync(config, catalog=select_only(*streams))
        assert result.exit_code == 0, streams
    # (the org-wide methods refuse a workspace-level token: those streams skip, by policy)
    assert {r["team_id"] for r in result.records["users"]} == {team}
    assert emu.calls["auth.teams.list"] == 0


@pytest.mark.parametrize("team_ids", ["all", "some"])
def test_org_wide_streams_alone_never_list_the_org(
    emulator_factory: t.Callable[..., SlackEmulator], tmp_path: Path, team_ids: str
) -> None:
    emu = emulator_factory(GRID)
    extra = {"team_ids": emu.workspace.team_ids[:2]} if team_ids == "some" else {}
    teams_list_failing(emu)
    config = org_config(emu, tmp_path, **extra)
    # a few analytics days: a fast test
    config["start_date"] = (datetime.now(timezone.utc) - timedelta(days=6)).strftime("%Y-%m-%d")
    result = sync(config, catalog=select_only(*ORG_WIDE))
    assert result.exit_code == 0
    assert result.count("admin_users") > 0
    assert result.count("member_analytics") > 0
    assert emu.calls["auth.teams.list"] == 0
    # check with the same catalog: no listing either, and nothing it cannot do
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    catalog_path = tmp_path / "catalog.json"
    catalog_path.write_text(json.dumps(select_only(*ORG_WIDE)))
    command = Path(sys.executable).with_name("tap-slack-snow-auth")
    completed = subprocess.run(
        [str(command), "check", "--config", str(config_path), "--catalog", str(catalog_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr + completed.stdout
    assert "Workspaces:" not in completed.stdout
    assert emu.calls["auth.teams.list"] == 0
