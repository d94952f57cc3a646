"""scim_users against the emulator over real HTTP: the roster exactly once under SCIM's rate
limit, HR attributes member by member, plans without SCIM, every SCIM error status, Grid's
one org-wide read, SIGKILL and resume."""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import typing as t
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_emulator import Fault, WorkspaceConfig
from tap_slack_snow_emulator.config import ENTERPRISE_USER_SCOPES
from tests._support import (
    SyncResult,
    auth_cli,
    bookmarks,
    one_line_failure,
    parse_messages,
    run_cli,
    static_config,
    warning_lines,
)

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GUEST = "urn:ietf:params:scim:schemas:extension:slack:guest:2.0:User"
CATALOG = select_only("scim_users")


def scim_config(emu: t.Any, **extra: t.Any) -> dict[str, t.Any]:
    return static_config(emu.url, emu.issue_access_token(**extra.pop("token", {})), **extra)


def truth(emu: t.Any) -> dict[str, dict[str, t.Any]]:
    """The emulator's SCIM users by id."""
    return {user["id"]: user for user in emu.workspace.scim_users()}


def utc(value: str | None) -> str | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc).isoformat()


def scim_requests(emu: t.Any) -> list[t.Any]:
    return [r for r in emu.requests if r.method == "scim.Users"]


def test_a_business_plus_roster_exactly_once_under_scims_rate_limit(
    emulator_factory: t.Any, tmp_path: Path
) -> None:
    emu = emulator_factory(WorkspaceConfig(seed=7, users=3000, plan="plus"))
    emu.minute_seconds = 1.0  # a scaled minute: SCIM's allowance per second
    emu.scim_reads_per_minute = 6
    emu.scim_other_app_reads(4)  # another app of the org read SCIM in this window
    # 100 a page (page_size) makes enough requests to meet the limit several times
    result = run_cli(scim_config(emu, page_size=100), tmp_path, catalog=CATALOG, timeout=240)
    assert result.exit_code == 0, result.stderr[-3000:]
    expected = truth(emu)
    records = result.records["scim_users"]
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)) == len(expected) > 2500
    assert set(ids) == set(expected)
    # SCIM lists the people of users.list: same ids, no Slackbot, no bots
    people = {
        emu.workspace.user_id(i)
        for i in range(emu.workspace.user_count)
        if emu.workspace.role(i) not in ("bot", "slackbot")
    }
    assert set(ids) == people
    requests = scim_requests(emu)
    assert [int(r.query["count"]) for r in requests] == [100] * len(requests)
    starts = [int(r.query["startIndex"]) for r in requests]  # a 429 asks the same again
    assert list(dict.fromkeys(starts)) == list(range(1, len(expected) + 1, 100))
    # the tap waited out each 429: one per window at most (the shared bucket had 4 used)
    limited = emu.api.rate_limited["scim.Users"]
    windows = math.ceil((len(requests) - limited + 4) / 6)
    assert 1 <= limited <= windows, (limited, windows)
    assert len(requests) - limited == math.ceil(len(expected) / 100)


def test_hr_attributes_member_by_member(emulator_factory: t.Any, tmp_path: Path) -> None:
    emu = emulator_factory(WorkspaceConfig(seed=11, users=400, plan="plus"))
    result = run_cli(scim_config(emu), tmp_path, catalog=CATALOG)
    assert result.exit_code == 0, result.stderr[-3000:]
    expected = truth(emu)
    requests = scim_requests(emu)
    assert [r.query["count"] for r in requests] == ["1000"]  # the largest page, asked for
    seen = {"no_extension": 0, "empty_address": 0, "inactive": 0, "expires": 0, "no_expiry": 0}
    for record in result.records["scim_users"]:
        user = expected[record["id"]]
        hr = user.get(ENTERPRISE) or {}
        guest = user.get(GUEST) or {}
        assert record["department"] == hr.get("department")
        assert record["cost_center"] == hr.get("costCenter")
        assert record["division"] == hr.get("division")
        assert record["organization"] == hr.get("organization")
        assert record["employee_number"] == hr.get("employeeNumber")
        assert record["manager_id"] == (hr.get("manager") or {}).get("managerId")
        assert record["created_at"] == utc(user["meta"]["created"])
        assert record["meta"] == user["meta"]  # the raw created kept
        assert record["active"] is user["active"]
        assert record["guest_type"] == guest.get("type")
        assert record["guest_expires_at"] == utc(guest.get("expiration"))
        assert record.get("enterprise_extension") == user.get(ENTERPRISE)
        assert record["addresses"] == user["addresses"]
        primary = [e for e in user["emails"] if e.get("primary") is True] or user["emails"][:1]
        assert record["email"] == primary[0]["value"]
        seen["no_extension"] += ENTERPRISE not in user
        seen["empty_address"] += {} in user["addresses"]
        seen["inactive"] += user["active"] is False
        seen["expires"] += bool(guest.get("expiration"))
        seen["no_expiry"] += bool(guest) and not guest.get("expiration")
    assert all(seen.values()), seen  # the emulator serves every case


