"""The tap's state folder (token stores, OAuth states, rescue files) from platformdirs, and the
private-file write where ``os.fchmod`` is missing (Windows before Python 3.13)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import platformdirs
import pytest

from tap_slack_snow.auth import default_token_store_path, write_private_file
from tap_slack_snow.auth.rescue import rescue_folders
from tap_slack_snow.auth.store import state_folder


def test_linux_state_folder_follows_xdg_state_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert state_folder() == tmp_path / "xdg" / "tap-slack-snow"
    assert default_token_store_path("1.2", "xoxe-1-x").parent == tmp_path / "xdg" / "tap-slack-snow"
    assert rescue_folders()[0] == tmp_path / "xdg" / "tap-slack-snow" / "rescue"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert state_folder() == tmp_path / "home" / ".local" / "state" / "tap-slack-snow"


def test_another_platforms_folder_keeps_a_folder_an_older_release_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As on macOS: platformdirs names another folder than the Linux-style one.
    elsewhere = tmp_path / "Library" / "Application Support" / "tap-slack-snow"
    monkeypatch.setattr(platformdirs, "user_state_dir", lambda *_, **__: str(elsewhere))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert state_folder() == elsewhere
    # A folder an older release wrote (chains in it) stays in use.
    (tmp_path / "xdg" / "tap-slack-snow").mkdir(parents=True)
    assert state_folder() == tmp_path / "xdg" / "tap-slack-snow"


def test_private_file_without_fchmod(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "fchmod")
    target = tmp_path / "private" / "tokens.json"
    write_private_file(target, "{}")
    assert target.read_text() == "{}"
    # mkstemp makes the file 0600 already; fchmod only makes sure
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
