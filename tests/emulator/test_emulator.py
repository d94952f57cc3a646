"""Tests of the Slack Web API emulator itself, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import os
import signal
import subprocess
import sys
import threading
import time
import zlib
from collections import Counter
from pathlib import Path

import pytest
import requests

from tap_slack_snow_emulator import (
    BOT_SCOPES,
    ENTERPRISE_USER_SCOPES,
    STANDARD_USER_SCOPES,
    Fault,
    SlackEmulator,
    WorkspaceConfig,
)
from tap_slack_snow_emulator.faults import format_retry_after

NOW = 1_750_000_000  # 2025-06-15T15:06:40Z
TODAY = dt.date(2025, 6, 15)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def emu():
    with SlackEmulator(WorkspaceConfig(seed=1, users=250, plan="plus", now=NOW)) as e:
        yield e


@pytest.fixture
def grid():
    cfg = WorkspaceConfig(
        seed=7, users=300, plan="enterprise", enterprise=True, workspaces=3, now=NOW
    )
    with SlackEmulator(cfg) as e:
        yield e


@pytest.fixture
def session():
    with requests.Session() as s:
        yield s


def call(session, emu, method, token=None, verb="GET", timeout=10, **params):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if verb == "GET":
        return session.get(f"{emu.url}/{method}", params=params, headers=headers, timeout=timeout)
    return session.post(f"{emu.url}/{method}", data=params, headers=headers, timeout=timeout)


def refresh(session, emu, refresh_token, basic=True):
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    if basic:
        return session.post(
            f"{emu.url}/oauth.v2.access", data=data, auth=(emu.client_id, emu.client_secret)
        )
    data.update(client_id=emu.client_id, client_secret=emu.client_secret)
    return session.post(f"{emu.url}/oauth.v2.access", data=data)


def collect_users(session, emu, token, limit, **params):
    members, cursors, pages = [], [], []
    cursor = None
    for _ in range(10_000):
        args = dict(params, limit=limit)
        if cursor:
            args["cursor"] = cursor
        body = call(session, emu, "users.list", token, **args).json()
        assert body["ok"] is True, body
        members += body["members"]
        pages.append(len(body["members"]))
        cursor = body["response_metadata"]["next_cursor"]
        if not cursor:
            return members, cursors, pages
        cursors.append(cursor)
    raise AssertionError("pagination did not end")


# --------------------------------------------------------------------------- pagination
def test_users_list_pagination_covers_every_member_once(emu, session):
    token = emu.issue_access_token()
    members, cursors, pages = collect_users(session, emu, token, 37)
    ids = [m["id"] for m in members]
    assert len(ids) == 250 == emu.workspace.user_count
    assert len(set(ids)) == 250
    assert ids == [m["id"] for m in emu.workspace.members()]
    assert pages == [37] * 6 + [28]
    assert all(c.endswith("=") for c in cursors)
    by_id = {m["id"]: m for m in members}
    slackbot = by_id["USLACKBOT"]
    assert slackbot["is_bot"] is False
    kinds = Counter()
    for m in members:
        kinds["deleted"] += m["deleted"]
        kinds["bot"] += m["is_bot"]
        if not m["deleted"]:
            kinds["admin"] += m["is_admin"]
            kinds["owner"] += m["is_owner"]
            kinds["primary"] += m["is_primary_owner"]
            kinds["guest"] += m["is_restricted"]
            kinds["single"] += m["is_ultra_restricted"]
            kinds["invited"] += m.get("is_invited_user", False)
    assert kinds["primary"] == 1
    for key in ("deleted", "bot", "admin", "owner", "guest", "single", "invited"):
        assert kinds[key] > 0, key
    bots = [m for m in members if m["is_bot"]]
    assert all(m["profile"]["bot_id"].startswith("B") for m in bots)
    # non-enterprise default scopes have no users:read.email
    assert not any("email" in m["profile"] for m in members)
    assert "enterprise_user" not in members[1]


def test_users_list_without_limit_and_limits(session):
    with SlackEmulator(WorkspaceConfig(users=1001, now=NOW)) as big:
        token = big.issue_access_token()
        assert call(session, big, "users.list", token).json() == {
            "ok": False,
            "error": "limit_required",
        }
        body = call(session, big, "users.list", token, limit=5000).json()
        assert len(body["members"]) == 1000
        assert body["response_metadata"]["next_cursor"]
    with SlackEmulator(WorkspaceConfig(users=40, now=NOW)) as small:
        token = small.issue_access_token()
        body = call(session, small, "users.list", token).json()
        assert len(body["members"]) == 40
        assert body["response_metadata"]["next_cursor"] == ""
        assert body["cache_ts"] == NOW
        bad = call(session, small, "users.list", token, limit=10, cursor="bm9wZQ==").json()
        assert bad == {"ok": False, "error": "invalid_cursor"}


def test_short_pages_still_cover_everyone(session):
    cfg = WorkspaceConfig(seed=2, users=300, short_pages=True, now=NOW)
    with SlackEmulator(cfg) as e:
        token = e.issue_access_token()
        members, _, pages = collect_users(session, e, token, 20)
        assert len(members) == 300
        assert len({m["id"] for m in members}) == 300
        assert 0 in pages[:-1]  # an empty page with a next cursor
        assert any(0 < p < 20 for p in pages[:-1])


def test_billable_info_pages_and_single_user(emu, session):
    token = emu.issue_access_token()
    info, cursor = {}, None
    while True:
        args = {"limit": 50}
        if cursor:
            args["cursor"] = cursor
        body = call(session, emu, "team.billableInfo", token, **args).json()
        assert body["ok"], body
        assert not set(info) & set(body["billable_info"])
        info.update(body["billable_info"])
        cursor = body["response_metadata"]["next_cursor"]
        if not cursor:
            break
    expected = emu.workspace.billable_info()
    assert info == expected
    assert emu.workspace.billable_user_ids() == list(expected)
    active = emu.workspace.billing_active_user_ids()
    assert 0.65 < len(active) / len(expected) < 0.95
    assert "USLACKBOT" not in info
    uid = active[0]
    one = call(session, emu, "team.billableInfo", token, user=uid).json()
    assert one == {"ok": True, "billable_info": {uid: {"billing_active": True}}}
    missing = call(session, emu, "team.billableInfo", token, user="U000").json()
    assert missing["error"] == "user_not_found"


def test_admin_users_list_on_grid(grid, session):
    token = grid.issue_access_token(org_level=True)
    users, cursor, pages = [], None, 0
    while True:
        args = {"limit": 1000}  # clamped to 100
        if cursor:
            args["cursor"] = cursor
        body = call(session, grid, "admin.users.list", token, verb="POST", **args).json()
        assert body["ok"], body
        assert len(body["users"]) <= 100
        users += body["users"]
        pages += 1
        cursor = body["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert users == grid.workspace.admin_users()
    assert pages == -(-len(users) // 100)
    assert all(u["is_active"] for u in users)
    keys = {
        "id",
        "email",
        "is_admin",
        "is_owner",
        "is_primary_owner",
        "is_restricted",
        "is_ultra_restricted",
        "is_bot",
        "username",
        "full_name",
        "is_active",
        "date_created",
        "deactivated_ts",
        "expiration_ts",
        "workspaces",
        "has_2fa",
        "has_sso",
        "roles",
        "last_active_ts",
    }
    assert set(users[0]) == keys
    assert any(u["expiration_ts"] > 0 for u in users if u["is_restricted"])
    gone = call(session, grid, "admin.users.list", token, is_active="false", limit=100).json()
    assert gone["users"]
    assert not any(u["is_active"] for u in gone["users"])
    team = grid.workspace.teams[1].id
    in_team = call(session, grid, "admin.users.list", token, team_id=team, limit=100).json()
    assert all(team in u["workspaces"] for u in in_team["users"])
    ws_token = grid.issue_access_token(org_level=False)
    assert call(session, grid, "admin.users.list", ws_token).json()["error"] == (
        "feature_not_enabled"
    )


# --------------------------------------------------------------------------- auth & scopes
def test_scopes_headers_and_errors(emu, session):
    token = emu.issue_access_token()
    r = call(session, emu, "team.info", token)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    assert r.headers["x-oauth-scopes"] == ",".join(STANDARD_USER_SCOPES)
    assert r.headers["x-accepted-oauth-scopes"] == "team:read"
    assert r.json() == {
        "ok": False,
        "error": "missing_scope",
        "needed": "team:read",
        "provided": "admin,users:read,team.billing:read",
    }
    assert call(session, emu, "team.billing.info", token).json() == {"ok": True, "plan": "plus"}
    assert call(session, emu, "users.list").json() == {"ok": False, "error": "not_authed"}
    assert call(session, emu, "users.list", "xoxp-nope").json()["error"] == "invalid_auth"
    # token in the query string is refused
    r = session.get(f"{emu.url}/users.list", params={"token": token})
    assert r.json()["error"] == "not_authed"
    assert emu.query_token_requests == 1
    # form field token works, JSON with Bearer works
    r = session.post(f"{emu.url}/auth.test", data={"token": token})
    assert r.json()["ok"] is True
    r = session.post(
        f"{emu.url}/users.list",
        json={"limit": 2},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert len(r.json()["members"]) == 2
    r = session.post(
        f"{emu.url}/users.list",
        data="[1]",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert r.json()["error"] == "json_not_object"
    bot = emu.issue_access_token(bot=True)
    assert bot.startswith("xoxb-")
    assert call(session, emu, "team.accessLogs", bot).json()["error"] == "not_allowed_token_type"
    assert call(session, emu, "bookmarks.list", bot, channel_id="C1").json()["ok"] is True
    member = emu.issue_access_token(user_is_admin=False)
    assert call(session, emu, "team.accessLogs", member).json()["error"] == "not_an_admin"
    assert call(session, emu, "users.list", member, limit=1).json()["ok"] is True
    assert call(session, emu, "admin.users.list", token).json()["error"] == "missing_scope"
    custom = emu.issue_access_token(scopes=["admin.users:read"])
    assert call(session, emu, "admin.users.list", custom).json()["error"] == ("feature_not_enabled")
    assert call(session, emu, "no.such", token).json()["error"] == "unknown_method"


def test_scope_lists():
    assert ENTERPRISE_USER_SCOPES == [
        "admin",
        "users:read",
        "team:read",
        "users:read.email",
        "admin.users:read",
        "admin.analytics:read",
        "team.billing:read",
    ]
    assert STANDARD_USER_SCOPES == ["admin", "users:read", "team.billing:read"]
    assert BOT_SCOPES == ["bookmarks:read"]


def test_plans(session):
    with SlackEmulator(WorkspaceConfig(plan="free", users=30, now=NOW)) as free:
        token = free.issue_access_token()
        assert call(session, free, "team.accessLogs", token).json() == {
            "ok": False,
            "error": "paid_only",
        }
        assert call(session, free, "team.billableInfo", token).json()["ok"] is True
        assert call(session, free, "team.integrationLogs", token).json()["ok"] is True
        assert call(session, free, "team.billing.info", token).json()["plan"] == "free"


def test_org_level_tokens(grid, session):
    token = grid.issue_access_token(org_level=True)
    ent = grid.workspace.enterprise
    auth = call(session, grid, "auth.test", token).json()
    assert auth["is_enterprise_install"] is True
    assert auth["team_id"] == ent.id == auth["enterprise_id"]
    for method in ("users.list", "team.billableInfo", "team.integrationLogs"):
        assert call(session, grid, method, token).json() == {
            "ok": False,
            "error": "missing_argument",
        }, method
    team = grid.workspace.teams[2].id
    body = call(session, grid, "users.list", token, team_id=team, limit=1000).json()
    expected = grid.workspace.members(team)
    assert [m["id"] for m in body["members"]] == [m["id"] for m in expected]
    assert 0 < len(expected) < 300
    assert all(m["enterprise_user"]["enterprise_id"] == ent.id for m in body["members"])
    assert all(
        "email" in m["profile"]
        for m in body["members"]
        if not m["is_bot"] and m["id"] != "USLACKBOT"
    )
    logs = call(session, grid, "team.accessLogs", token, count=1000).json()
    assert logs["paging"]["total"] == 2500
    ws_token = grid.issue_access_token()
    ws_auth = call(session, grid, "auth.test", ws_token).json()
    assert ws_auth["team_id"] == grid.workspace.teams[0].id
    assert ws_auth["is_enterprise_install"] is False
    info = call(session, grid, "team.info", ws_token).json()["team"]
    assert info["enterprise_id"] == ent.id
    assert info["id"] == grid.workspace.teams[0].id


# --------------------------------------------------------------------------- OAuth
def test_refresh_rotation_grace_and_two_token_rule(emu, session):
    rt0 = emu.issue_refresh_token()
    assert rt0.startswith("xoxe-1-")
    first = refresh(session, emu, rt0).json()
    assert first["ok"]
    assert first["token_type"] == "user"
    assert first["access_token"].startswith("xoxe.xoxp-")
    assert first["refresh_token"].startswith("xoxe-1-")
    assert first["refresh_token"] != rt0
    assert first["expires_in"] == 43200
    assert first["scope"] == "admin,users:read,team.billing:read"
    assert first["team"]["id"] == emu.workspace.primary_team.id
    assert first["enterprise"] is None
    assert first["is_enterprise_install"] is False
    assert first["user_id"] == emu.workspace.user_id(1)
    # replay inside the grace window answers the same pair
    again = refresh(session, emu, rt0, basic=False).json()
    assert again == first
    emu.advance(31)
    assert refresh(session, emu, rt0).json() == {"ok": False, "error": "invalid_refresh_token"}
    # 2-active-token rule
    second = refresh(session, emu, first["refresh_token"]).json()
    third = refresh(session, emu, second["refresh_token"]).json()
    assert call(session, emu, "auth.test", first["access_token"]).json()["error"] == (
        "token_revoked"
    )
    assert call(session, emu, "auth.test", second["access_token"]).json()["ok"] is True
    assert call(session, emu, "auth.test", third["access_token"]).json()["ok"] is True
    assert emu.refreshes == 4
    # grace 0: the old refresh token dies at once
    emu.refresh_grace_seconds = 0
    fourth = refresh(session, emu, third["refresh_token"]).json()
    assert fourth["ok"]
    assert refresh(session, emu, third["refresh_token"]).json()["error"] == (
        "invalid_refresh_token"
    )
    # client credentials
    bad = session.post(
        f"{emu.url}/oauth.v2.access",
        data={"grant_type": "refresh_token", "refresh_token": fourth["refresh_token"]},
        auth=(emu.client_id, "wrong"),
    ).json()
    assert bad == {"ok": False, "error": "bad_client_secret"}
    bad = session.post(
        f"{emu.url}/oauth.v2.access",
        data={"grant_type": "refresh_token", "refresh_token": fourth["refresh_token"]},
        auth=("123.456", emu.client_secret),
    ).json()
    assert bad == {"ok": False, "error": "invalid_client_id"}
    wrong_grant = session.post(
        f"{emu.url}/oauth.v2.access",
        data={"grant_type": "password"},
        auth=(emu.client_id, emu.client_secret),
    ).json()
    assert wrong_grant["error"] == "invalid_grant_type"


def test_access_token_expiry(emu, session):
    rotating = emu.issue_access_token(rotating=True)
    static = emu.issue_access_token()
    assert rotating.startswith("xoxe.xoxp-")
    assert static.startswith("xoxp-")
    assert call(session, emu, "auth.test", rotating).json()["expires_in"] == 43200
    emu.advance(43199)
    assert call(session, emu, "auth.test", rotating).json()["ok"] is True
    emu.advance(1)
    assert call(session, emu, "auth.test", rotating).json() == {
        "ok": False,
        "error": "token_expired",
    }
    assert call(session, emu, "auth.test", static).json()["ok"] is True
    emu.expire_access_tokens()
    assert call(session, emu, "auth.test", static).json()["error"] == "token_expired"
    assert call(session, emu, "auth.test", emu.issue_access_token()).json()["ok"] is True


def test_auth_code_exchange(grid, session):
    code = grid.issue_auth_code(org_level=True, redirect_uri="https://example.com/cb")
    creds = {"client_id": grid.client_id, "client_secret": grid.client_secret}
    bad = session.post(
        f"{grid.url}/oauth.v2.access",
        data={**creds, "code": code, "redirect_uri": "https://example.com/other"},
    ).json()
    assert bad == {"ok": False, "error": "bad_redirect_uri"}
    good = session.post(
        f"{grid.url}/oauth.v2.access",
        data={
            **creds,
            "code": code,
            "redirect_uri": "https://example.com/cb",
            "grant_type": "authorization_code",
        },
    ).json()
    assert good["ok"]
    assert good["token_type"] == "bot"
    assert good["access_token"].startswith("xoxe.xoxb-")
    assert good["scope"] == "bookmarks:read"
    assert good["team"] is None
    assert good["is_enterprise_install"] is True
    assert good["enterprise"]["id"] == grid.workspace.enterprise.id
    user = good["authed_user"]
    assert user["token_type"] == "user"
    assert user["access_token"].startswith("xoxe.xoxp-")
    assert user["scope"].split(",") == ENTERPRISE_USER_SCOPES
    assert user["refresh_token"].startswith("xoxe-1-")
    assert user["expires_in"] == 43200
    assert call(session, grid, "admin.users.list", user["access_token"]).json()["ok"] is True
    assert refresh(session, grid, user["refresh_token"]).json()["ok"] is True
    reuse = session.post(f"{grid.url}/oauth.v2.access", data={**creds, "code": code}).json()
    assert reuse == {"ok": False, "error": "invalid_code"}
    late = grid.issue_auth_code()
    grid.advance(601)
    assert (
        session.post(f"{grid.url}/oauth.v2.access", data={**creds, "code": late}).json()["error"]
        == "invalid_code"
    )


# --------------------------------------------------------------------------- rate limits
def test_rate_limit_429_with_retry_after(session):
    with SlackEmulator(WorkspaceConfig(users=20, now=NOW), minute_seconds=3.0) as e:
        token = e.issue_access_token()
        codes = [call(session, e, "users.list", token).status_code for _ in range(21)]
        assert codes == [200] * 20 + [429]
        r = call(session, e, "users.list", token)
        assert r.status_code == 429
        assert r.json() == {"ok": False, "error": "ratelimited"}
        assert r.headers["Content-Type"] == "application/json; charset=utf-8"
        wait = float(r.headers["Retry-After"])
        assert 0 < wait <= 3.0
        assert len(r.headers["Retry-After"].partition(".")[2]) <= 3
        assert e.rate_limited["users.list"] == 2
        assert e.calls["users.list"] == 22
        # other methods are not affected
        assert call(session, e, "auth.test", token).status_code == 200
        # a shorter window has already ended: the next request opens a new one
        e.minute_seconds = 0.2
        time.sleep(0.25)
        assert call(session, e, "users.list", token).status_code == 200
        e.minute_seconds = None
        assert all(call(session, e, "users.list", token).status_code == 200 for _ in range(25))


def test_retry_after_format():
    assert format_retry_after(0.1372, 0.5) == "0.137"
    assert format_retry_after(0.0, 0.5) == "0.001"
    assert format_retry_after(0.25, 1.0) == "0.25"
    assert format_retry_after(12.2, 60.0) == "13"
    assert format_retry_after(12.0, None) == "12"


# --------------------------------------------------------------------------- faults
def test_fault_on_call_and_times(emu, session):
    token = emu.issue_access_token()
    emu.add_fault(Fault(method="users.list", kind="http_500", on_call=2, times=3))
    codes = [call(session, emu, "users.list", token, limit=1).status_code for _ in range(6)]
    assert codes == [200, 500, 500, 500, 200, 200]
    assert emu.calls["users.list"] == 6
    emu.clear_faults()
    emu.add_fault(Fault("auth.test", "http_503"))
    r = call(session, emu, "auth.test", token)
    assert r.status_code == 503
    assert "text/html" in r.headers["Content-Type"]
    emu.add_fault(Fault("auth.test", "http_429", on_call=2, retry_after=3))
    r = call(session, emu, "auth.test", token)
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "3"
    assert emu.rate_limited["auth.test"] == 1


def test_fault_http_429_scaled(session):
    with SlackEmulator(WorkspaceConfig(users=10, now=NOW), minute_seconds=6.0) as e:
        e.add_fault(Fault("auth.test", "http_429"))
        r = call(session, e, "auth.test", e.issue_access_token())
        assert r.status_code == 429
        assert r.headers["Retry-After"] == "0.1"


def test_fault_reset_and_timeout(emu, session):
    token = emu.issue_access_token()
    emu.add_fault(Fault("users.list", "reset"))
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        call(session, emu, "users.list", token, limit=50)
    emu.add_fault(Fault("users.info", "reset", rst=True))
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        call(session, emu, "users.info", token, user="USLACKBOT")
    assert call(session, emu, "users.list", token, limit=1).json()["ok"] is True
    emu.add_fault(Fault("auth.test", "timeout", seconds=1.0))
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        call(session, emu, "auth.test", token, timeout=0.3)
    assert time.monotonic() - started < 0.9
    slow = time.monotonic()
    emu.clear_faults()
    emu.add_fault(Fault("auth.test", "timeout", on_call=2, seconds=0.4))
    assert call(session, emu, "auth.test", token).json()["ok"] is True
    assert time.monotonic() - slow >= 0.4


def test_reset_after_refresh_keeps_grace(emu, session):
    rt = emu.issue_refresh_token()
    emu.add_fault(Fault("oauth.v2.access", "reset"))
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        refresh(session, emu, rt)
    # the rotation happened server side; the old token still works inside the grace window
    body = refresh(session, emu, rt).json()
    assert body["ok"] is True
    assert emu.refreshes == 2


def test_fault_payload_kinds(emu, session):
    token = emu.issue_access_token()
    emu.add_fault(Fault("users.list", "error", error="internal_error", needed="x"))
    emu.add_fault(Fault("users.list", "token_expired", on_call=2))
    emu.add_fault(Fault("users.list", "non_json", on_call=3))
    emu.add_fault(Fault("users.list", "missing_ok", on_call=4))
    emu.add_fault(Fault("users.list", "wrong_types", on_call=5))
    emu.add_fault(Fault("users.list", "nulls", on_call=6))
    emu.add_fault(Fault("users.list", "huge_string", on_call=7))
    results = [call(session, emu, "users.list", token, limit=3) for _ in range(8)]
    assert results[0].json() == {"ok": False, "error": "internal_error", "needed": "x"}
    assert results[1].json() == {"ok": False, "error": "token_expired"}
    assert results[2].status_code == 200
    assert results[2].text.startswith("<!DOCTYPE html>")
    with pytest.raises(requests.exceptions.JSONDecodeError):
        results[2].json()
    body = results[3].json()
    assert "ok" not in body
    assert len(body["members"]) == 3
    body = results[4].json()
    assert isinstance(body["members"], str)
    assert isinstance(body["response_metadata"], list)
    body = results[5].json()
    assert body["members"] is None
    assert body["ok"] is True
    body = results[6].json()
    assert len(body["members"][0]["name"]) == 5 * 1024 * 1024
    assert results[7].json()["ok"] is True
    assert len(results[7].json()["members"]) == 3


def test_gzip_faults(grid, session):
    token = grid.issue_access_token(org_level=True)
    day = (TODAY - dt.timedelta(days=3)).isoformat()
    grid.add_fault(Fault("admin.analytics.getFile", "truncated_gzip"))
    grid.add_fault(Fault("admin.analytics.getFile", "corrupt_gzip", on_call=2))
    r = call(session, grid, "admin.analytics.getFile", token, type="member", date=day)
    assert r.headers["Content-Type"] == "application/gzip"
    with pytest.raises((EOFError, zlib.error, gzip.BadGzipFile)):
        gzip.decompress(r.content)
    r = call(session, grid, "admin.analytics.getFile", token, type="member", date=day)
    assert r.headers["Content-Type"] == "application/gzip"
    assert len(r.content) == 2048
    with pytest.raises((EOFError, zlib.error, gzip.BadGzipFile, OSError)):
        gzip.decompress(r.content)
    r = call(session, grid, "admin.analytics.getFile", token, type="member", date=day)
    assert len(gzip.decompress(r.content).splitlines()) == 300


# --------------------------------------------------------------------------- analytics
def test_analytics_window_and_content(grid, session):
    token = grid.issue_access_token(org_level=True)

    def get(**params):
        return call(session, grid, "admin.analytics.getFile", token, **params)

    newest = TODAY - dt.timedelta(days=2)
    assert get(type="member", date=(newest + dt.timedelta(days=1)).isoformat()).json() == {
        "ok": False,
        "error": "file_not_yet_available",
    }
    assert get(type="member", date=TODAY.isoformat()).json()["error"] == ("file_not_yet_available")
    assert get(type="member", date="2024-05-14").json()["error"] == "data_not_available"
    assert get(type="member", date="2025-13-01").json()["error"] == "invalid_date"
    assert get(type="member", date="yesterday").json()["error"] == "invalid_date"
    assert get(type="members", date="2025-06-01").json()["error"] == "invalid_type"
    assert get(type="member").json()["error"] == "invalid_arguments"
    oldest = get(type="member", date="2024-05-15")
    assert oldest.headers["Content-Type"] == "application/gzip"
    r = get(type="member", date=newest.isoformat())
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/gzip"
    assert r.headers.get("Transfer-Encoding") == "chunked"
    raw = gzip.decompress(r.content).decode()
    assert raw.endswith("\n")
    rows = [json.loads(line) for line in raw.splitlines()]
    assert len(rows) == 300
    assert rows == grid.workspace.analytics_rows(newest.isoformat())
    fields = [
        "enterprise_id",
        "date",
        "user_id",
        "team_id",
        "email_address",
        "enterprise_employee_number",
        "is_guest",
        "is_billable_seat",
        "is_active",
        "is_active_ios",
        "is_active_android",
        "is_active_desktop",
        "reactions_added_count",
        "messages_posted_count",
        "channel_messages_posted_count",
        "files_added_count",
        "is_active_apps",
        "is_active_workflows",
        "is_active_slack_connect",
        "total_calls_count",
        "slack_calls_count",
        "slack_huddles_count",
        "search_count",
        "date_claimed",
    ]
    assert all(list(row) == fields for row in rows)
    assert {row["date"] for row in rows} == {newest.isoformat()}
    assert {row["enterprise_id"] for row in rows} == {grid.workspace.enterprise.id}
    assert 0 < sum(row["is_active"] for row in rows) < 300
    # cached second download: same bytes, with Content-Length
    again = get(type="member", date=newest.isoformat())
    assert again.content == r.content
    assert int(again.headers["Content-Length"]) == len(r.content)
    # moving the clock moves the window
    grid.advance(86400)
    assert get(type="member", date=(newest + dt.timedelta(days=1)).isoformat()).status_code == 200
    channels = get(type="public_channel", date=newest.isoformat())
    assert channels.headers["Content-Type"] == "application/gzip"
    assert json.loads(gzip.decompress(channels.content).splitlines()[0])["visibility"] == "public"


def test_analytics_needs_enterprise(emu, session):
    token = emu.issue_access_token(scopes=["admin.analytics:read"])
    body = call(session, emu, "admin.analytics.getFile", token, type="member", date="2025-06-01")
    assert body.json() == {"ok": False, "error": "feature_not_enabled"}


def test_analytics_rows_per_day(session):
    cfg = WorkspaceConfig(
        users=50,
        plan="enterprise",
        enterprise=True,
        analytics_rows_per_day=120,
        analytics_lag_days=5,
        now=NOW,
    )
    with SlackEmulator(cfg) as e:
        token = e.issue_access_token(org_level=True)
        day = (TODAY - dt.timedelta(days=5)).isoformat()
        r = call(session, e, "admin.analytics.getFile", token, type="member", date=day)
        rows = gzip.decompress(r.content).splitlines()
        assert len(rows) == 120 == len({json.loads(x)["user_id"] for x in rows})
        later = (TODAY - dt.timedelta(days=4)).isoformat()
        assert (
            call(session, e, "admin.analytics.getFile", token, type="member", date=later).json()[
                "error"
            ]
            == "file_not_yet_available"
        )


# --------------------------------------------------------------------------- logs
def test_access_logs_paging_and_before(emu, session):
    token = emu.issue_access_token()
    entries = emu.workspace.access_log_entries()
    assert len(entries) == 2500
    got = []
    for page in range(1, 4):
        body = call(session, emu, "team.accessLogs", token, count=1000, page=page).json()
        assert body["paging"] == {"count": 1000, "total": 2500, "page": page, "pages": 3}
        got += body["logins"]
    assert got == entries
    dates = [e["date_last"] for e in got]
    assert dates == sorted(dates, reverse=True)
    assert len({(e["user_id"], e["ip"], e["user_agent"]) for e in got}) == 2500
    assert set(got[0]) == {
        "user_id",
        "username",
        "date_first",
        "date_last",
        "count",
        "ip",
        "user_agent",
        "isp",
        "country",
        "region",
    }
    before = entries[1200]["date_last"]
    body = call(session, emu, "team.accessLogs", token, before=before, count=100).json()
    assert body["paging"]["total"] == 1300
    assert body["logins"][0] == entries[1200]
    assert call(session, emu, "team.accessLogs", token, count=1001).json()["error"] == (
        "over_pagination_limit"
    )
    assert call(session, emu, "team.accessLogs", token, page=101).json()["error"] == (
        "over_pagination_limit"
    )
    assert call(session, emu, "team.accessLogs", token, page=30).json()["logins"] == []
    # cursor mode
    cursor, via_cursor = None, []
    while True:
        args = {"limit": 700}
        if cursor:
            args["cursor"] = cursor
        body = call(session, emu, "team.accessLogs", token, **args).json()
        assert "paging" not in body
        via_cursor += body["logins"]
        cursor = body["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert via_cursor == entries
    assert call(session, emu, "team.accessLogs", token, limit=0).json()["error"] == (
        "invalid_limit"
    )


def test_access_log_touch_and_add(emu, session):
    token = emu.issue_access_token()
    before = emu.workspace.access_log_entries()
    touched = emu.workspace.touch_access_logs(5)
    added = emu.workspace.add_access_logs(2)
    after = call(session, emu, "team.accessLogs", token, count=10).json()
    assert after["paging"]["total"] == 2502
    top = after["logins"][:7]
    assert {(e["ip"], e["count"]) for e in top[2:]} == {(e["ip"], e["count"]) for e in touched}
    assert all(e["date_last"] == NOW + 1 for e in top)
    old = {e["ip"]: e for e in before}
    for e in touched:
        assert e["count"] == old[e["ip"]]["count"] + 1
        assert e["date_first"] == old[e["ip"]]["date_first"]
    assert {e["ip"] for e in added}.isdisjoint(old)
    assert all(e["count"] == 1 for e in added)
    everything = emu.workspace.access_log_entries()
    assert len(everything) == 2502
    assert len({e["ip"] for e in everything}) == 2502


@pytest.mark.parametrize(("total", "boundary"), [(2500, 1000), (100_050, 100_000)])
def test_access_log_tie_straddles_window_edge(total, boundary):
    cfg = WorkspaceConfig(users=100, access_logs=total, access_log_tie_size=10, now=NOW)
    e = SlackEmulator(cfg)
    first, end, date = e.workspace.access_log_tie
    assert first < boundary < end
    assert end - first == 10
    page, _ = e.workspace.access.page(None, boundary - 20, 40)
    dates = [x["date_last"] for x in page]
    assert dates.count(date) == 10
    assert dates[19] == dates[20] == date
    assert dates == sorted(dates, reverse=True)


def test_integration_logs(emu, session):
    token = emu.issue_access_token()
    body = call(session, emu, "team.integrationLogs", token, count=50, page=3).json()
    assert body["paging"] == {"count": 50, "total": 120, "page": 3, "pages": 3}
    assert len(body["logs"]) == 20
    logs = emu.workspace.integration_log_entries()
    assert body["logs"] == logs[100:]
    assert all(isinstance(x["date"], str) and x["date"].isdigit() for x in logs)
    assert [int(x["date"]) for x in logs] == sorted((int(x["date"]) for x in logs), reverse=True)
    added = call(session, emu, "team.integrationLogs", token, change_type="added").json()
    assert added["logs"]
    assert all(x["change_type"] == "added" for x in added["logs"])
    assert added["paging"]["total"] == sum(x["change_type"] == "added" for x in logs)
    new = emu.workspace.add_integration_logs(3)
    body = call(session, emu, "team.integrationLogs", token, count=3).json()
    assert body["logs"] == new
    assert body["paging"]["total"] == 123
    assert int(new[-1]["date"]) > int(logs[0]["date"])


# --------------------------------------------------------------------------- determinism
def test_determinism(session):
    def snapshot(seed):
        cfg = WorkspaceConfig(
            seed=seed, users=120, plan="enterprise", enterprise=True, workspaces=2, now=NOW
        )
        with SlackEmulator(cfg) as e:
            token = e.issue_access_token(org_level=True)
            team = e.workspace.teams[0].id
            members = call(session, e, "users.list", token, team_id=team).json()["members"]
            logs = call(session, e, "team.accessLogs", token, count=200).json()["logins"]
            day = (TODAY - dt.timedelta(days=10)).isoformat()
            r = call(session, e, "admin.analytics.getFile", token, type="member", date=day)
            admins = e.workspace.admin_users()
            return members, logs, gzip.decompress(r.content), admins

    a, b, c = snapshot(5), snapshot(5), snapshot(6)
    assert a == b
    assert a[0] != c[0]
    assert a[1] != c[1]
    assert a[2] != c[2]


# --------------------------------------------------------------------------- plumbing
def test_control_endpoints(emu, session):
    base = emu.url.removesuffix("/api")
    r = session.post(
        f"{base}/_emulator/faults",
        json={"method": "auth.test", "kind": "error", "error": "fatal_error"},
    )
    assert r.json() == {"ok": True}
    rt = session.post(f"{base}/_emulator/issue-refresh-token", json={}).json()["refresh_token"]
    access = refresh(session, emu, rt).json()["access_token"]
    assert call(session, emu, "auth.test", access).json()["error"] == "fatal_error"
    session.post(f"{base}/_emulator/reset-faults")
    assert call(session, emu, "auth.test", access).json()["ok"] is True
    stats = session.get(f"{base}/_emulator/stats").json()
    assert stats["calls"] == {"oauth.v2.access": 1, "auth.test": 2}
    assert stats["refreshes"] == 1
    assert stats["rate_limited"] == {}
    assert [r.method for r in emu.requests] == ["oauth.v2.access", "auth.test", "auth.test"]
    assert emu.requests[0].form["grant_type"] == "refresh_token"
    assert emu.requests[0].headers["Authorization"].startswith("Basic ")
    assert base64.b64decode(emu.requests[0].headers["Authorization"][6:]).decode() == (
        f"{emu.client_id}:{emu.client_secret}"
    )


def test_concurrent_requests(emu):
    token = emu.issue_access_token()
    errors = []

    def worker():
        with requests.Session() as s:
            for _ in range(10):
                body = call(s, emu, "users.list", token, limit=100).json()
                if len(body.get("members", [])) != 100:
                    errors.append(body)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert emu.calls["users.list"] == 80
    assert len(emu.requests) == 80


def test_command_line(tmp_path, session):
    config_path = tmp_path / "config.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tap_slack_snow_emulator",
            "--port",
            "0",
            "--users",
            "60",
            "--plan",
            "plus",
            "--seed",
            "3",
            "--write-config",
            str(config_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("emulator listening on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[1]
        cfg = json.loads(config_path.read_text())
        assert cfg["api_url"] == url
        assert cfg["scim_url"] == url.removesuffix("/api") + "/scim/v2"
        assert set(cfg) == {
            "api_url",
            "scim_url",
            "client_id",
            "client_secret",
            "refresh_token",
            "start_date",
        }
        r = session.post(
            f"{url}/oauth.v2.access",
            data={
                "grant_type": "refresh_token",
                "refresh_token": cfg["refresh_token"],
                "client_id": cfg["client_id"],
                "client_secret": cfg["client_secret"],
            },
        ).json()
        assert r["ok"] is True
        users = session.get(
            f"{url}/users.list", headers={"Authorization": f"Bearer {r['access_token']}"}
        ).json()
        assert len(users["members"]) == 60
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


# --------------------------------------------------------------------------- page cache
def test_page_cache_serves_the_same_bytes_and_keeps_the_pipeline():
    """With cache_pages on, a repeated call gets the first body byte for byte, while
    scopes, faults, rate limits and workspace changes still apply on every request."""
    config = WorkspaceConfig(seed=2, users=120, plan="plus", access_logs=50, now=NOW)
    with SlackEmulator(config, cache_pages=True) as cached, requests.Session() as session:
        token = cached.issue_access_token()
        first = call(session, cached, "users.list", token, limit=50)
        second = call(session, cached, "users.list", token, limit=50)
        assert first.status_code == second.status_code == 200
        assert first.content == second.content
        assert cached.stats()["page_cache"] == {"hits": 1, "misses": 1}
        # another page, another token's view (emails) and other arguments are other entries
        cursor = first.json()["response_metadata"]["next_cursor"]
        page2 = call(session, cached, "users.list", token, limit=50, cursor=cursor).json()
        assert page2["members"][0]["id"] != first.json()["members"][0]["id"]
        emails = cached.issue_access_token(scopes=["users:read", "users:read.email"])
        with_email = call(session, cached, "users.list", emails, limit=50).json()
        assert "email" in with_email["members"][1]["profile"]
        assert "email" not in first.json()["members"][1]["profile"]
        # a fault answers instead of the cache, and is not cached itself
        cached.add_fault(Fault("users.list", "wrong_types", on_call=5))
        broken = call(session, cached, "users.list", token, limit=50).json()
        assert isinstance(broken["members"], str)
        assert call(session, cached, "users.list", token, limit=50).content == first.content
        # token checks still run before the cache
        assert call(session, cached, "users.list", "xoxp-unknown", limit=50).json()["error"] == (
            "invalid_auth"
        )
        # a workspace change through the control API empties the cache
        before = call(session, cached, "team.accessLogs", token, count=100).json()
        session.post(cached.base_url + "/_emulator/access-logs/add", json={"n": 5}, timeout=10)
        after = call(session, cached, "team.accessLogs", token, count=100).json()
        assert len(after["logins"]) == len(before["logins"]) + 5


def test_page_cache_is_off_by_default(emu, session):
    token = emu.issue_access_token()
    call(session, emu, "users.list", token, limit=50)
    assert emu.stats()["page_cache"] is None
    emu.advance(3600)
    later = call(session, emu, "users.list", token, limit=50).json()
    assert later["cache_ts"] == NOW + 3600


def test_recorded_variants_are_served_unless_turned_off() -> None:
    """Real Slack's recorded shapes by default; only the documented ones when off."""
    from tap_slack_snow_emulator.config import Clock  # noqa: PLC0415
    from tap_slack_snow_emulator.data import Workspace  # noqa: PLC0415

    def shapes(recorded: bool) -> tuple[set[type], set[str], object]:
        config = WorkspaceConfig(seed=4, users=40, integration_logs=60, recorded_variants=recorded)
        ws = Workspace(config, Clock(None))
        ids = {type(e["service_id"]) for e in ws.integration_log_entries() if "service_id" in e}
        fields = {json.dumps(ws.member(i)["profile"]["fields"]) for i in range(40)}
        return ids, fields, ws.member(0)["tz"]

    assert shapes(True) == ({int, str}, {"[]", "{}", "null"}, None)
    ids, fields, slackbot_tz = shapes(False)
    assert (ids, fields) == ({str}, {"null"})
    assert isinstance(slackbot_tz, str)
