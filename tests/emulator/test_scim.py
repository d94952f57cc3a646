"""The emulator's SCIM v2 ``/Users`` over HTTP: the roster, its paging, errors and the org's
one rate-limit bucket."""

from __future__ import annotations

import typing as t

import pytest
import requests

from tap_slack_snow_emulator import SlackEmulator, WorkspaceConfig
from tap_slack_snow_emulator.config import ENTERPRISE_USER_SCOPES

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def get(emu: SlackEmulator, token: str | None, **params: t.Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(f"{emu.scim_url}/Users", params=params, headers=headers, timeout=30)


def test_the_roster_is_users_list_people_with_the_same_ids(emulator_factory: t.Any) -> None:
    emu = emulator_factory(WorkspaceConfig(seed=2, users=300, plan="plus"))
    token = emu.issue_access_token()
    listed: list[dict[str, t.Any]] = []
    start = 1
    while True:
        body = get(emu, token, startIndex=start, count=70).json()
        listed += body["Resources"]
        start += len(body["Resources"])
        if not body["Resources"] or start > body["totalResults"]:
            break
    members = emu.workspace.members()
    people = {m["id"] for m in members if not m.get("is_bot") and m["id"] != "USLACKBOT"}
    assert [u["id"] for u in listed] == [u["id"] for u in emu.workspace.scim_users()]
    assert {u["id"] for u in listed} == people
    deleted = {m["id"] for m in members if m["deleted"]}
    assert {u["id"] for u in listed if not u["active"]} == deleted
    managers = {u[ENTERPRISE]["manager"].get("managerId") for u in listed if ENTERPRISE in u}
    assert managers - {None} <= people - deleted  # every manager is an active person


def test_pages_past_the_end_are_empty_and_count_is_capped(emulator_factory: t.Any) -> None:
    emu = emulator_factory(WorkspaceConfig(seed=2, users=1500, plan="plus"))
    token = emu.issue_access_token()
    body = get(emu, token, startIndex=1, count=5000).json()
    assert body["itemsPerPage"] == len(body["Resources"]) == 1000
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]
    past = get(emu, token, startIndex=body["totalResults"] + 1, count=10).json()
    assert past["Resources"] == [] and past["totalResults"] == body["totalResults"]


@pytest.mark.parametrize(
    ("plan", "grant", "status", "word"),
    [
        ("plus", None, 401, "invalid_authentication"),
        ("std", {}, 403, "plan_upgrade_required"),
        ("free", {}, 403, "plan_upgrade_required"),
        ("plus", {"scopes": ["users:read"]}, 403, "no_scope"),
        ("plus", {"user_is_admin": False}, 403, "permission_denied"),
        ("plus", {"bot": True}, 403, "user token"),
    ],
)
def test_errors_are_http_statuses_with_scims_errors_body(
    emulator_factory: t.Any, plan: str, grant: dict[str, t.Any] | None, status: int, word: str
) -> None:
    emu = emulator_factory(WorkspaceConfig(seed=2, users=20, plan=plan))
    token = emu.issue_access_token(**grant) if grant is not None else "xoxp-unknown"
    answer = get(emu, token)
    assert answer.status_code == status
    errors = answer.json()["Errors"]
    assert errors["code"] == status and word in errors["description"]


def test_an_unknown_scim_path_is_404(emulator: SlackEmulator) -> None:
    token = emulator.issue_access_token()
    answer = requests.get(
        f"{emulator.scim_url}/Userz", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert answer.status_code == 404 and answer.json()["Errors"]["code"] == 404


def test_grid_needs_an_org_level_token(emulator_factory: t.Any) -> None:
    emu = emulator_factory(
        WorkspaceConfig(seed=2, users=80, plan="enterprise", enterprise=True, workspaces=2)
    )
    workspace = emu.issue_access_token(scopes=ENTERPRISE_USER_SCOPES)
    org = emu.issue_access_token(scopes=ENTERPRISE_USER_SCOPES, org_level=True)
    assert get(emu, workspace).status_code == 403
    body = get(emu, org, count=1000).json()
    assert body["totalResults"] == len(emu.workspace.scim_indices())


def test_one_rate_limit_bucket_for_the_orgs_scim_reads(emulator_factory: t.Any) -> None:
    emu = emulator_factory(WorkspaceConfig(seed=2, users=20, plan="plus"))
    emu.minute_seconds = 60.0
    emu.scim_reads_per_minute = 3
    assert emu.scim_other_app_reads(2) == 2  # another app of the org
    first, second = emu.issue_access_token(), emu.issue_access_token()
    assert get(emu, first).status_code == 200
    limited = get(emu, second)  # another token, the same bucket
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.json()["Errors"]["code"] == 429
    assert emu.stats()["rate_limited"]["scim.Users"] == 1
