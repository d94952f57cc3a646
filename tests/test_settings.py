"""Settings from ``TAP_SLACK_SNOW_*`` variables (``--config ENV``, and how Meltano passes
every setting to plugin commands such as ``auth-check``), and the credential rule's messages.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tap_slack_snow_emulator import SlackEmulator
from tests._support import run_cli


def env_for(emu: SlackEmulator, **settings: str) -> dict[str, str]:
    return {
        "TAP_SLACK_SNOW_API_URL": emu.url,
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
        {"client_id": "123.456", "client_secret": secret, "api_url": emulator.url}, tmp_path
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
