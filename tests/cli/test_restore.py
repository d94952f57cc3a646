"""``tap-slack-snow-auth restore --from FILE`` (``tap_slack_snow.cli.restore``): a rescue file
goes back only into the store of the chain it belongs to, and only a file it restored is
deleted.

The chains are real ones (the tap rotated them against the emulator over HTTP); the rescue
files are written by the tap's own rescue code, on real files.
"""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pytest

from tap_slack_snow.auth import StoredTokens, default_token_store_path, open_store
from tap_slack_snow.auth.rescue import write_rescue
from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_emulator import SlackEmulator
from tests._support import refresh_config, stored_chain, sync
from tests.cli.cli_support import cli, one_line_error

USERS = select_only("users")


def authorisation(emu: SlackEmulator) -> dict[str, t.Any]:
    """A config of one authorisation (default store), its chain started by a tap run."""
    config = refresh_config(emu)
    assert sync(config, catalog=USERS).exit_code == 0
    return config


def rescue_of(config: dict[str, t.Any], *, rotated: str) -> Path:
    """A rescue file of this config's chain, as a failed save writes it (one refresh later)."""
    chain = StoredTokens.from_content(stored_chain(config), "store")
    chain.refresh_token, chain.updated_at = rotated, float(chain.updated_at or 0) + 60
    path = write_rescue(open_store(config), chain.content())
    assert path is not None
    return path


def config_file(tmp_path: Path, config: dict[str, t.Any], name: str = "config.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(config))
    return str(path)


def store_of(config: dict[str, t.Any]) -> Path:
    return default_token_store_path(config["client_id"], config["refresh_token"])


def test_a_rescue_file_of_another_authorisation_is_refused_and_kept(
    emu: SlackEmulator, tmp_path: Path
) -> None:
    mine, theirs = authorisation(emu), authorisation(emu)
    rescue = rescue_of(theirs, rotated="xoxe-1-their-rescued-refresh")
    before = store_of(mine).read_bytes()

    line = one_line_error(
        cli("restore", "--from", str(rescue), "--config", config_file(tmp_path, mine))
    )
    assert "another Slack app or authorisation" in line
    assert str(rescue) in line
    assert "xoxe-1-their-rescued-refresh" not in line
    assert rescue.exists()  # never deleted: it was not restored
    assert store_of(mine).read_bytes() == before  # nothing written
    # Its own config restores it.
    done = cli(
        "restore", "--from", str(rescue), "--config", config_file(tmp_path, theirs, "t.json")
    )
    assert done.exit_code == 0, done.output
    assert stored_chain(theirs)["refresh_token"] == "xoxe-1-their-rescued-refresh"
    assert not rescue.exists()


def test_a_config_without_the_chains_refresh_token_is_refused(
    emu: SlackEmulator, tmp_path: Path
) -> None:
    config = authorisation(emu)
    rescue = rescue_of(config, rotated="xoxe-1-rescued")
    app_only = {key: config[key] for key in ("client_id", "client_secret", "api_url")}
    line = one_line_error(
        cli("restore", "--from", str(rescue), "--config", config_file(tmp_path, app_only))
    )
    assert "refresh_token" in line
    assert rescue.exists()
    assert stored_chain(config)["refresh_token"] != "xoxe-1-rescued"


def test_a_rescue_file_under_another_key_is_refused_and_kept(
    emu: SlackEmulator, tmp_path: Path
) -> None:
    config = authorisation(emu)
    rescue = rescue_of(config, rotated="xoxe-1-rescued")
    rotated_secret = {**config, "client_secret": "f" * 32}
    line = one_line_error(
        cli("restore", "--from", str(rescue), "--config", config_file(tmp_path, rotated_secret))
    )
    assert "another key" in line
    assert rescue.exists()


@pytest.mark.parametrize("where", ["other folder", "same folder"])
def test_a_rescue_file_named_through_a_link_is_restored_and_deleted(
    emu: SlackEmulator, tmp_path: Path, where: str
) -> None:
    config = authorisation(emu)
    rescue = rescue_of(config, rotated="xoxe-1-rescued")
    link = (tmp_path if where == "other folder" else rescue.parent) / "rescued-link.json"
    link.symlink_to(rescue)
    done = cli("restore", "--from", str(link), "--config", config_file(tmp_path, config))
    assert done.exit_code == 0, done.output
    assert stored_chain(config)["refresh_token"] == "xoxe-1-rescued"
    assert not rescue.exists()  # the file restored, not only the link to it
    assert str(rescue) in done.stdout
