"""The workspace streams (``tap_slack_snow.streams.workspace``): users, team and billing
against the emulator, exact.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest

from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_emulator import ENTERPRISE_USER_SCOPES, SlackEmulator, WorkspaceConfig
from tests._support import (
    change_answers,
    oauth_config,
    one_line_failure,
    org_config,
    run_cli,
    sync,
    sync_catching,
    warning_lines,
)

CORE = select_only("users", "team", "billing")


def test_users_team_billing_exact(emulator: SlackEmulator, tmp_path: Path) -> None:
    config = oauth_config(emulator, tmp_path, scopes=ENTERPRISE_USER_SCOPES)
    result = sync(config, catalog=CORE)
    assert result.exit_code == 0
    users = result.records["users"]
    assert len(users) == emulator.workspace.user_count
    assert len({u["id"] for u in users}) == len(users)
    assert {u["deleted"] for u in users} == {True, False}
    assert any(u["is_bot"] for u in users)
    assert any(u.get("is_restricted") for u in users)
    assert all("email" in u["profile"] for u in users if not u["is_bot"] and u["id"] != "USLACKBOT")
    # Unix time kept raw, shown as a date-time
    sample = next(u for u in users if u.get("updated_unix"))
    assert sample["updated"].endswith("+00:00")
    assert result.count("team") == 1
    assert result.records["billing"] == [
        {
            "team_id": result.records["team"][0]["id"],
            "enterprise_id": None,
            "plan": "plus",
            "plan_label": "Business+",
        }
    ]
    # one page of 1000 members, one team.info, one team.billing.info, auth.test, one refresh
    assert emulator.calls["users.list"] == 1
    assert emulator.calls["oauth.v2.access"] == 1


# --- an answer the tap cannot read is never the end of the data


#: An org small enough to be quick, with every stream on several pages of 50.
GRID = WorkspaceConfig(
    seed=21,
    users=130,
    plan="enterprise",
    enterprise=True,
    access_logs=300,
    integration_logs=200,
    analytics_rows_per_day=10,
)
#: Each stream, its method, the key of its records in Slack's answer, and the call to break
#: (a later page where there is one).
LIST_KEYS = [
    ("users", "users.list", "members", 2),
    ("team", "team.info", "team", 1),
    ("billable_info", "team.billableInfo", "billable_info", 2),
    ("access_logs", "team.accessLogs", "logins", 2),
    ("integration_logs", "team.integrationLogs", "logs", 2),
    ("admin_users", "admin.users.list", "users", 2),
]


def drop_key(key: str, on_call: int | None) -> t.Callable[[t.Any, int], None]:
    """An answer without ``key`` on call ``on_call`` (every call when None)."""

    def change(reply: t.Any, call: int) -> None:
        if on_call is None or call == on_call:
            reply.payload.pop(key, None)

    return change


def null_key(key: str) -> t.Callable[[t.Any, int], None]:
    """``key`` null in every answer."""

    def change(reply: t.Any, _call: int) -> None:
        reply.payload[key] = None

    return change


@pytest.mark.parametrize("shape", ["missing", "null"])
@pytest.mark.parametrize(("stream", "method", "key", "call"), LIST_KEYS)
def test_an_answer_without_its_list_fails_the_stream(
    stream: str, method: str, key: str, call: int, shape: str, emulator_factory, tmp_path: Path
) -> None:
    """``ok: true`` without the records' key (or with it null) on any page is a shape the tap
    cannot read, never the end of the data. Before: team.billableInfo without
    ``billable_info`` ended the stream there, exit 0 with the members of page 1 only."""
    emu = emulator_factory(GRID)
    change = drop_key(key, call) if shape == "missing" else null_key(key)
    change_answers(emu, method, change)
    config = org_config(emu, tmp_path, "2015-01-01T00:00:00Z", page_size=50)
    result, error = sync_catching(
        {**config, "emit_activate_version_messages": True}, select_only(stream)
    )
    assert result.exit_code == 1, f"read as the end of the data: {result.count(stream)} records"
    assert method in error and f"'{key}'" in error, error
    assert ("without" if shape == "missing" else "null") in error, error
    assert not [m for m in result.messages if m["type"] == "ACTIVATE_VERSION"]


def test_billable_info_without_its_map_on_page_2_is_one_line(
    emulator_factory, tmp_path: Path
) -> None:
    """The command line: exit 1, one line naming the method and the key, no traceback."""
    emu = emulator_factory(WorkspaceConfig(seed=3, users=120, plan="plus"))
    change_answers(emu, "team.billableInfo", drop_key("billable_info", 2))
    config = oauth_config(emu, tmp_path, page_size=50, emit_activate_version_messages=True)
    result = run_cli(config, tmp_path, catalog=select_only("billable_info"))
    line = one_line_failure(result)
    assert "team.billableInfo" in line and "'billable_info'" in line, line
    assert 0 < result.count("billable_info") <= 50  # page 1, then the line
    assert not [m for m in result.messages if m["type"] == "ACTIVATE_VERSION"]


@pytest.mark.parametrize(
    ("sent", "plan", "label"),
    [
        ("missing", None, None),
        (None, None, None),
        ("", "free", "Free"),
        ("plus", "plus", "Business+"),
    ],
    ids=["missing", "null", "empty", "plus"],
)
def test_billing_without_a_plan_is_unknown_not_free(
    sent: str | None, plan: str | None, label: str | None, emulator: SlackEmulator, tmp_path: Path
) -> None:
    """Slack documents ``plan: ""`` as Free; no plan at all is unknown (null), with a
    warning. Before: a Business+ workspace answered without ``plan`` was stored as free."""

    def change(reply: t.Any, _call: int) -> None:
        if sent == "missing":
            reply.payload.pop("plan", None)
        else:
            reply.payload["plan"] = sent

    change_answers(emulator, "team.billing.info", change)
    result = run_cli(oauth_config(emulator, tmp_path), tmp_path, catalog=select_only("billing"))
    assert result.exit_code == 0, result.stderr[-3000:]
    [record] = result.records["billing"]
    assert (record["plan"], record["plan_label"]) == (plan, label)
    warned = [line for line in warning_lines(result) if "without a plan" in line]
    assert len(warned) == (1 if plan is None else 0), result.stderr[-3000:]


# --- one record per key per sync


def repeat_a_member() -> t.Callable[[t.Any, int], None]:
    """users.list's second page also lists the first page's first member."""
    first: list[dict[str, t.Any]] = []

    def change(reply: t.Any, call: int) -> None:
        if call == 1:
            first.append(dict(reply.payload["members"][0]))
        elif call == 2:
            reply.payload["members"].append(first[0])

    return change


@pytest.mark.parametrize("org", [False, True], ids=["workspace", "org"])
def test_a_member_on_two_pages_is_one_record(org: bool, emulator_factory, tmp_path: Path) -> None:
    """Slack's pages shifting while they are read list a member twice: the first record
    is kept and one warning gives the count. Before: 301 records for 300 members. On an
    org, members of several workspaces are one record too, without a warning."""
    emu = emulator_factory(
        WorkspaceConfig(seed=4, users=300, plan="enterprise", enterprise=True, workspaces=3)
        if org
        else WorkspaceConfig(seed=4, users=300, plan="plus")
    )
    change_answers(emu, "users.list", repeat_a_member())
    scopes = ENTERPRISE_USER_SCOPES if org else None
    # One workspace at a time, so calls 1 and 2 are one workspace's pages 1 and 2 (side by
    # side they would be two workspaces' first pages: a member of both, kept without warning).
    extra = {"max_concurrent_workspaces": 1} if org else {}
    config = oauth_config(emu, tmp_path, scopes=scopes, org_level=org, page_size=100, **extra)
    result = run_cli(config, tmp_path, catalog=select_only("users"))
    assert result.exit_code == 0, result.stderr[-3000:]
    ids = [r["id"] for r in result.records["users"]]
    assert len(ids) == len(set(ids)) == emu.workspace.user_count
    warned = [line for line in warning_lines(result) if "already sent" in line]
    assert len(warned) == 1 and "users: 1 " in warned[0], warned


def test_the_org_answered_with_a_workspace_is_no_team_record(
    emulator_factory, tmp_path: Path
) -> None:
    """On an org-level token team.info for the org is used only when it describes the org:
    answered with a workspace's team, a warning and no record. Before: two team records
    with the workspace's id."""
    emu = emulator_factory(GRID)
    org_id = emu.workspace.enterprise.id
    workspace = emu.workspace.team_ids[0]

    def as_a_workspace(reply: t.Any, _call: int) -> None:
        if reply.payload["team"]["id"] == org_id:
            reply.payload["team"] = {**reply.payload["team"], "id": workspace}

    change_answers(emu, "team.info", as_a_workspace)
    config = org_config(emu, tmp_path, "2015-01-01T00:00:00Z")
    result = run_cli(config, tmp_path, catalog=select_only("team"))
    assert result.exit_code == 0, result.stderr[-3000:]
    assert sorted(r["id"] for r in result.records["team"]) == sorted(emu.workspace.team_ids)
    warned = [line for line in warning_lines(result) if org_id in line]
    assert len(warned) == 1 and workspace in warned[0], warned
