"""``tap-slack-snow-auth`` for machines: ``--version``, ``check --format json`` and ``exchange
--format json`` (one object, an exit code per outcome, never a secret), and ``check
--env-file`` under the shell's variables (the shell wins, as in Meltano).
"""

from __future__ import annotations

import importlib.metadata
import json
import typing as t
from pathlib import Path

from tap_slack_snow_emulator import SlackEmulator
from tests._support import exchange_args
from tests.cli.cli_support import ENTERPRISE, REDIRECT, STANDARD, STREAMS, authorize, cli


def test_version() -> None:
    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == (
        f"tap-slack-snow-auth, version {importlib.metadata.version('tap-slack-snow')}"
    )


def oauth_env(emu: SlackEmulator, refresh: str, tmp_path: Path) -> dict[str, str]:
    return {
        "TAP_SLACK_SNOW_CLIENT_ID": emu.client_id,
        "TAP_SLACK_SNOW_CLIENT_SECRET": emu.client_secret,
        "TAP_SLACK_SNOW_REFRESH_TOKEN": refresh,
        "TAP_SLACK_SNOW_TOKEN_STORE_PATH": str(tmp_path / "tokens.json"),
        "TAP_SLACK_SNOW_API_URL": emu.url,
    }


def check_json(*args: str, env: dict[str, str]) -> tuple[int, dict[str, t.Any], str]:
    result = cli("check", "--format", "json", *args, env=env)
    (line,) = result.stdout.splitlines()  # one object, one line
    return result.exit_code, json.loads(line), result.output


def test_check_json_all_streams_run(
    emulators: t.Callable[..., SlackEmulator], tmp_path: Path
) -> None:
    emu = emulators(plan="plus")
    refresh = emu.issue_refresh_token(scopes=[*STANDARD, "team:read", "users:read.email"])
    code, found, output = check_json(env=oauth_env(emu, refresh, tmp_path))
    assert code == 0
    assert found["outcome"] == "ok"
    assert found["exit_code"] == 0
    assert found["store"]["location"] == str(tmp_path / "tokens.json")
    assert found["store"]["holds_chain"] is False
    assert found["token"] == {
        "rotating": True,
        "rotated": True,
        "valid_minutes": 720,
        "store": str(tmp_path / "tokens.json"),
    }
    assert found["team"]["id"] == emu.workspace.primary_team.id
    assert found["plan"] == "plus"
    assert found["edition"] == "standard"
    rows = {row["stream"]: row for row in found["streams"]}
    assert set(rows) == STREAMS | {"scim_users"}
    assert {rows[name]["will_run"] for name in ("admin_users", "member_analytics")} == {"n/a"}
    assert rows["scim_users"]["will_run"] == "yes"  # SCIM is on Business+
    assert found["cannot_run"] == []
    assert found["workspaces"] is None
    for secret in (emu.client_secret, refresh):
        assert secret not in output


def test_check_json_a_stream_cannot_run_exits_3(
    emulators: t.Callable[..., SlackEmulator], tmp_path: Path
) -> None:
    emu = emulators(plan="free")
    refresh = emu.issue_refresh_token(scopes=[*STANDARD, "team:read", "users:read.email"])
    code, found, _ = check_json(env=oauth_env(emu, refresh, tmp_path))
    assert code == 3
    assert (found["outcome"], found["exit_code"]) == ("streams_cannot_run", 3)
    assert found["cannot_run"] == ["access_logs"]
    (row,) = [row for row in found["streams"] if row["stream"] == "access_logs"]
    assert row["will_run"] == "no"
    assert "paid_only" in row["outcome"]


def test_check_json_grid_lists_the_workspaces(
    emulators: t.Callable[..., SlackEmulator], tmp_path: Path
) -> None:
    emu = emulators(plan="enterprise", enterprise=True, workspaces=2)
    refresh = emu.issue_refresh_token(scopes=ENTERPRISE, org_level=True)
    code, found, _ = check_json(env=oauth_env(emu, refresh, tmp_path))
    assert code == 0, found
    assert found["org_level_token"] is True
    assert found["edition"] == "enterprise"
    assert [w["id"] for w in found["workspaces"]] == [t.id for t in emu.workspace.teams]


