"""The tap as a whole (``tap_slack_snow.tap``): ``--about`` and ``--discover`` make no call,
ACTIVATE_VERSION messages only when asked, the connection test (``--test``), and a catalog
that selects no stream of the tap.
"""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pytest

from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_emulator import ENTERPRISE_USER_SCOPES, SlackEmulator, WorkspaceConfig
from tests._support import (
    SyncResult,
    oauth_config,
    run_cli,
    run_tap,
    static_config,
    sync,
    warning_lines,
)


@pytest.mark.parametrize(
    "catalog",
    [{"streams": []}, "deselected", {"streams": [{"tap_stream_id": "channels", "schema": {}}]}],
    ids=["empty", "all-deselected", "unknown-stream"],
)
def test_a_catalog_selecting_no_known_stream_is_warned_about(
    emulator: SlackEmulator, tmp_path: Path, catalog: t.Any
) -> None:
    if catalog == "deselected":
        catalog = select_only()
    token = emulator.issue_access_token()
    result = run_tap(tmp_path, config=static_config(emulator.url, token), catalog=catalog)
    assert result.exit_code == 0, result.stderr[-3000:]
    warned = [line for line in warning_lines(result) if "catalog" in line]
    assert warned and "no stream" in warned[0], result.stderr[-3000:]
    assert not result.records


def test_a_healthy_connection_test_prints_no_error(
    emulator_factory: t.Callable[..., SlackEmulator], tmp_path: Path
) -> None:
    emu = emulator_factory(
        WorkspaceConfig(seed=6, users=30, plan="enterprise", enterprise=True, access_logs=50)
    )
    config = oauth_config(
        emu,
        tmp_path,
        scopes=ENTERPRISE_USER_SCOPES,
        org_level=True,
        team_id=emu.workspace.team_ids[0],
    )
    result = run_cli(config, tmp_path, "--test")
    assert result.exit_code == 0, result.stderr[-3000:]
    assert "ERROR" not in result.stderr, [ln for ln in result.stderr.splitlines() if "ERROR" in ln]
    assert "unhandled" not in result.stderr.lower()


def test_about_and_discover_never_call_slack(emulator: SlackEmulator, tmp_path: Path) -> None:
    config = oauth_config(emulator, tmp_path)
    about = run_cli(None, tmp_path, "--about", "--format", "json")
    assert about.exit_code == 0
    settings = set(json.loads(about.stdout)["settings"]["properties"])
    assert {
        "client_id",
        "client_secret",
        "refresh_token",
        "access_token",
        "token_store_path",
        "api_url",
        "start_date",
        "edition",
        "team_id",
        "page_size",
        "on_unavailable",
    } <= settings
    secret_flags = json.loads(about.stdout)["settings"]["properties"]
    assert all(
        secret_flags[name].get("secret")
        for name in ("client_secret", "refresh_token", "access_token")
    )
    discover = run_cli(config, tmp_path, "--discover")
    assert discover.exit_code == 0
    assert {s["tap_stream_id"] for s in json.loads(discover.stdout)["streams"]} >= {
        "users",
        "team",
        "billing",
    }
    assert sum(emulator.calls.values()) == 0
    assert not Path(config["token_store_path"]).exists()


def test_activate_version_only_when_asked(emulator: SlackEmulator, tmp_path: Path) -> None:
    config = oauth_config(emulator, tmp_path)
    plain = sync(config, catalog=select_only("users"))
    assert not [m for m in plain.messages if m["type"] == "ACTIVATE_VERSION"]
    asked = sync({**config, "emit_activate_version_messages": True}, catalog=select_only("users"))
    versions = [m for m in asked.messages if m["type"] == "ACTIVATE_VERSION"]
    assert [m["stream"] for m in versions] == ["users"]
    # every record carries the version the target keeps; older rows can then be marked deleted
    records = [m for m in asked.messages if m["type"] == "RECORD"]
    assert {m.get("version") for m in records} == {versions[0]["version"]}
    assert len(records) == emulator.workspace.user_count


def activations(result: SyncResult) -> dict[str, int]:
    """Each stream's ACTIVATE_VERSION: its position among the run's messages."""
    return {
        m["stream"]: index
        for index, m in enumerate(result.messages)
        if m["type"] == "ACTIVATE_VERSION"
    }


def test_activate_version_follows_the_records(emulator: SlackEmulator, tmp_path: Path) -> None:
    """After the stream's last record and before its closing STATE (the SDK writes it before
    the first record: a target then deletes what a failing stream had not sent yet)."""
    config = oauth_config(emulator, tmp_path, page_size=100, emit_activate_version_messages=True)
    result = sync(config, catalog=select_only("users", "billable_info"))
    assert result.exit_code == 0
    where = activations(result)
    assert set(where) == {"users", "billable_info"}
    for stream, index in where.items():
        records = [i for i, m in enumerate(result.messages) if m.get("stream") == stream]
        assert index == records[-1], f"{stream}: ACTIVATE_VERSION before its records"
        assert result.messages[index + 1]["type"] == "STATE"


def test_activate_version_only_for_a_stream_read_to_its_end(
    emulator_factory: t.Callable[..., SlackEmulator], tmp_path: Path
) -> None:
    """A workspace skipped (``on_unavailable: skip``) leaves its rows: no ACTIVATE_VERSION for
    the stream; nor in a connection test (``--test`` stops at a record)."""
    emu = emulator_factory(
        WorkspaceConfig(
            seed=6,
            users=60,
            plan="enterprise",
            enterprise=True,
            workspaces=3,
            denied_workspaces=(1,),
            access_logs=50,
        )
    )
    config = oauth_config(
        emu,
        tmp_path,
        scopes=ENTERPRISE_USER_SCOPES,
        org_level=True,
        emit_activate_version_messages=True,
    )
    catalog = select_only("users", "admin_users")
    result = sync(config, catalog=catalog)
    assert result.exit_code == 0
    assert result.count("users") > 0
    assert set(activations(result)) == {"admin_users"}  # users skipped a workspace
    dry = run_cli(config, tmp_path, "--test", catalog=catalog)
    assert dry.exit_code == 0, dry.stderr[-3000:]
    assert not activations(dry)
