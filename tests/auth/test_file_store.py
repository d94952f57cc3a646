"""The file token store on a real filesystem: atomic writes, mode 0600, the lock, one
encrypted entry per chain."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import stat
import time
import typing as t
from pathlib import Path

import pytest

from tap_slack_snow.auth import default_token_store_path
from tap_slack_snow.auth.crypto import StoreKey
from tap_slack_snow.auth.file_store import FileChainStore
from tap_slack_snow.errors import TapSlackError
from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_emulator import SlackEmulator
from tests._support import failure_line, oauth_config, run_tap

KEY = StoreKey.derive(client_secret="0123456789abcdef0123456789abcdef")


def TokenStore(path: Path, *, chain: str = "c1", lock_timeout: float = 5) -> FileChainStore:
    return FileChainStore(path, chain=chain, origin="o", key=KEY, lock_timeout=lock_timeout)


def tokens(n: int) -> dict[str, object]:
    return {
        "origin": "o",
        "refresh_token": f"xoxe-1-r{n}",
        "access_token": f"xoxe.xoxp-a{n}",
        "expires_at": time.time() + 43200,
    }


def test_save_then_load_round_trips_with_mode_0600(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "sub" / "tokens.json")
    saved = tokens(1)
    store.save(saved)
    assert store.load() == saved
    mode = stat.S_IMODE(os.stat(store.path).st_mode)
    assert mode == 0o600
    # no temp files left behind
    assert sorted(p.name for p in store.path.parent.iterdir()) == ["tokens.json"]


def test_missing_store_is_none(tmp_path: Path) -> None:
    assert TokenStore(tmp_path / "nope.json").load() is None


def test_corrupt_store_gives_actionable_error(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text("{not json")
    with pytest.raises(TapSlackError, match="not a valid tap-slack-snow token store"):
        TokenStore(path).load()


def test_overwrite_replaces_atomically(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    store.save(tokens(1))
    inode_before = os.stat(store.path).st_ino
    store.save(tokens(2))
    assert store.load()["refresh_token"] == "xoxe-1-r2"  # type: ignore[index]
    assert os.stat(store.path).st_ino != inode_before  # a new file renamed over the old one


def test_chains_share_a_file_without_touching_each_other(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    first, second = TokenStore(path, chain="c1"), TokenStore(path, chain="c2")
    first.save(tokens(1))
    second.save(tokens(2))
    first.save(tokens(3))
    assert first.load()["refresh_token"] == "xoxe-1-r3"  # type: ignore[index]
    assert second.load()["refresh_token"] == "xoxe-1-r2"  # type: ignore[index]
    assert "xoxe" not in path.read_text()


def _hold_lock(path: str, ready: multiprocessing.synchronize.Event, seconds: float) -> None:
    with TokenStore(Path(path)).locked():
        ready.set()
        time.sleep(seconds)


def test_lock_blocks_a_second_process_and_times_out_clearly(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    ready = multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold_lock, args=(str(path), ready, 3.0))
    holder.start()
    try:
        assert ready.wait(10)
        started = time.monotonic()
        with (
            pytest.raises(TapSlackError, match="held the token store lock"),
            TokenStore(path, lock_timeout=0.5).locked(),
        ):
            pass
        assert time.monotonic() - started >= 0.4
    finally:
        holder.join()
    # once released, the lock is free again
    with TokenStore(path, lock_timeout=0.5).locked():
        pass


def test_default_path_is_per_app_and_authorisation(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    a = default_token_store_path("111.222", "xoxe-1-aaa")
    b = default_token_store_path("111.222", "xoxe-1-bbb")
    assert a.parent == tmp_path / "tap-slack-snow"
    assert a != b
    assert "xoxe" not in str(a)


def store_config(emu: SlackEmulator, tmp_path: Path) -> dict[str, t.Any]:
    config = oauth_config(emu, tmp_path)
    config["token_store_path"] = str(tmp_path / "store" / "tokens.json")
    Path(config["token_store_path"]).parent.mkdir()
    return config


@pytest.mark.parametrize("damage", ["a-directory", "binary", "expires-at-a-string"])
def test_a_damaged_token_store_gives_one_line(
    emulator: SlackEmulator, tmp_path: Path, damage: str
) -> None:
    config = store_config(emulator, tmp_path)
    store = Path(config["token_store_path"])
    if damage == "a-directory":
        store.mkdir()
    elif damage == "binary":
        store.write_bytes(bytes(range(256)) * 4)
    else:
        origin = hashlib.sha256(config["refresh_token"].encode()).hexdigest()
        store.write_text(
            json.dumps(
                {
                    "origin": origin,
                    "refresh_token": "xoxe-1-stored-refresh",
                    "access_token": "xoxe.xoxp-1-stored-access",
                    "expires_at": "tomorrow",
                    "version": 1,
                }
            )
        )
    result = run_tap(tmp_path, config=config, catalog=select_only("users"))
    line = failure_line(
        result, config["client_secret"], config["refresh_token"], "xoxe-1-stored-refresh"
    )
    assert "token store" in line and str(store) in line, line
    assert emulator.refreshes == 0  # the configured refresh token was not spent
