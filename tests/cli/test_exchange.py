"""``tap-slack-snow-auth exchange`` end to end (``tap_slack_snow.cli.token_exchange``): the
code exchanged, the chain stored where the tap reads it, the state checked, Slack's errors with
the fix.

Every Slack call goes over real HTTP to the project's emulator on 127.0.0.1; the tap run that
proves the stored token works is a real subprocess. Nothing is mocked.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
import typing as t
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner

from tap_slack_snow.auth import default_token_store_path, fingerprint
from tap_slack_snow.cli import main
from tap_slack_snow.cli import main as cli_main
from tap_slack_snow.slack.errors import ERROR_POLICY
from tap_slack_snow_emulator import Fault, SlackEmulator
from tests._support import ENV_PREFIX, exchange_args
from tests.cli.cli_support import (
    REDIRECT,
    authorize,
    catalog_selecting,
    cli,
    exchange,
    load_chain,
    one_line_error,
    state_home,
)


def test_exchange_writes_the_store_named_by_the_tap_setting(
    emu: SlackEmulator, tmp_path: Path
) -> None:
    # As under `meltano invoke tap-slack-snow:auth-exchange`, where Meltano exports the tap's
    # settings: the tokens go where the tap will look for them.
    params = authorize(emu)
    code = emu.issue_auth_code(scopes=params["user_scope"].split(","), redirect_uri=REDIRECT)
    store_path = tmp_path / "meltano-store" / "tokens.json"
    result = cli(
        *exchange_args(
            emu, "--redirect-response", f"{REDIRECT}/?code={code}&state={params['state']}"
        ),
        "--show-secrets",
        env={
            "SLACK_CLIENT_SECRET": emu.client_secret,
            "TAP_SLACK_SNOW_TOKEN_STORE_PATH": str(store_path),
        },
    )
    assert result.exit_code == 0, result.output
    (shown,) = (
        line.split(":", 1)[1].strip()
        for line in result.stdout.splitlines()
        if line.strip().startswith("refresh token:")
    )
    stored = load_chain(emu, shown, store_path)
    assert stored is not None
    assert stored.refresh_token.startswith("xoxe-1-")
    assert str(store_path) in result.output
    assert not default_token_store_path(emu.client_id, stored.refresh_token).exists()


def test_exchange_saves_tokens_the_tap_then_syncs_without_refreshing(
    emu: SlackEmulator, tmp_path: Path
) -> None:
    params = authorize(emu, "--extra-scopes")
    code = emu.issue_auth_code(scopes=params["user_scope"].split(","), redirect_uri=REDIRECT)
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# my pipeline\nOTHER_SETTING=keep me\nTAP_SLACK_SNOW_REFRESH_TOKEN=xoxe-1-old\n"
        "TAP_SLACK_SNOW_ACCESS_TOKEN=xoxp-conflicting\n"
    )
    result = exchange(
        emu,
        "--redirect-response",
        f"{REDIRECT}/?code={code}&state={params['state']}",
        "--write-env",
        str(env_file),
    )
    assert result.exit_code == 0, result.output

    env = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    assert env_file.read_text().startswith("# my pipeline\nOTHER_SETTING=keep me\n")
    assert env["OTHER_SETTING"] == "keep me"
    assert "TAP_SLACK_SNOW_ACCESS_TOKEN" not in env  # the tap refuses it next to OAuth
    assert env["TAP_SLACK_SNOW_CLIENT_ID"] == emu.client_id
    assert env["TAP_SLACK_SNOW_CLIENT_SECRET"] == emu.client_secret
    refresh_token = env["TAP_SLACK_SNOW_REFRESH_TOKEN"]
    assert refresh_token.startswith("xoxe-1-")
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600

    store_path = default_token_store_path(emu.client_id, refresh_token)
    stored = load_chain(emu, refresh_token, store_path)
    assert stored is not None
    assert stored.origin == fingerprint(refresh_token)
    assert stored.refresh_token == refresh_token
    assert stored.access_token
    assert stored.access_token.startswith("xoxe.xoxp-")
    assert stored.expires_at is not None
    assert abs(stored.expires_at - (time.time() + 43200)) < 60

    out = result.output
    team = emu.workspace.primary_team
    assert f"team:              {team.name} ({team.id})" in out
    assert "org-level install: no" in out
    assert (
        "user scopes:       admin, team.billing:read, team:read, users:read, users:read.email"
        in out
    )
    assert "token rotation:    on" in out
    assert str(store_path) in out
    for secret in (emu.client_secret, refresh_token, stored.access_token):
        assert secret not in out
    assert emu.calls["oauth.v2.access"] == 1

    # check, fed the .env the exchange wrote, reuses the stored token and passes.
    api_only = tmp_path / "api.json"
    api_only.write_text(json.dumps({"api_url": emu.url, "scim_url": emu.scim_url}))
    checked = cli("check", "--config", str(api_only), "--env-file", str(env_file))
    assert checked.exit_code == 0, checked.output
    assert f"stored access token reused (valid 720 more min) from {store_path}" in checked.stdout
    assert "Plan:       Business+ (plus)" in checked.stdout
    assert "All 7 selected streams will run." in checked.stdout
    assert "TAP_SLACK_SNOW_REFRESH_TOKEN" not in os.environ  # the .env did not leak
    assert emu.refreshes == 0

    # The tap, configured as a user would (same client_id/refresh_token, default store),
    # finds the fresh access token and syncs without another oauth.v2.access.
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "client_id": emu.client_id,
                "client_secret": emu.client_secret,
                "refresh_token": refresh_token,
                "api_url": emu.url,
                "scim_url": emu.scim_url,
            }
        )
    )
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(catalog_selecting({"users"})))
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "tap_slack_snow",
            "--config",
            str(config),
            "--catalog",
            str(catalog),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ},
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    records = [
        json.loads(line)
        for line in run.stdout.splitlines()
        if line.startswith("{") and json.loads(line)["type"] == "RECORD"
    ]
    assert {r["stream"] for r in records} == {"users"}
    assert len(records) == emu.workspace.user_count
    assert emu.refreshes == 0
    assert emu.calls["oauth.v2.access"] == 1  # only the exchange
    assert emu.calls["users.list"] >= 1


def test_exchange_show_secrets_and_explicit_store_path(emu: SlackEmulator, tmp_path: Path) -> None:
    params = authorize(emu)
    code = emu.issue_auth_code(redirect_uri=REDIRECT)
    store_path = tmp_path / "ci" / "tokens.json"
    env_file = tmp_path / "pipeline.env"
    result = exchange(
        emu,
        "--code",
        code,
        "--state",
        params["state"],
        "--token-store-path",
        str(store_path),
        "--write-env",
        str(env_file),
        "--show-secrets",
    )
    assert result.exit_code == 0, result.output
    env = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    stored = load_chain(emu, env["TAP_SLACK_SNOW_REFRESH_TOKEN"], store_path)
    assert stored is not None
    assert stored.access_token
    assert f"refresh token:     {stored.refresh_token}" in result.stdout
    assert f"access token:      {stored.access_token}" in result.stdout
    assert emu.client_secret not in result.output  # the client secret is never echoed
    assert f"TAP_SLACK_SNOW_TOKEN_STORE_PATH={store_path}" in env_file.read_text()
    assert not default_token_store_path(emu.client_id, stored.refresh_token).exists()


def test_exchange_reads_the_secret_from_a_hidden_prompt(emu: SlackEmulator) -> None:
    params = authorize(emu)
    code = emu.issue_auth_code(redirect_uri=REDIRECT)
    result = CliRunner().invoke(
        main,
        exchange_args(
            emu, "--redirect-response", f"{REDIRECT}?code={code}&state={params['state']}"
        ),
        input=emu.client_secret + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "Client Secret" in result.stderr
    assert emu.client_secret not in result.output
    assert "Authorised." in result.stdout
    assert "--client-secret" not in cli("exchange", "--help").stdout


def test_exchange_refuses_a_replayed_wrong_or_missing_state(emu: SlackEmulator) -> None:
    params = authorize(emu)
    code = emu.issue_auth_code(redirect_uri=REDIRECT)
    landed = f"{REDIRECT}/?code={code}&state={params['state']}"
    assert exchange(emu, "--redirect-response", landed).exit_code == 0
    calls = emu.calls["oauth.v2.access"]

    replay = one_line_error(exchange(emu, "--redirect-response", landed))
    assert "does not match any authorize-url" in replay
    forged = one_line_error(
        exchange(emu, "--redirect-response", f"{REDIRECT}/?code={code}&state=forged-state")
    )
    assert "does not match any authorize-url" in forged
    missing = one_line_error(exchange(emu, "--redirect-response", f"{REDIRECT}/?code={code}"))
    assert "has no state" in missing
    missing_code = one_line_error(exchange(emu, "--code", code))
    assert "has no state" in missing_code
    no_code = one_line_error(exchange(emu, "--redirect-response", f"{REDIRECT}/?state=x"))
    assert "no 'code' parameter" in no_code
    assert emu.calls["oauth.v2.access"] == calls  # none of these reached Slack


def test_exchange_refuses_an_expired_state(emu: SlackEmulator) -> None:
    params = authorize(emu)
    state_file = state_home() / "oauth-states.json"
    data = json.loads(state_file.read_text())
    data["states"][0]["created_at"] -= 11 * 60
    state_file.write_text(json.dumps(data))
    code = emu.issue_auth_code(redirect_uri=REDIRECT)
    error = one_line_error(
        exchange(emu, "--redirect-response", f"{REDIRECT}/?code={code}&state={params['state']}")
    )
    assert "11 minutes old" in error
    assert "Run authorize-url again" in error
    assert emu.calls["oauth.v2.access"] == 0


def test_exchange_refuses_a_state_issued_for_another_app(emu: SlackEmulator) -> None:
    params = cli("authorize-url", "--edition", "standard", "--client-id", "999.111").stdout
    state = parse_qs(urlsplit(params.strip()).query)["state"][0]
    error = one_line_error(exchange(emu, "--code", "123", "--state", state))
    assert "issued for client_id 999.111" in error


def test_exchange_explains_a_cancelled_authorisation(emu: SlackEmulator) -> None:
    params = authorize(emu)
    error = one_line_error(
        exchange(
            emu, "--redirect-response", f"{REDIRECT}/?error=access_denied&state={params['state']}"
        )
    )
    assert "error=access_denied" in error
    assert ERROR_POLICY["access_denied"].fix in error
    assert emu.calls["oauth.v2.access"] == 0


@pytest.mark.parametrize(
    "code",
    [
        "invalid_code",
        "bad_redirect_uri",
        "bad_client_secret",
        "invalid_client_id",
        "oauth_authorization_url_mismatch",
        "invalid_grant_type",
    ],
)
def test_exchange_shows_slacks_error_with_the_fix(emu: SlackEmulator, code: str) -> None:
    client_id = "111.222" if code == "invalid_client_id" else emu.client_id
    result = cli("authorize-url", "--edition", "standard", "--client-id", client_id)
    state = parse_qs(urlsplit(result.stdout.strip()).query)["state"][0]
    auth_code = emu.issue_auth_code(redirect_uri=REDIRECT)
    args = ["--code", auth_code, "--state", state]
    secret = emu.client_secret
    if code == "invalid_code":
        args[1] = "0000.not-a-code"
    elif code == "bad_redirect_uri":
        args += ["--redirect-url", "https://elsewhere.example/cb"]
    elif code == "bad_client_secret":
        secret = "0" * 32
    elif code in {"oauth_authorization_url_mismatch", "invalid_grant_type"}:
        emu.add_fault(Fault("oauth.v2.access", "error", error=code))
    result = cli(
        "exchange",
        "--client-id",
        client_id,
        "--api-url",
        emu.url,
        *args,
        env={"SLACK_CLIENT_SECRET": secret},
    )
    error = one_line_error(result)
    assert f"oauth.v2.access answered '{code}'" in error
    assert ERROR_POLICY[code].fix in error
    assert secret not in result.output
    assert not list(state_home().glob("tokens-*.json"))  # nothing stored on failure


def auth_cli(*args: str, env: dict[str, str]) -> t.Any:
    clean = {k: v for k, v in os.environ.items() if not k.startswith((ENV_PREFIX, "SLACK_"))}
    return CliRunner().invoke(
        cli_main,
        list(args),
        env={**clean, **env},
        catch_exceptions=False,
    )


def test_exchange_with_a_mistyped_secret_can_be_retried(
    emulator: SlackEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith((ENV_PREFIX, "SLACK_")):
            monkeypatch.delenv(name)
    url = auth_cli(
        "authorize-url", "--edition", "standard", "--client-id", emulator.client_id, env={}
    ).stdout.strip()
    state = parse_qs(urlsplit(url).query)["state"][0]
    code = emulator.issue_auth_code(redirect_uri="https://localhost")
    landed = f"https://localhost/?code={code}&state={state}"
    env_file = tmp_path / ".env"
    args = ["exchange", "--client-id", emulator.client_id, "--api-url", emulator.url]
    args += ["--redirect-response", landed, "--write-env", str(env_file)]
    wrong = auth_cli(*args, env={"SLACK_CLIENT_SECRET": "0" * 32})
    assert wrong.exit_code == 1 and "bad_client_secret" in wrong.output
    assert "0" * 32 not in wrong.output
    right = auth_cli(*args, env={"SLACK_CLIENT_SECRET": emulator.client_secret})
    assert right.exit_code == 0, right.output
    env = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    assert env[ENV_PREFIX + "API_URL"] == emulator.url  # a non-default --api-url is kept
    # and the state is now spent
    again = auth_cli(*args, env={"SLACK_CLIENT_SECRET": emulator.client_secret})
    assert again.exit_code == 1 and "does not match" in again.output


def test_exchange_through_a_store_link_writes_the_file_it_names(
    emu: SlackEmulator, tmp_path: Path
) -> None:
    # The store on a volume, named through a link: a dangling link (the volume's file is not
    # there) is one line before the code is spent; once the file exists, the chain goes
    # into it and the link stays a link.
    target = tmp_path / "volume" / "tokens.json"
    target.parent.mkdir()
    link = tmp_path / "app" / "tokens.json"
    link.parent.mkdir()
    link.symlink_to(target)
    params = authorize(emu)
    code = emu.issue_auth_code(scopes=params["user_scope"].split(","), redirect_uri=REDIRECT)
    args = ["--redirect-response", f"{REDIRECT}/?code={code}&state={params['state']}"]
    args += ["--token-store-path", str(link), "--show-secrets"]
    dangling = exchange(emu, *args)
    line = one_line_error(dangling)
    assert f"--token-store-path {link} is a symbolic link to {target}" in line
    assert f"touch {target}" in line
    assert emu.calls["oauth.v2.access"] == 0
    target.touch()
    result = exchange(emu, *args)
    assert result.exit_code == 0, result.output
    (shown,) = (
        line.split(":", 1)[1].strip()
        for line in result.stdout.splitlines()
        if line.strip().startswith("refresh token:")
    )
    assert link.is_symlink()
    stored = load_chain(emu, shown, target)
    assert stored is not None and stored.refresh_token == shown
    assert (target.parent / "tokens.json.lock").exists()
    assert sorted(p.name for p in link.parent.iterdir()) == ["tokens.json"]
