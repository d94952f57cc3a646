"""A token store, rescue file or OAuth state file named through a symbolic link (the usual
container pattern: ``/app/tokens.json -> /data/tokens.json`` on a mounted volume).

The file the link names is written, atomically in its own folder, and the link stays a link,
so the volume keeps the live chain; the lock is beside the real file, so two links to one file
share it. A dangling link or a loop is one line naming the setting, before any token is spent.
Every run is the tap in this process against the emulator over real HTTP, on real files.
"""

from __future__ import annotations

import json
import os
import typing as t
from pathlib import Path

import pytest

from tap_slack_snow.auth import open_store
from tap_slack_snow.auth.file_store import FileChainStore
from tap_slack_snow.errors import TapSlackError
from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_devkit.emulators import EmulatorFactory
from tap_slack_snow_emulator import SlackEmulator, WorkspaceConfig
from tests._support import refresh_config, stored_chain, sync, sync_catching

USERS = select_only("users")


@pytest.fixture
def emu() -> t.Iterator[SlackEmulator]:
    factory = EmulatorFactory()
    # No grace period: a spent refresh token fails at once, as a day later on Slack.
    yield factory(WorkspaceConfig(seed=4, users=10, plan="plus"), refresh_grace_seconds=0)
    factory.stop_all()


def layout(tmp_path: Path, where: str) -> tuple[Path, Path]:
    """(link, target): the target on a "volume" folder of its own, or beside the link."""
    app = tmp_path / "app"
    app.mkdir()
    folder = tmp_path / "volume" if where == "volume" else app
    folder.mkdir(exist_ok=True)
    return app / "tokens.json", folder / "tokens-real.json"


def synced(config: dict[str, t.Any]) -> None:
    result, error = sync_catching(config, USERS)
    assert result.exit_code == 0, error
    assert result.count("users") == 10


@pytest.mark.parametrize("where", ["volume", "same-folder"])
def test_a_store_behind_a_link_keeps_the_live_chain_and_the_link(
    emu: SlackEmulator, tmp_path: Path, where: str
) -> None:
    link, target = layout(tmp_path, where)
    # The volume already holds the chain (an earlier container, or exchange, wrote it).
    config = refresh_config(emu, token_store_path=str(target))
    synced(config)
    os.symlink(target, link)
    linked = {**config, "token_store_path": str(link)}
    for _ in range(2):  # two runs of the container, each rotating
        emu.expire_access_tokens()
        synced(linked)
        assert link.is_symlink() and Path(os.readlink(link)) == target
    assert emu.refreshes == 3
    # The volume holds the live chain: the next container (here, the target named directly)
    # rotates with it.
    held = stored_chain({**config, "token_store_path": str(target)})
    assert held["refresh_token"] != config["refresh_token"]
    emu.expire_access_tokens()
    synced(config)
    assert emu.refreshes == 4
    # Written in the target's folder, locked beside the target: nothing else beside the link.
    assert (target.parent / (target.name + ".lock")).exists()
    assert sorted(p.name for p in link.parent.iterdir() if p.name.startswith("tokens.json")) == [
        "tokens.json"
    ]
    assert json.loads(target.read_text())["chains"]


def test_two_links_to_one_store_share_one_lock(tmp_path: Path) -> None:
    target = tmp_path / "volume" / "tokens.json"
    target.parent.mkdir()
    target.touch()
    links = [tmp_path / "a.json", tmp_path / "b.json"]
    for link in links:
        os.symlink(target, link)
    config = {"client_id": "1.2", "client_secret": "s" * 32, "refresh_token": "xoxe-1-r"}
    first, second = (
        open_store({**config, "token_store_path": str(link)}, lock_timeout=0.05) for link in links
    )
    assert isinstance(first, FileChainStore)
    with first.locked(), pytest.raises(TapSlackError, match="held the token store lock"):
        second.locked().__enter__()
    assert not any(p.name.endswith(".lock") for p in tmp_path.iterdir())


@pytest.mark.parametrize("fault", ["dangling", "loop"])
def test_a_dangling_or_looping_link_is_one_line_and_spends_nothing(
    emu: SlackEmulator, tmp_path: Path, fault: str
) -> None:
    link, target = layout(tmp_path, "volume")
    if fault == "dangling":
        os.symlink(target, link)  # the volume is not mounted: its file is not there
    else:
        os.symlink(link, target)
        os.symlink(target, link)
    config = refresh_config(emu, token_store_path=str(link))
    result, error = sync_catching(config, USERS)
    assert result.exit_code == 1
    assert "\n" not in error
    assert f"token_store_path {link}" in error
    assert ("does not exist" if fault == "dangling" else "loop") in error
    assert "no refresh token was spent" in error
    assert emu.calls["oauth.v2.access"] == 0
    assert link.is_symlink()
    if fault == "dangling":
        # The fix the line gives: an empty file at the target starts the chain there.
        assert f"touch {target}" in error, error
        target.touch()
        assert sync(config, catalog=USERS).exit_code == 0
        assert link.is_symlink()
        assert stored_chain({**config, "token_store_path": str(target)})
