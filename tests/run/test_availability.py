"""Whether a stream can run (``tap_slack_snow.run.availability``): the plan x scope x policy
matrix, streams skipped by scope and by edition, and the scope report.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_emulator import SlackEmulator, WorkspaceConfig
from tests._support import oauth_config, run_cli, sync


def test_the_scope_report_on_free_says_access_logs_is_skipped(
    emulator_factory: t.Callable[..., SlackEmulator], tmp_path: Path
) -> None:
    emu = emulator_factory(WorkspaceConfig(seed=7, users=30, plan="free", access_logs=20))
    config = oauth_config(emu, tmp_path)
    result = run_cli(config, tmp_path, catalog=select_only("users", "access_logs"))
    assert result.exit_code == 0, result.stderr[-3000:]
    report = [ln for ln in result.stderr.splitlines() if "access_logs" in ln and "admin" in ln]
    assert report, result.stderr[-3000:]
    assert "paid_only" in report[0] and " runs" not in report[0]
    assert emu.calls["team.billing.info"] == 1


CORE = select_only("users", "team", "billing")


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