def test_check_json_failure_is_an_object_and_exit_1(
    emulators: t.Callable[..., SlackEmulator], tmp_path: Path
) -> None:
    emu = emulators(plan="plus")
    env = oauth_env(emu, "xoxe-1-not-a-token-4711", tmp_path)
    code, found, output = check_json(env=env)
    assert code == 1
    assert found["outcome"] == "error"
    assert found["exit_code"] == 1
    assert found["error"]
    assert "Traceback" not in output
    assert "xoxe-1-not-a-token-4711" not in output
    assert emu.client_secret not in output


def test_check_env_file_does_not_override_the_shell(
    emulators: t.Callable[..., SlackEmulator], tmp_path: Path
) -> None:
    emu = emulators(plan="plus")
    refresh = emu.issue_refresh_token(scopes=[*STANDARD, "team:read", "users:read.email"])
    env_file = tmp_path / ".env"
    env = oauth_env(emu, refresh, tmp_path)
    # The file names another store; the shell's TAP_SLACK_SNOW_TOKEN_STORE_PATH wins.
    env_file.write_text(
        "".join(f"{key}={value}\n" for key, value in env.items()).replace(
            str(tmp_path / "tokens.json"), str(tmp_path / "from-file.json")
        )
    )
    shell = {"TAP_SLACK_SNOW_TOKEN_STORE_PATH": str(tmp_path / "from-shell.json")}
    code, found, _ = check_json("--env-file", str(env_file), env=shell)
    assert code == 0, found
    assert found["store"]["location"] == str(tmp_path / "from-shell.json")
    assert (tmp_path / "from-shell.json").exists()
    assert not (tmp_path / "from-file.json").exists()
    # Without the shell's variable, the file's value is used.
    (tmp_path / "from-shell.json").unlink()
    fresh = emu.issue_refresh_token(scopes=[*STANDARD, "team:read", "users:read.email"])
    env_file.write_text(env_file.read_text().replace(refresh, fresh))
    code, found, _ = check_json("--env-file", str(env_file), env={})
    assert code == 0, found
    assert found["store"]["location"] == str(tmp_path / "from-file.json")


def test_exchange_json(emu: SlackEmulator, tmp_path: Path) -> None:
    params = authorize(emu, "--extra-scopes")
    code = emu.issue_auth_code(scopes=params["user_scope"].split(","), redirect_uri=REDIRECT)
    store = tmp_path / "store" / "tokens.json"
    landed = f"{REDIRECT}/?code={code}&state={params['state']}"
    result = cli(
        *exchange_args(emu, "--redirect-response", landed, "--format", "json"),
        "--token-store-path",
        str(store),
        env={"SLACK_CLIENT_SECRET": emu.client_secret},
    )
    assert result.exit_code == 0, result.output
    (line,) = result.stdout.splitlines()
    found = json.loads(line)
    assert (found["outcome"], found["exit_code"], found["error"]) == ("saved", 0, None)
    assert found["store"] == str(store)
    assert found["rotating"] is True
    assert found["chain"]
    assert found["team"]["id"] == emu.workspace.primary_team.id
    assert "admin" in found["user_scopes"]
    assert emu.client_secret not in result.output
    assert "xoxe" not in result.output  # neither token

    # The same code again: Slack refuses it; one object, exit 1.
    again = cli(
        *exchange_args(emu, "--redirect-response", landed, "--format", "json"),
        env={"SLACK_CLIENT_SECRET": emu.client_secret},
    )
    assert again.exit_code == 1
    refused = json.loads(again.stdout.splitlines()[-1])
    assert (refused["outcome"], refused["exit_code"]) == ("error", 1)

    both = cli(
        *exchange_args(emu, "--code", "x", "--state", "y", "--format", "json", "--show-secrets")
    )
    assert both.exit_code == 2
