"""The error table (``tap_slack_snow.slack.errors``): every row driven through real HTTP
answers from the emulator, and every row raising what its action says (no HTTP)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tap_slack_snow.slack.errors import (
    ERROR_POLICY,
    Action,
    EndOfDataError,
    SlackAPIError,
    StreamUnavailableError,
    TokenExpiredError,
    TransientError,
    error_for_code,
)
from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_emulator import Fault, SlackEmulator
from tests._support import oauth_config, run_cli, sync

USERS = select_only("users")
# Codes of oauth.v2.access: they surface through the refresh, tested in test_sync_core.
OAUTH_ONLY = {
    "invalid_refresh_token",
    "invalid_client_id",
    "bad_client_secret",
    "invalid_grant_type",
}


def rows(action: Action) -> list[str]:
    return sorted(code for code, rule in ERROR_POLICY.items() if rule.action is action)


@pytest.mark.parametrize("code", rows(Action.RETRY))
def test_retry_rows_recover(emulator: SlackEmulator, tmp_path: Path, code: str) -> None:
    emulator.add_fault(Fault(method="users.list", kind="error", error=code, on_call=1, times=2))
    result = sync(oauth_config(emulator, tmp_path), catalog=USERS)
    assert result.exit_code == 0
    assert result.count("users") == emulator.workspace.user_count
    assert emulator.calls["users.list"] == 3


@pytest.mark.parametrize("code", rows(Action.REFRESH))
def test_refresh_rows_rotate_then_retry(emulator: SlackEmulator, tmp_path: Path, code: str) -> None:
    emulator.add_fault(Fault(method="users.list", kind="error", error=code, on_call=1))
    result = sync(oauth_config(emulator, tmp_path), catalog=USERS)
    assert result.exit_code == 0
    assert emulator.refreshes == 2


@pytest.mark.parametrize("code", rows(Action.UNAVAILABLE))
def test_unavailable_rows_skip_by_default(
    emulator: SlackEmulator, tmp_path: Path, code: str
) -> None:
    emulator.add_fault(
        Fault(method="users.list", kind="error", error=code, needed="users:read", on_call=1)
    )
    result = sync(oauth_config(emulator, tmp_path), catalog=select_only("users", "billing"))
    assert result.exit_code == 0
    assert "users" not in result.records
    assert result.count("billing") == 1  # the other streams carry on
    assert "users" not in (result.state or {}).get("bookmarks", {}) or not (
        result.state["bookmarks"]["users"].get("replication_key_value")
    )


@pytest.mark.parametrize("code", rows(Action.UNAVAILABLE))
def test_unavailable_rows_fail_when_asked(
    emulator: SlackEmulator, tmp_path: Path, code: str
) -> None:
    emulator.add_fault(
        Fault(method="users.list", kind="error", error=code, needed="users:read", on_call=1)
    )
    config = oauth_config(emulator, tmp_path, on_unavailable="fail")
    result = run_cli(config, tmp_path, catalog=USERS)
    assert result.exit_code == 1
    last = result.stderr.strip().splitlines()[-1]
    assert f"users.list answered '{code}'" in last
    assert ERROR_POLICY[code].fix.format(needed="users:read")[:40] in last
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "code", [c for c in rows(Action.FAIL) + rows(Action.END_OF_DATA) if c not in OAUTH_ONLY]
)
def test_fail_rows_stop_with_the_fix(emulator: SlackEmulator, tmp_path: Path, code: str) -> None:
    emulator.add_fault(Fault(method="users.list", kind="error", error=code, on_call=1))
    result = sync(oauth_config(emulator, tmp_path), catalog=USERS)
    assert result.exit_code == 1
    assert "users" not in result.records


def test_fail_row_message_is_one_clear_line(emulator: SlackEmulator, tmp_path: Path) -> None:
    emulator.add_fault(Fault(method="users.list", kind="error", error="token_revoked", on_call=1))
    result = run_cli(oauth_config(emulator, tmp_path), tmp_path, catalog=USERS)
    assert result.exit_code == 1
    last = result.stderr.strip().splitlines()[-1]
    assert "users.list answered 'token_revoked'" in last and "re-authorise" in last
    assert "Traceback" not in result.stderr


def test_unknown_code_fails_naming_it(emulator: SlackEmulator, tmp_path: Path) -> None:
    emulator.add_fault(Fault(method="users.list", kind="error", error="brand_new_error", on_call=1))
    result = run_cli(oauth_config(emulator, tmp_path), tmp_path, catalog=USERS)
    assert result.exit_code == 1
    assert "'brand_new_error'" in result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("code", sorted(OAUTH_ONLY - {"invalid_refresh_token"}))
def test_oauth_rows_fail_with_the_fix(emulator: SlackEmulator, tmp_path: Path, code: str) -> None:
    config = oauth_config(emulator, tmp_path)
    emulator.add_fault(Fault(method="oauth.v2.access", kind="error", error=code, on_call=1))
    result = run_cli(config, tmp_path)
    assert result.exit_code == 1
    last = result.stderr.strip().splitlines()[-1]
    assert f"oauth.v2.access answered '{code}'" in last
    assert ERROR_POLICY[code].fix[:30] in last
    assert config["client_secret"] not in result.stderr


@pytest.mark.parametrize("code", sorted(ERROR_POLICY))
def test_every_row_of_the_error_table_raises_what_its_action_says(code: str) -> None:
    expected = {
        Action.RETRY: TransientError,
        Action.REFRESH: TokenExpiredError,
        Action.UNAVAILABLE: StreamUnavailableError,
        Action.END_OF_DATA: EndOfDataError,
        Action.FAIL: SlackAPIError,
    }[ERROR_POLICY[code].action]
    error = error_for_code(code, "some.method", {"needed": "admin"})
    assert type(error) is expected
    if expected is not EndOfDataError:
        assert code in str(error)


def test_unknown_codes_fail_with_the_code() -> None:
    error = error_for_code("brand_new_code", "users.list", {})
    assert isinstance(error, SlackAPIError)
    assert "brand_new_code" in str(error)
