"""Slack's two ways to page (``tap_slack_snow.streams.pagination``): short and empty pages
are followed to the end.
"""

from __future__ import annotations

from pathlib import Path

from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_emulator import WorkspaceConfig
from tests._support import oauth_config, sync


def test_short_and_empty_pages_are_followed(emulator_factory, tmp_path: Path) -> None:
    emu = emulator_factory(WorkspaceConfig(seed=3, users=95, short_pages=True))
    config = oauth_config(emu, tmp_path, page_size=10)
    result = sync(config, catalog=select_only("users"))
    assert result.exit_code == 0
    ids = [u["id"] for u in result.records["users"]]
    assert len(ids) == emu.workspace.user_count == len(set(ids))
    assert emu.calls["users.list"] > 10  # short pages mean more requests, none skipped
