"""Every "Next:" line of ``exchange`` is a step the user can take now, and
``show-refresh-token`` reads a refresh token back out of the encrypted store or a rescue
file (``tap_slack_snow.cli.next_steps``, ``tap_slack_snow.cli.show_token``); names Slack
sends are printed as one safe line.

The emulator (or, for answers it never gives, a small hostile server) answers over real
HTTP; the commands the Next lines print are run as printed.
"""

from __future__ import annotations

import json
import shlex
import typing as t
from pathlib import Path

import pytest
from click.testing import Result

from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_emulator import SlackEmulator
from tests._support import exchange_args, stored_chain, sync
from tests.cli.cli_support import (
    REDIRECT,
    authorize,
    cli,
    exchange,
    one_line_error,
    state_home,
)
from tests.hostile import HostileServer, slack_ok

USERS = select_only("users")


def next_lines(result: Result) -> list[str]:
    """The Next line and the lines after it."""
    lines = result.stdout.splitlines()
    (start,) = [i for i, line in enumerate(lines) if line.startswith("Next: ")]
    return lines[start:]


def commands(lines: list[str], name: str) -> list[list[str]]:
    """The ``tap-slack-snow-auth NAME …`` command lines, as shell words."""
    found = [
        shlex.split(line) for line in lines if line.startswith(f"  tap-slack-snow-auth {name} ")
    ]
    return [words[1:] for words in found]


def landed(emu: SlackEmulator, params: dict[str, str]) -> str:
    code = emu.issue_auth_code(scopes=params["user_scope"].split(","), redirect_uri=REDIRECT)
    return f"{REDIRECT}/?code={code}&state={params['state']}"


def shown_token(result: Result) -> str:
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("xoxe-1-"), result.stdout
    warning = result.stderr.strip()
    assert warning.startswith("Warning: ") and "\n" not in warning
    assert lines[0] not in result.stderr
    return lines[0]


@pytest.mark.parametrize("store", ["default", "path"])
def test_exchange_without_write_env_says_how_to_get_the_refresh_token(
    emu: SlackEmulator, tmp_path: Path, store: str
) -> None:
    extra = ["--token-store-path", str(tmp_path / "my store" / "t.json")] if store == "path" else []
    result = exchange(emu, "--redirect-response", landed(emu, authorize(emu)), *extra)
    assert result.exit_code == 0, result.output
    lines = next_lines(result)
    line = lines[0]
    assert "key refresh_token" not in line and "under refresh_token" not in line
    assert "rerun the flow" not in line
    (command,) = commands(lines, "show-refresh-token")
    # The command as printed, with the secret as exchange read it.
    token = shown_token(cli(*command, env={"SLACK_CLIENT_SECRET": emu.client_secret}))
    config = {
        "client_id": emu.client_id,
        "client_secret": emu.client_secret,
        "refresh_token": token,
        "api_url": emu.url,
        "scim_url": emu.scim_url,
    }
    if store == "path":
        assert f"token_store_path {tmp_path / 'my store' / 't.json'}" in line
        config["token_store_path"] = str(tmp_path / "my store" / "t.json")
    # It is the chain's token: the tap finds the stored access token and needs no refresh.
    assert sync(config, catalog=USERS).exit_code == 0
    assert emu.refreshes == 0