@pytest.mark.parametrize(("plan", "label"), [("free", "Free"), ("std", "Pro")])
@pytest.mark.parametrize("policy", ["skip", "fail"])
def test_skipped_with_one_line_on_plans_without_scim(
    emulator_factory: t.Any, tmp_path: Path, plan: str, label: str, policy: str
) -> None:
    emu = emulator_factory(WorkspaceConfig(seed=3, users=40, plan=plan))
    result = run_cli(scim_config(emu, on_unavailable=policy), tmp_path, catalog=CATALOG)
    assert emu.calls["scim.Users"] == 0  # nothing sent that Slack would refuse
    assert "scim_users" not in result.records
    if policy == "fail":
        line = one_line_failure(result)
    else:
        assert result.exit_code == 0, result.stderr[-2000:]
        (line,) = [w for w in warning_lines(result) if "scim_users" in w]
        assert "Skipping stream scim_users" in line
    assert f"on {label}" in line and "Business+" in line


def test_the_scope_report_and_auth_check_say_whether_it_runs(
    emulator_factory: t.Any, tmp_path: Path
) -> None:
    for plan, outcome in (("plus", "runs"), ("std", "skipped: the plan is Pro")):
        emu = emulator_factory(WorkspaceConfig(seed=3, users=20, plan=plan))
        config = scim_config(emu)
        config_path = tmp_path / f"{plan}.json"
        config_path.write_text(json.dumps(config))
        check = auth_cli("check", "--config", str(config_path))
        rows = [line for line in check.stdout.splitlines() if line.strip().startswith("scim_")]
        assert len(rows) == 1 and outcome in rows[0], check.stdout + check.stderr
        assert emu.calls["scim.Users"] == 0


def test_missing_admin_scope_is_skipped_before_any_scim_request(
    emulator_factory: t.Any, tmp_path: Path
) -> None:
    emu = emulator_factory(WorkspaceConfig(seed=3, users=40, plan="plus"))
    config = scim_config(emu, token={"scopes": ["users:read", "team.billing:read"]})
    result = run_cli(config, tmp_path, catalog=CATALOG)
    assert result.exit_code == 0, result.stderr[-2000:]
    assert emu.calls["scim.Users"] == 0
    assert any("admin" in w and "scim_users" in w for w in warning_lines(result))


FAILING = [
    (401, "invalid_authentication", "re-authorise"),
    (404, "not_found", "scim_url"),
    (400, "invalid_syntax", "scim_url"),
]


@pytest.mark.parametrize(("status", "description", "fix"), FAILING)
def test_scim_error_statuses_fail_with_one_line(
    emulator_factory: t.Any, tmp_path: Path, status: int, description: str, fix: str
) -> None:
    emu = emulator_factory(WorkspaceConfig(seed=3, users=40, plan="plus"))
    emu.add_fault(Fault("scim.Users", "error", status=status, description=description))
    config = scim_config(emu)
    result = run_cli(config, tmp_path, catalog=CATALOG)
    line = one_line_failure(result)
    assert f"HTTP {status}" in line and description in line and fix in line
    assert config["access_token"] not in result.stderr + result.stdout
    assert "records_last_sync" not in json.dumps(bookmarks(result.state).get("scim_users", {}))


@pytest.mark.parametrize("policy", ["skip", "fail"])
def test_a_403_skips_or_fails_by_policy(
    emulator_factory: t.Any, tmp_path: Path, policy: str
) -> None:
    # a user who is neither Owner nor Admin: Slack's own 403 (the scopes are all there)
    emu = emulator_factory(WorkspaceConfig(seed=3, users=40, plan="plus"))
    config = scim_config(emu, token={"user_is_admin": False}, on_unavailable=policy)
    result = run_cli(config, tmp_path, catalog=CATALOG)
    assert emu.calls["scim.Users"] == 1
    if policy == "fail":
        line = one_line_failure(result)
    else:
        assert result.exit_code == 0, result.stderr[-2000:]
        (line,) = [w for w in warning_lines(result) if "Skipping stream scim_users" in w]
    assert "HTTP 403" in line and "permission_denied" in line and "Owner" in line


@pytest.mark.parametrize("kind", ["http_500", "http_503", "http_429", "reset"])
def test_transient_answers_are_retried(emulator_factory: t.Any, tmp_path: Path, kind: str) -> None:
    emu = emulator_factory(WorkspaceConfig(seed=3, users=2500, plan="plus"))
    emu.add_fault(Fault("scim.Users", kind, on_call=2, times=2))
    result = run_cli(scim_config(emu, retry_max_attempts=4), tmp_path, catalog=CATALOG)
    assert result.exit_code == 0, result.stderr[-2000:]
    assert len({r["id"] for r in result.records["scim_users"]}) == len(truth(emu))
    assert result.count("scim_users") == len(truth(emu))


