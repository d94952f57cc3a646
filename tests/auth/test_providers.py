"""Foundation: users/team/billing against the emulator, token rotation, pagination, 429s."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_emulator import (
    ENTERPRISE_USER_SCOPES,
    Fault,
    SlackEmulator,
    WorkspaceConfig,
)
from tests._support import oauth_config, run_cli, stored_chain, sync

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


def test_short_and_empty_pages_are_followed(emulator_factory, tmp_path: Path) -> None:
    emu = emulator_factory(WorkspaceConfig(seed=3, users=95, short_pages=True))
    config = oauth_config(emu, tmp_path, page_size=10)
    result = sync(config, catalog=select_only("users"))
    assert result.exit_code == 0
    ids = [u["id"] for u in result.records["users"]]
    assert len(ids) == emu.workspace.user_count == len(set(ids))
    assert emu.calls["users.list"] > 10  # short pages mean more requests, none skipped


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


def test_second_run_reuses_store_and_third_rotates_from_store(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    config = oauth_config(emulator, tmp_path)
    first = sync(config, catalog=CORE)
    assert first.exit_code == 0 and emulator.refreshes == 1
    store = Path(config["token_store_path"])
    assert stat.S_IMODE(os.stat(store).st_mode) == 0o600
    saved = stored_chain(config)
    assert saved["refresh_token"] != config["refresh_token"]

    second = sync(config, catalog=CORE)  # same config: its refresh token is already spent
    assert second.exit_code == 0 and emulator.refreshes == 1  # fresh access token reused

    emulator.expire_access_tokens()
    emulator.refresh_grace_seconds = 0
    third = sync(config, catalog=CORE)
    assert third.exit_code == 0
    assert emulator.refreshes == 2  # rotated with the STORED refresh token
    assert stored_chain(config)["refresh_token"] != saved["refresh_token"]
    assert third.count("users") == first.count("users")


def test_new_configured_refresh_token_discards_old_chain(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    config = oauth_config(emulator, tmp_path)
    assert sync(config, catalog=CORE).exit_code == 0
    old_chain = stored_chain(config)
    config["refresh_token"] = emulator.issue_refresh_token()  # the user re-authorised
    assert sync(config, catalog=CORE).exit_code == 0
    new_chain = stored_chain(config)
    assert emulator.refreshes == 2
    assert new_chain["origin"] != old_chain["origin"]


def test_dead_refresh_token_fails_with_fix(emulator: SlackEmulator, tmp_path: Path) -> None:
    config = oauth_config(emulator, tmp_path)
    emulator.refresh_grace_seconds = 0
    assert sync(config, catalog=CORE).exit_code == 0
    # lose the store: the configured token was spent by the first run
    config["token_store_path"] = str(tmp_path / "elsewhere.json")
    result = run_cli(config, tmp_path)
    assert result.exit_code == 1
    assert "invalid_refresh_token" in result.stderr
    assert "token_store_path" in result.stderr and "re-authorise" in result.stderr
    assert "Traceback" not in result.stderr


def test_concurrent_runs_spend_the_refresh_token_once(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    config = oauth_config(emulator, tmp_path)
    emulator.refresh_grace_seconds = 0
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tap_slack_snow", "--config", str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [o[1][-2000:] for o in outputs]
    assert emulator.refreshes == 1


def test_token_expired_mid_pagination_refreshes_and_completes(
    emulator_factory, tmp_path: Path
) -> None:
    emu = emulator_factory(WorkspaceConfig(seed=2, users=120))
    config = oauth_config(emu, tmp_path, page_size=20)
    emu.add_fault(Fault(method="users.list", kind="token_expired", on_call=3))
    result = sync(config, catalog=select_only("users"))
    assert result.exit_code == 0
    ids = [u["id"] for u in result.records["users"]]
    assert len(ids) == len(set(ids)) == emu.workspace.user_count
    assert emu.refreshes == 2


def test_static_access_token_works_and_cannot_refresh(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    token = emulator.issue_access_token()
    config = {"access_token": token, "api_url": emulator.url}
    assert (
        sync(config, catalog=select_only("users")).count("users") == emulator.workspace.user_count
    )
    emulator.add_fault(Fault(method="users.list", kind="token_expired", on_call=1, times=5))
    result = run_cli(config, tmp_path)
    assert result.exit_code == 1
    assert "refresh_token" in result.stderr.splitlines()[-1]


def test_429_waits_retry_after_and_completes(emulator_factory, tmp_path: Path) -> None:
    emu = emulator_factory(WorkspaceConfig(seed=2, users=60))
    config = oauth_config(emu, tmp_path, page_size=20, retry_max_attempts=1)
    # more 429s than the fault budget allows: 429s must not use it up
    # without a scaled minute the emulator sends whole seconds, as Slack does
    emu.add_fault(Fault(method="users.list", kind="http_429", on_call=2, times=3, retry_after=1))
    started = time.monotonic()
    result = run_cli(config, tmp_path, env={"LOGLEVEL": "INFO"})
    elapsed = time.monotonic() - started
    assert result.exit_code == 0, result.stderr[-2000:]
    assert result.count("users") == emu.workspace.user_count
    assert elapsed >= 3 * 1.0
    assert emu.rate_limited["users.list"] == 3
    summary = [line for line in result.stderr.splitlines() if "Stream users done" in line]
    assert (
        summary and "3 rate-limited" in summary[0] and "3.0 s waiting on rate limits" in summary[0]
    )


def test_emulated_tiers_are_ridden_without_failing(emulator_factory, tmp_path: Path) -> None:
    emu = emulator_factory(WorkspaceConfig(seed=2, users=500), minute_seconds=0.5)
    config = oauth_config(emu, tmp_path, page_size=10)  # 50 pages on a 20/minute tier
    result = sync(config, catalog=select_only("users"))
    assert result.exit_code == 0
    assert result.count("users") == 500
    assert emu.rate_limited["users.list"] >= 1


def test_transient_faults_retry_with_backoff(emulator: SlackEmulator, tmp_path: Path) -> None:
    config = oauth_config(emulator, tmp_path, page_size=50)
    emulator.add_fault(Fault(method="users.list", kind="http_503", on_call=2, times=2))
    emulator.add_fault(Fault(method="users.list", kind="reset", on_call=5))
    result = sync(config, catalog=select_only("users"))
    assert result.exit_code == 0
    ids = [u["id"] for u in result.records["users"]]
    assert len(ids) == len(set(ids)) == emulator.workspace.user_count


def test_persistent_5xx_gives_one_clear_line(emulator: SlackEmulator, tmp_path: Path) -> None:
    config = oauth_config(emulator, tmp_path)
    emulator.add_fault(Fault(method="users.list", kind="http_500", on_call=1, times=100))
    result = run_cli(config, tmp_path)
    assert result.exit_code == 1
    last = result.stderr.strip().splitlines()[-1]
    assert "users.list failed 4 times in a row" in last and "HTTP 500" in last
    assert "Traceback" not in result.stderr


def test_no_secret_in_debug_output_or_state(emulator: SlackEmulator, tmp_path: Path) -> None:
    config = oauth_config(emulator, tmp_path)
    emulator.add_fault(Fault(method="users.list", kind="token_expired", on_call=1))
    result = run_cli(config, tmp_path, env={"LOGLEVEL": "DEBUG"})
    assert result.exit_code == 0, result.stderr[-2000:]
    store = stored_chain(config)
    secrets = {
        config["client_secret"],
        config["refresh_token"],
        store["refresh_token"],
        store["access_token"],
    }
    assert "DEBUG" in result.stderr  # it really ran at DEBUG level
    for secret in secrets:
        assert secret not in result.stdout
        assert secret not in result.stderr
    assert all(secret not in json.dumps(result.states) for secret in secrets)
    # and the token only ever travelled in the Authorization header
    for request in emulator.requests:
        assert not any(s in json.dumps(request.query) for s in secrets)
        assert "token" not in request.query


def test_about_and_discover_never_call_slack(emulator: SlackEmulator, tmp_path: Path) -> None:
    config = oauth_config(emulator, tmp_path)
    about = run_cli(None, tmp_path, "--about", "--format", "json")
    assert about.exit_code == 0
    settings = set(json.loads(about.stdout)["settings"]["properties"])
    assert {
        "client_id",
        "client_secret",
        "refresh_token",
        "access_token",
        "token_store_path",
        "api_url",
        "start_date",
        "edition",
        "team_id",
        "page_size",
        "on_unavailable",
    } <= settings
    secret_flags = json.loads(about.stdout)["settings"]["properties"]
    assert all(
        secret_flags[name].get("secret")
        for name in ("client_secret", "refresh_token", "access_token")
    )
    discover = run_cli(config, tmp_path, "--discover")
    assert discover.exit_code == 0
    assert {s["tap_stream_id"] for s in json.loads(discover.stdout)["streams"]} >= {
        "users",
        "team",
        "billing",
    }
    assert sum(emulator.calls.values()) == 0
    assert not Path(config["token_store_path"]).exists()


@pytest.mark.parametrize(
    ("config", "needle"),
    [
        ({}, "No credentials"),
        ({"client_id": "1.2", "refresh_token": "xoxe-1-abc"}, "missing client_secret"),
        ({"access_token": "xoxp-1", "client_id": "1.2"}, "not both"),
        ({"access_token": "xoxp-1", "page_size": "lots"}, "page_size"),
        ({"access_token": "xoxp-1", "edition": "premium"}, "edition"),
        ({"access_token": "xoxp-1", "on_unavailable": "ignore"}, "on_unavailable"),
    ],
)
def test_bad_config_is_a_clear_error(tmp_path: Path, config: dict, needle: str) -> None:
    result = run_cli(config, tmp_path)
    assert result.exit_code != 0
    assert needle in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_api_url_fails_fast_and_clearly(tmp_path: Path) -> None:
    config = {"access_token": "xoxp-1", "api_url": "http://127.0.0.1:9/api"}
    started = time.monotonic()
    result = run_cli(config, tmp_path)
    assert result.exit_code == 1
    assert time.monotonic() - started < 30
    last = result.stderr.strip().splitlines()[-1]
    assert "cannot reach Slack at api_url http://127.0.0.1:9/api" in last
    assert "Traceback" not in result.stderr


def test_activate_version_only_when_asked(emulator: SlackEmulator, tmp_path: Path) -> None:
    config = oauth_config(emulator, tmp_path)
    plain = sync(config, catalog=select_only("users"))
    assert not [m for m in plain.messages if m["type"] == "ACTIVATE_VERSION"]
    asked = sync({**config, "emit_activate_version_messages": True}, catalog=select_only("users"))
    versions = [m for m in asked.messages if m["type"] == "ACTIVATE_VERSION"]
    assert [m["stream"] for m in versions] == ["users"]
    # every record carries the version the target keeps; older rows can then be marked deleted
    records = [m for m in asked.messages if m["type"] == "RECORD"]
    assert {m.get("version") for m in records} == {versions[0]["version"]}
    assert len(records) == emulator.workspace.user_count