def test_exchange_into_a_failed_store_says_how_to_read_the_rescue_file(
    emu: SlackEmulator, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store's folder should be\n")
    store = blocker / "tokens.json"
    result = exchange(
        emu, "--redirect-response", landed(emu, authorize(emu)), "--token-store-path", str(store)
    )
    assert result.exit_code == 1
    lines = next_lines(result)
    (show,) = commands(lines, "show-refresh-token")
    token = shown_token(cli(*show, env={"SLACK_CLIENT_SECRET": emu.client_secret}))
    (restore,) = commands(lines, "restore")
    assert restore[:2] == ["restore", "--from"]
    assert commands(lines, "check") == [["check", "--config", "config.json"]]
    # The user fixes the store, writes the config the line names, and runs the restore.
    blocker.unlink()
    config = {
        "client_id": emu.client_id,
        "client_secret": emu.client_secret,
        "refresh_token": token,
        "api_url": emu.url,
        "scim_url": emu.scim_url,
        "token_store_path": str(store),
    }
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    restore[restore.index("config.json")] = str(config_path)
    restored = cli(*restore)
    assert restored.exit_code == 0, restored.output
    assert stored_chain(config)["refresh_token"] == token


def test_show_refresh_token_prints_the_configured_chains_current_token(
    emu: SlackEmulator, tmp_path: Path
) -> None:
    config = {
        "client_id": emu.client_id,
        "client_secret": emu.client_secret,
        "refresh_token": emu.issue_refresh_token(),
        "api_url": emu.url,
        "scim_url": emu.scim_url,
        "token_store_path": str(tmp_path / "tokens.json"),
    }
    assert sync(config, catalog=USERS).exit_code == 0  # rotates once
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    token = shown_token(cli("show-refresh-token", "--config", str(config_path)))
    assert token != config["refresh_token"]
    assert token == stored_chain(config)["refresh_token"]


def test_show_refresh_token_mistakes_are_one_line(emu: SlackEmulator, tmp_path: Path) -> None:
    secret = {"SLACK_CLIENT_SECRET": emu.client_secret}
    nothing = one_line_error(cli("show-refresh-token", env=secret))
    assert "--chain" in nothing and "refresh_token" in nothing
    no_store = one_line_error(cli("show-refresh-token", "--chain", "0" * 32, env=secret))
    assert "--token-store-path" in no_store
    unknown = one_line_error(
        cli(
            "show-refresh-token",
            "--chain",
            "0" * 32,
            "--token-store-path",
            str(tmp_path / "t.json"),
            env=secret,
        )
    )
    assert "holds no chain" in unknown


# --- Slack's names as one safe line ------------------------------------------------------------

HOSTILE_NAME = "Evil\nINFO | Stream users done\x1b[31m"


def test_exchange_and_check_print_slacks_names_as_one_safe_line(tmp_path: Path) -> None:
    grant = {
        "app_id": "A1",
        "team": {"id": "T1\nX", "name": HOSTILE_NAME},
        "enterprise": {"id": "E1", "name": "Org\x1b]0;title\x07"},
        "authed_user": {
            "id": "U1\r",
            "scope": "admin,users:read",
            "access_token": "xoxp-static-user-token",
            "token_type": "user",
        },
    }
    routes = {
        "oauth.v2.access": slack_ok(grant),
        "auth.test": slack_ok(
            {"team": HOSTILE_NAME, "team_id": "T1", "user_id": "U1\nX"}, scopes="admin"
        ),
        "team.billing.info": slack_ok({"plan": "plus\n\x1b[2J"}),
    }
    with HostileServer(routes=routes) as server:
        params = cli("authorize-url", "--edition", "standard", "--client-id", "1.2").stdout
        state = params.split("state=", 1)[1].split("&", 1)[0].strip()
        args = exchange_args(
            t.cast("SlackEmulator", type("App", (), {"client_id": "1.2", "url": server.url})),
            "--redirect-response",
            f"{REDIRECT}/?code=c&state={state}",
        )
        result = cli(*args, env={"SLACK_CLIENT_SECRET": "s" * 32})
        assert result.exit_code == 0, result.output
        config_path = tmp_path / "config.json"
        config_path.write_text(
            json.dumps({"access_token": "xoxp-static-user-token", "api_url": server.url})
        )
        checked = cli("check", "--config", str(config_path))
    for output in (result.output, checked.output):
        assert "\x1b" not in output and "\r" not in output and "\x07" not in output
        assert "Evil\\nINFO | Stream users done\\x1b[31m" in output
        assert not any(line.startswith("INFO | Stream") for line in output.splitlines())
    # A static grant (no rotation), neither printed nor written: the line says so and what to do.
    (line,) = next_lines(result)
    assert "nothing keeps it" in line and "--write-env" in line
    assert not state_home().joinpath("oauth-states.json").read_text().count("c&state")
