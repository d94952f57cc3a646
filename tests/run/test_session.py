"""The run's session (``tap_slack_snow.run.session``): the token's identity against the
settings.
"""

from __future__ import annotations

from pathlib import Path

from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_emulator import SlackEmulator
from tests._support import run_tap, static_config, warning_lines


def test_a_team_id_that_is_not_the_tokens_workspace_is_warned_and_not_stamped(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    token = emulator.issue_access_token()
    config = static_config(emulator.url, token, team_id="T0NOTMINE")
    result = run_tap(tmp_path, config=config, catalog=select_only("billing"))
    assert result.exit_code == 0, result.stderr[-3000:]
    warned = [line for line in warning_lines(result) if "T0NOTMINE" in line]
    assert warned and "team_id" in warned[0]
    (billing,) = result.records["billing"]
    assert billing["team_id"] != "T0NOTMINE"
    assert billing["team_id"] == emulator.workspace.team_ids[0]
