"""The emulator's Enterprise Grid org: auth.teams.list, unreadable workspaces, the org in
team.info, and rate limits per (method, workspace) bucket for workspace-level methods, per
method for org-level ones."""

from __future__ import annotations

import typing as t

import pytest
import requests

from tap_slack_snow_emulator import ENTERPRISE_USER_SCOPES, Fault, SlackEmulator, WorkspaceConfig

NOW = 1_750_000_000
GRID = WorkspaceConfig(
    seed=7,
    users=300,
    plan="enterprise",
    enterprise=True,
    workspaces=5,
    denied_workspaces=(1,),
    now=NOW,
)


@pytest.fixture
def grid() -> t.Iterator[SlackEmulator]:
    with SlackEmulator(GRID) as emu:
        yield emu


def post(emu: SlackEmulator, method: str, token: str, **form: t.Any) -> dict[str, t.Any]:
    response = requests.post(
        f"{emu.url}/{method}", data=form, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    body: dict[str, t.Any] = response.json()
    return body


def test_auth_teams_list_pages_every_workspace_of_the_org(grid: SlackEmulator) -> None:
    token = grid.issue_access_token(scopes=ENTERPRISE_USER_SCOPES, org_level=True)
    seen: list[dict[str, t.Any]] = []
    cursor = ""
    pages = 0
    while True:
        answer = post(grid, "auth.teams.list", token, limit=2, cursor=cursor)
        assert answer["ok"] is True
        seen += answer["teams"]
        pages += 1
        cursor = answer["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert [team["id"] for team in seen] == grid.workspace.team_ids
    assert all(team["name"] for team in seen)
    assert pages == 3
    assert post(grid, "auth.teams.list", token, limit=0)["error"] == "invalid_limit"
    assert post(grid, "auth.teams.list", token, limit=1001)["error"] == "invalid_limit"
    assert post(grid, "auth.teams.list", token, cursor="bogus")["error"] == "invalid_cursor"
    # default page of 100 holds the whole org
    assert len(post(grid, "auth.teams.list", token)["teams"]) == 5


def test_auth_teams_list_with_a_workspace_token_is_its_own_workspace(grid: SlackEmulator) -> None:
    team = grid.workspace.team_ids[2]
    token = grid.issue_access_token(scopes=ENTERPRISE_USER_SCOPES, team_id=team)
    answer = post(grid, "auth.teams.list", token)
    assert [t["id"] for t in answer["teams"]] == [team]


def test_denied_workspace_refuses_the_org_token(grid: SlackEmulator) -> None:
    token = grid.issue_access_token(scopes=ENTERPRISE_USER_SCOPES, org_level=True)
    denied = grid.workspace.team_ids[1]
    allowed = grid.workspace.team_ids[0]
    for method in ("users.list", "team.billableInfo", "team.integrationLogs", "team.accessLogs"):
        assert post(grid, method, token, team_id=denied)["error"] == "team_access_not_granted"
        assert post(grid, method, token, team_id=allowed)["ok"] is True, method
    assert post(grid, "team.info", token, team=denied)["error"] == "team_access_not_granted"
    # it is still listed: the app is approved for it, the token just cannot read it
    listed = post(grid, "auth.teams.list", token)["teams"]
    assert denied in [team["id"] for team in listed]


def test_team_info_answers_for_the_org(grid: SlackEmulator) -> None:
    token = grid.issue_access_token(scopes=ENTERPRISE_USER_SCOPES, org_level=True)
    enterprise = grid.workspace.enterprise
    assert enterprise is not None
    org = post(grid, "team.info", token, team=enterprise.id)["team"]
    assert org["id"] == enterprise.id and org["name"] == enterprise.name
    assert post(grid, "team.info", token)["team"]["id"] == enterprise.id


def test_rate_limit_windows_are_per_method_and_workspace() -> None:
    cfg = WorkspaceConfig(seed=2, users=50, plan="enterprise", enterprise=True, workspaces=2)
    with SlackEmulator(cfg, minute_seconds=30) as emu:
        token = emu.issue_access_token(scopes=ENTERPRISE_USER_SCOPES, org_level=True)
        first, second = emu.workspace.team_ids
        for _ in range(20):  # team.integrationLogs allows 20 a window
            assert post(emu, "team.integrationLogs", token, team_id=first)["ok"] is True
        assert post(emu, "team.integrationLogs", token, team_id=first)["error"] == "ratelimited"
        assert post(emu, "team.integrationLogs", token, team_id=second)["ok"] is True
        assert emu.rate_limited["team.integrationLogs"] == 1


def exhaust(emu: SlackEmulator, method: str, token: str, allowance: int, **form: t.Any) -> None:
    """Spend a bucket's whole window: every call is answered, the next one is not."""
    for _ in range(allowance):
        assert post(emu, method, token, **form)["ok"] is True, method
    assert post(emu, method, token, **form)["error"] == "ratelimited", method


def test_each_workspace_of_an_org_level_token_has_its_own_bucket_per_method() -> None:
    cfg = WorkspaceConfig(seed=2, users=50, plan="enterprise", enterprise=True, workspaces=3)
    with SlackEmulator(cfg, minute_seconds=30) as emu:
        token = emu.issue_access_token(scopes=ENTERPRISE_USER_SCOPES, org_level=True)
        first, second, third = emu.workspace.team_ids
        exhaust(emu, "users.list", token, 20, team_id=first, limit=1)
        # the other workspaces' users.list, and the first workspace's other methods, go on
        assert post(emu, "users.list", token, team_id=second, limit=1)["ok"] is True
        assert post(emu, "team.billableInfo", token, team_id=first, limit=1)["ok"] is True
        # team.info names its workspace as ``team``
        exhaust(emu, "team.info", token, 50, team=second)
        assert post(emu, "team.info", token, team=third)["ok"] is True
        # the org itself, or no workspace at all, is the org's one bucket of the method
        enterprise = emu.workspace.enterprise
        assert enterprise is not None
        exhaust(emu, "team.info", token, 50, team=enterprise.id)
        assert post(emu, "team.info", token)["error"] == "ratelimited"
        assert emu.rate_limited["users.list"] == 1
        assert emu.rate_limited["team.info"] == 3
        # the requests let through, per bucket (what a benchmark divides by the allowance)
        allowed = emu.bucket_requests
        assert allowed["users.list", first] == 20 and allowed["users.list", second] == 1
        assert allowed["team.info", second] == 50 and allowed["team.info", third] == 1
        assert allowed["team.info", None] == 50  # the org's one bucket
        assert {"method": "team.info", "workspace": None, "allowed": 50} in emu.stats()["buckets"]
        emu.reset_stats()
        assert emu.bucket_requests == {}


def test_an_org_level_method_has_one_bucket_whatever_team_id_names() -> None:
    cfg = WorkspaceConfig(seed=2, users=50, plan="enterprise", enterprise=True, workspaces=2)
    with SlackEmulator(cfg, minute_seconds=30) as emu:
        token = emu.issue_access_token(scopes=ENTERPRISE_USER_SCOPES, org_level=True)
        first, second = emu.workspace.team_ids
        for number in range(20):  # auth.teams.list: Tier 2, one bucket for the org
            team = first if number % 2 else second
            assert post(emu, "auth.teams.list", token, team_id=team)["ok"] is True
        assert post(emu, "auth.teams.list", token, team_id=first)["error"] == "ratelimited"
        assert post(emu, "auth.teams.list", token)["error"] == "ratelimited"
        for number in range(100):  # admin.users.list: Tier 4
            team = first if number % 2 else second
            assert post(emu, "admin.users.list", token, team_id=team, limit=1)["ok"] is True
        answer = post(emu, "admin.users.list", token, team_id=second, limit=1)
        assert answer["error"] == "ratelimited"


def test_a_workspace_level_token_counts_in_its_own_workspace() -> None:
    cfg = WorkspaceConfig(seed=2, users=50, plan="enterprise", enterprise=True, workspaces=2)
    with SlackEmulator(cfg, minute_seconds=30) as emu:
        first, second = emu.workspace.team_ids
        mine = emu.issue_access_token(scopes=ENTERPRISE_USER_SCOPES, team_id=first)
        other = emu.issue_access_token(scopes=ENTERPRISE_USER_SCOPES, team_id=second)
        again = emu.issue_access_token(scopes=ENTERPRISE_USER_SCOPES, team_id=first)
        exhaust(emu, "users.list", mine, 20, limit=1)
        # another token of the same workspace shares the bucket (one app), naming a team_id
        # or not; a token of another workspace has its own
        assert post(emu, "users.list", again, limit=1)["error"] == "ratelimited"
        assert post(emu, "users.list", again, team_id=second, limit=1)["error"] == "ratelimited"
        assert post(emu, "users.list", other, limit=1)["ok"] is True


def test_rate_limit_buckets_count_only_with_minute_seconds() -> None:
    cfg = WorkspaceConfig(seed=2, users=50, plan="enterprise", enterprise=True, workspaces=2)
    with SlackEmulator(cfg) as emu:
        token = emu.issue_access_token(scopes=ENTERPRISE_USER_SCOPES, org_level=True)
        first = emu.workspace.team_ids[0]
        for _ in range(25):
            assert post(emu, "users.list", token, team_id=first, limit=1)["ok"] is True
        assert not emu.rate_limited


def test_a_fault_narrowed_to_a_workspace_counts_that_workspaces_calls(grid: SlackEmulator) -> None:
    token = grid.issue_access_token(scopes=ENTERPRISE_USER_SCOPES, org_level=True)
    first, _denied, third = grid.workspace.team_ids[:3]
    grid.add_fault(Fault("users.list", "error", on_call=2, workspace=third, error="fatal_error"))
    # the first workspace's calls count for the method, not for the fault's workspace
    for _ in range(3):
        assert post(grid, "users.list", token, team_id=first, limit=5)["ok"] is True
    assert post(grid, "users.list", token, team_id=third, limit=5)["ok"] is True
    assert post(grid, "users.list", token, team_id=third, limit=5)["error"] == "fatal_error"
    assert post(grid, "users.list", token, team_id=third, limit=5)["ok"] is True
    # the JSON form (the control API) keeps the workspace
    (fault,) = grid.faults
    assert Fault.from_json(fault.to_json()) == fault
    assert fault.to_json()["workspace"] == third
