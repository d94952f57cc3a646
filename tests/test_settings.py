"""Settings from ``TAP_SLACK_SNOW_*`` variables (``--config ENV``, and how Meltano passes
every setting to plugin commands such as ``auth-check``), and the credential rule's messages.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_emulator import SlackEmulator
from tests._support import ENV_PREFIX, failure_line, run_cli, run_tap, static_config


def env_for(emu: SlackEmulator, **settings: str) -> dict[str, str]:
    return {
        "TAP_SLACK_SNOW_API_URL": emu.url,
        "TAP_SLACK_SNOW_SCIM_URL": emu.scim_url,
        "TAP_SLACK_SNOW_ACCESS_TOKEN": emu.issue_access_token(),
        **{f"TAP_SLACK_SNOW_{name.upper()}": value for name, value in settings.items()},
    }


def test_number_setting_from_an_environment_variable(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    # retry_initial_wait is a JSON Schema number, which the SDK leaves a string.
    result = run_cli(
        None, tmp_path, "--config", "ENV", env=env_for(emulator, retry_initial_wait="0.5")
    )
    assert result.exit_code == 0, result.stderr[-2000:]
    assert len(result.records["users"]) == emulator.workspace.team_member_count(None)


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("retry_initial_wait", "soon", "TAP_SLACK_SNOW_RETRY_INITIAL_WAIT='soon' is not a number"),
        ("page_size", "lots", "TAP_SLACK_SNOW_PAGE_SIZE='lots' is not a whole number"),
    ],
)
def test_a_number_setting_that_is_not_a_number_is_one_clear_line(
    emulator: SlackEmulator, tmp_path: Path, setting: str, value: str, message: str
) -> None:
    result = run_cli(None, tmp_path, "--config", "ENV", env=env_for(emulator, **{setting: value}))
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    assert message in result.stderr
    assert emulator.requests == []


def test_missing_credentials_are_named_and_the_config_is_not_printed(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    # The schema's anyOf (Meltano Hub's settings groups) fails here; jsonschema would print
    # the whole config with the secret in it.
    secret = "not-to-be-printed-4711"
    result = run_cli(
        {
            "client_id": "123.456",
            "client_secret": secret,
            "api_url": emulator.url,
            "scim_url": emulator.scim_url,
        },
        tmp_path,
    )
    assert result.exit_code == 1
    assert "Incomplete OAuth settings: missing refresh_token" in result.stderr
    assert "is not valid under any of the given schemas" not in result.stderr
    assert secret not in result.stderr + result.stdout
    assert emulator.requests == []


def test_discover_needs_no_credentials_and_warns_of_nothing(tmp_path: Path) -> None:
    result = run_cli({}, tmp_path, "--discover")
    assert result.exit_code == 0, result.stderr[-2000:]
    assert "Config validation failed" not in result.stderr
    streams = {entry["tap_stream_id"] for entry in json.loads(result.stdout)["streams"]}
    assert "users" in streams


AUTH_CLI = str(Path(sys.executable).parent / "tap-slack-snow-auth")


def env_settings(emu: SlackEmulator, **settings: str) -> dict[str, str]:
    return {
        ENV_PREFIX + "ACCESS_TOKEN": emu.issue_access_token(),
        ENV_PREFIX + "API_URL": emu.url,
        ENV_PREFIX + "SCIM_URL": emu.scim_url,
        **{ENV_PREFIX + name.upper(): value for name, value in settings.items()},
    }


def test_config_env_accepts_numbers_booleans_and_integers(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    env = env_settings(
        emulator,
        retry_initial_wait="0.5",
        page_size="100",
        emit_activate_version_messages="false",
        max_rate_limit_wait="60.5",
    )
    result = run_tap(tmp_path, args=["--config", "ENV"], catalog=select_only("users"), env=env)
    assert result.exit_code == 0, result.stderr[-3000:]
    assert result.count("users") == emulator.workspace.user_count
    assert emulator.calls["users.list"] == 3  # 250 members, pages of 100


@pytest.mark.parametrize(
    ("setting", "value"),
    [("page_size", "abc"), ("retry_initial_wait", "soon"), ("request_timeout", "1.5x")],
)
def test_config_env_with_a_bad_number_gives_one_line(
    emulator: SlackEmulator, tmp_path: Path, setting: str, value: str
) -> None:
    env = env_settings(emulator, **{setting: value})
    token = env[ENV_PREFIX + "ACCESS_TOKEN"]
    line = failure_line(run_tap(tmp_path, args=["--config", "ENV"], env=env), token)
    assert ENV_PREFIX + setting.upper() in line and repr(value) in line


ACCESS_LOGS = select_only("access_logs")


def test_a_bad_start_date_gives_one_line_in_the_tap_and_in_check(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    token = emulator.issue_access_token()
    config = static_config(emulator.url, token, start_date="yesterday")
    line = failure_line(run_tap(tmp_path, config=config, catalog=ACCESS_LOGS), token)
    assert "start_date" in line and "'yesterday'" in line and "2026-01-01" in line
    path = tmp_path / "check-config.json"
    path.write_text(json.dumps(config))
    checked = subprocess.run(
        [AUTH_CLI, "check", "--config", str(path)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 1
    assert "Traceback" not in checked.stderr
    assert "start_date" in checked.stderr.strip().splitlines()[-1]
    assert emulator.calls["auth.test"] == 0


@pytest.mark.parametrize("api_url", ["slack.com/api", "ftp://slack.com/api", "https:///api"])
def test_an_api_url_that_is_not_http_gives_one_line(tmp_path: Path, api_url: str) -> None:
    config = static_config(api_url, "xoxp-never-sent-1")
    line = failure_line(run_tap(tmp_path, config=config), "xoxp-never-sent-1")
    assert "api_url" in line and repr(api_url) in line and "https://slack.com/api" in line


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