def test_a_5xx_that_lasts_fails_with_one_line_after_the_records_read(
    emulator_factory: t.Any, tmp_path: Path
) -> None:
    emu = emulator_factory(WorkspaceConfig(seed=3, users=2500, plan="plus"))
    emu.add_fault(Fault("scim.Users", "http_500", on_call=2, times=None))
    result = run_cli(scim_config(emu, retry_max_attempts=2), tmp_path, catalog=CATALOG)
    line = one_line_failure(result)
    assert "SCIM GET /Users" in line and "HTTP 500" in line
    assert result.count("scim_users") == 1000  # the first page, nothing more
    assert "records_last_sync" not in json.dumps(bookmarks(result.state).get("scim_users", {}))


def test_grid_org_level_token_reads_the_whole_org_in_one_read(
    emulator_factory: t.Any, tmp_path: Path
) -> None:
    emu = emulator_factory(
        WorkspaceConfig(seed=5, users=600, plan="enterprise", enterprise=True, workspaces=3)
    )
    token = {"scopes": ENTERPRISE_USER_SCOPES, "org_level": True}
    result = run_cli(scim_config(emu, token=token), tmp_path, catalog=CATALOG)
    assert result.exit_code == 0, result.stderr[-2000:]
    assert {r["id"] for r in result.records["scim_users"]} == set(truth(emu))
    assert result.count("scim_users") == len(truth(emu))
    requests = scim_requests(emu)
    assert len(requests) == 1 and "team_id" not in requests[0].query
    assert emu.calls["auth.teams.list"] == 0  # no per-workspace partitions
    (row,) = [line for line in result.stderr.splitlines() if "|   scim_users  " in line]
    assert "runs org-wide" in row


def test_grid_workspace_level_token_is_refused_by_slack(
    emulator_factory: t.Any, tmp_path: Path
) -> None:
    emu = emulator_factory(
        WorkspaceConfig(seed=5, users=60, plan="enterprise", enterprise=True, workspaces=2)
    )
    result = run_cli(
        scim_config(emu, token={"scopes": ENTERPRISE_USER_SCOPES}), tmp_path, catalog=CATALOG
    )
    assert result.exit_code == 0, result.stderr[-2000:]
    (line,) = [w for w in warning_lines(result) if "Skipping stream scim_users" in w]
    assert "HTTP 403" in line and "org-level" in line


def test_sigkill_mid_read_then_resume_reads_the_roster_whole(
    emulator_factory: t.Any, tmp_path: Path
) -> None:
    emu = emulator_factory(WorkspaceConfig(seed=13, users=4000, plan="plus"))
    emu.minute_seconds = 2.0
    emu.scim_reads_per_minute = 3
    config = scim_config(emu, page_size=200)
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "catalog.json").write_text(json.dumps(CATALOG))
    config_path, catalog_path = tmp_path / "config.json", tmp_path / "catalog.json"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tap_slack_snow",
            "--config",
            config_path,
            "--catalog",
            catalog_path,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    lines, seen = [], 0
    for line in proc.stdout:
        lines.append(line)
        seen += line.startswith(b'{"type":"RECORD","stream":"scim_users"')
        if seen >= 700:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the tap finished before it could be killed"
    first = SyncResult(parse_messages(b"".join(lines).decode(errors="replace").rsplit("\n", 1)[0]))
    assert 0 < first.count("scim_users") < len(truth(emu))
    emu.minute_seconds = None
    resumed = run_cli(config, tmp_path, catalog=CATALOG, state=first.state)
    assert resumed.exit_code == 0, resumed.stderr[-2000:]
    ids = [r["id"] for r in resumed.records["scim_users"]]
    assert len(ids) == len(set(ids)) and set(ids) == set(truth(emu))  # a snapshot, whole
    state = bookmarks(resumed.state)["scim_users"]
    assert state["records_last_sync"] == len(ids)


def test_discover_lists_scim_users_and_calls_nothing(emulator: t.Any, tmp_path: Path) -> None:
    result = run_cli(scim_config(emulator), tmp_path, "--discover")
    assert result.exit_code == 0, result.stderr[-2000:]
    catalog = json.loads(result.stdout)
    (stream,) = [s for s in catalog["streams"] if s["tap_stream_id"] == "scim_users"]
    assert stream["key_properties"] == ["id"]
    assert {"department", "cost_center", "manager_id", "created_at"} <= set(
        stream["schema"]["properties"]
    )
    assert sum(emulator.calls.values()) == 0
