"""tap-slack-snow-auth end to end: manifest, authorize-url, exchange and check.

Every Slack call goes over real HTTP to the project's emulator on 127.0.0.1; the tap run that
proves the stored token works is a real subprocess. Nothing is mocked.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import time
import typing as t
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from click.testing import CliRunner, Result

from tap_slack_snow.auth import StoredTokens, default_token_store_path, fingerprint, open_store
from tap_slack_snow.cli import main
from tap_slack_snow.cli import main as cli_main
from tap_slack_snow.slack.errors import ERROR_POLICY
from tap_slack_snow.tap import TapSlackSnow
from tap_slack_snow_devkit.emulators import EmulatorFactory
from tap_slack_snow_emulator import Fault, SlackEmulator
from tests._support import ENV_PREFIX, STREAM_NAMES, exchange_args

# The Snow Atlas lists, written out here rather than imported, so a typo in the CLI fails.
ENTERPRISE = [
    "admin",
    "users:read",
    "team:read",
    "users:read.email",
    "admin.users:read",
    "admin.analytics:read",
    "team.billing:read",
]
STANDARD = ["admin", "users:read", "team.billing:read"]
REDIRECT = "https://localhost"
STREAMS = set(STREAM_NAMES)


@pytest.fixture(autouse=True)
def _clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A private state folder, and no secret or tap setting leaking in from the shell."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state-home"))
    for name in list(os.environ):
        if name.startswith(("TAP_SLACK_SNOW_", "SLACK_CLIENT_")):
            monkeypatch.delenv(name)


@pytest.fixture
def emulators() -> t.Iterator[t.Callable[..., SlackEmulator]]:
    factory = EmulatorFactory(seed=3, users=30, access_logs=40, integration_logs=10)
    yield factory.make
    factory.stop_all()


@pytest.fixture
def emu(emulators: t.Callable[..., SlackEmulator]) -> SlackEmulator:
    return emulators(plan="plus")


def cli(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, input=stdin, catch_exceptions=False)


def state_home() -> Path:
    return Path(os.environ["XDG_STATE_HOME"]) / "tap-slack-snow"


def authorize(emu: SlackEmulator, *extra: str, edition: str = "standard") -> dict[str, str]:
    """Run authorize-url and return its query parameters."""
    result = cli("authorize-url", "--edition", edition, "--client-id", emu.client_id, *extra)
    assert result.exit_code == 0, result.output
    url = result.stdout.strip()
    assert url.startswith("https://slack.com/oauth/v2/authorize?")
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def exchange(emu: SlackEmulator, *args: str, secret: str | None = None) -> Result:
    return cli(
        *exchange_args(emu, *args),
        env={"SLACK_CLIENT_SECRET": secret or emu.client_secret},
    )


def load_chain(emu: SlackEmulator, refresh_token: str, path: Path) -> StoredTokens | None:
    """The chain exchange stored for this refresh token (decrypted as the tap does)."""
    store = open_store(
        {
            "client_id": emu.client_id,
            "client_secret": emu.client_secret,
            "refresh_token": refresh_token,
            "token_store_path": str(path),
        }
    )
    content = store.load()
    return StoredTokens.from_content(content, str(path)) if content else None


def one_line_error(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    return lines[0]


# --- manifest --------------------------------------------------------------------------------


@pytest.mark.parametrize("edition", ["enterprise", "standard"])
@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_manifest_holds_exactly_the_snow_atlas_scopes(edition: str, fmt: str) -> None:
    result = cli("manifest", "--edition", edition, "--format", fmt)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout) if fmt == "json" else yaml.safe_load(result.stdout)
    scopes = data["oauth_config"]["scopes"]
    assert scopes["user"] == (ENTERPRISE if edition == "enterprise" else STANDARD)
    assert scopes["bot"] == ["bookmarks:read"]
    assert data["oauth_config"]["redirect_urls"] == [REDIRECT]
    assert data["settings"]["token_rotation_enabled"] is True
    assert data["settings"].get("org_deploy_enabled", False) is (edition == "enterprise")
    assert data["display_information"]["name"] == "tap-slack-snow"
    # Slack requires a bot user when bot scopes are requested.
    assert data["features"]["bot_user"]["display_name"]


def test_manifest_options_extra_scopes_redirects_and_name() -> None:
    result = cli(
        "manifest",
        "--edition",
        "standard",
        "--extra-scopes",
        "--redirect-url",
        "https://etl.example.com/slack/callback",
        "--redirect-url",
        REDIRECT,
        "--app-name",
        "Acme SaaS inventory",
    )
    data = yaml.safe_load(result.stdout)
    assert data["oauth_config"]["scopes"]["user"] == [*STANDARD, "team:read", "users:read.email"]
    assert data["oauth_config"]["redirect_urls"] == [
        "https://etl.example.com/slack/callback",
        REDIRECT,
    ]
    assert data["display_information"]["name"] == "Acme SaaS inventory"
    # Enterprise already has both extras: no duplicates.
    enterprise = json.loads(
        cli("manifest", "--edition", "enterprise", "--format", "json", "--extra-scopes").stdout
    )
    assert enterprise["oauth_config"]["scopes"]["user"] == ENTERPRISE
    assert "team:read" in cli("manifest", "--help").stdout


def test_manifest_refuses_an_unknown_edition() -> None:
    result = cli("manifest", "--edition", "grid")
    assert result.exit_code == 2
    assert "'grid' is not one of 'enterprise', 'standard'" in result.stderr


# --- authorize-url ---------------------------------------------------------------------------


def test_authorize_url_asks_for_the_scopes_with_a_fresh_remembered_state(
    emu: SlackEmulator,
) -> None:
    first = authorize(emu, edition="enterprise")
    second = authorize(emu, edition="enterprise")
    assert first["client_id"] == emu.client_id
    assert first["scope"] == "bookmarks:read"
    assert first["user_scope"].split(",") == ENTERPRISE
    assert first["redirect_uri"] == REDIRECT
    assert first["state"] != second["state"]
    for params in (first, second):
        assert len(params["state"]) >= 43
        assert re.fullmatch(r"[A-Za-z0-9_-]+", params["state"])
    state_file = state_home() / "oauth-states.json"
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600
    stored = json.loads(state_file.read_text())["states"]
    assert [s["state_sha256"] for s in stored] == [
        fingerprint(first["state"]),
        fingerprint(second["state"]),
    ]
    assert first["state"] not in state_file.read_text()  # only a hash is kept
    assert all(abs(s["created_at"] - time.time()) < 60 for s in stored)
    standard = authorize(emu, "--extra-scopes", "--redirect-url", "https://etl.example.com/cb")
    assert standard["user_scope"].split(",") == [*STANDARD, "team:read", "users:read.email"]
    assert standard["redirect_uri"] == "https://etl.example.com/cb"


# --- exchange --------------------------------------------------------------------------------


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
    api_only.write_text(json.dumps({"api_url": emu.url}))
    checked = cli("check", "--config", str(api_only), "--env-file", str(env_file))
    assert checked.exit_code == 0, checked.output
    assert f"stored access token reused (valid 720 more min) from {store_path}" in checked.stdout
    assert "Plan:       Business+ (plus)" in checked.stdout
    assert "All 6 selected streams will run." in checked.stdout
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


# --- check -----------------------------------------------------------------------------------


def catalog_selecting(names: set[str]) -> dict[str, t.Any]:
    catalog = TapSlackSnow(config={}, validate_config=False).catalog_dict
    for entry in catalog["streams"]:
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = entry["tap_stream_id"] in names
    return catalog


def table(output: str) -> dict[str, list[str]]:
    """The check table as stream -> [needs, granted, will run, what will happen]."""
    rows = {}
    for line in output.splitlines():
        cells = re.split(r"\s{2,}", line.strip(), maxsplit=4)
        if cells and cells[0] in STREAMS and len(cells) == 5:
            rows[cells[0]] = cells[1:]
    return rows


def write_config(tmp_path: Path, **config: t.Any) -> str:
    path = tmp_path / f"config-{len(list(tmp_path.glob('config-*')))}.json"
    path.write_text(json.dumps(config))
    return str(path)


def test_check_free_workspace_flags_access_logs_paid_only(
    emulators: t.Callable[..., SlackEmulator], tmp_path: Path
) -> None:
    emu = emulators(plan="free")
    refresh = emu.issue_refresh_token(scopes=[*STANDARD, "team:read", "users:read.email"])
    # Credentials only in TAP_SLACK_SNOW_* variables, as the tap reads them.
    env = {
        "TAP_SLACK_SNOW_CLIENT_ID": emu.client_id,
        "TAP_SLACK_SNOW_CLIENT_SECRET": emu.client_secret,
        "TAP_SLACK_SNOW_REFRESH_TOKEN": refresh,
        "TAP_SLACK_SNOW_TOKEN_STORE_PATH": str(tmp_path / "tokens.json"),
    }
    config = write_config(tmp_path, api_url=emu.url)
    result = cli("check", "--config", config, env=env)
    assert result.exit_code == 3, result.output
    rows = table(result.stdout)
    assert set(rows) == STREAMS
    assert rows["access_logs"][1:3] == ["yes", "no"]
    assert "paid_only" in rows["access_logs"][3]
    assert ERROR_POLICY["paid_only"].fix in rows["access_logs"][3]
    for name in ("users", "team", "billing", "billable_info", "integration_logs"):
        assert rows[name][2] == "yes", (name, rows[name])
    assert rows["admin_users"][2] == rows["member_analytics"][2] == "n/a"
    assert "Plan:       Free (free)" in result.stdout
    assert "Edition:    standard (detected)" in result.stdout
    assert "1 selected stream(s) cannot run: access_logs" in result.stdout
    assert emu.refreshes == 1  # the token was rotated once, through the tap's provider
    for secret in (emu.client_secret, refresh):
        assert secret not in result.output

    # Deselect access_logs in a catalog: the rest can run, so the check passes.
    catalog = tmp_path / "catalog.json"
    catalog.write_text(
        json.dumps(catalog_selecting(STREAMS - {"access_logs", "admin_users", "member_analytics"}))
    )
    result = cli("check", "--config", config, "--catalog", str(catalog), env=env)
    assert result.exit_code == 0, result.output
    assert set(table(result.stdout)) == {
        "users",
        "team",
        "billing",
        "billable_info",
        "integration_logs",
    }
    assert "All 5 selected streams will run." in result.stdout
    assert emu.refreshes == 1  # the second check reused the stored access token
    assert "stored access token reused" in result.stdout


def test_check_business_plus_token_missing_scopes(
    emulators: t.Callable[..., SlackEmulator], tmp_path: Path
) -> None:
    emu = emulators(plan="plus")
    refresh = emu.issue_refresh_token(scopes=["users:read"])
    config = write_config(
        tmp_path,
        client_id=emu.client_id,
        refresh_token=refresh,
        api_url=emu.url,
        token_store_path=str(tmp_path / "tokens.json"),
    )
    # The secret is not in the config: it comes from SLACK_CLIENT_SECRET.
    result = cli("check", "--config", config, env={"SLACK_CLIENT_SECRET": emu.client_secret})
    assert result.exit_code == 3, result.output
    rows = table(result.stdout)
    assert rows["users"][1:3] == ["yes", "yes"]
    assert "no emails: add users:read.email" in rows["users"][3]
    for name, scope in [
        ("billable_info", "admin"),
        ("access_logs", "admin"),
        ("integration_logs", "admin"),
        ("team", "team:read"),
        ("billing", "team.billing:read"),
    ]:
        assert rows[name][1:3] == ["no", "no"], (name, rows[name])
        assert f"add user scope {scope} " in rows[name][3]
    assert "Plan:       unknown (the token lacks team.billing:read)" in result.stdout
    assert emu.calls["team.billing.info"] == 0
    assert "Scopes:     users:read" in result.stdout
    assert "To add scopes: print a new manifest" in result.stdout
    assert emu.client_secret not in result.output


def test_check_enterprise_org_everything_runs(
    emulators: t.Callable[..., SlackEmulator], tmp_path: Path
) -> None:
    emu = emulators(plan="enterprise", enterprise=True, workspaces=2)
    refresh = emu.issue_refresh_token(scopes=ENTERPRISE, org_level=True)
    config = write_config(
        tmp_path,
        client_id=emu.client_id,
        client_secret=emu.client_secret,
        refresh_token=refresh,
        api_url=emu.url,
        token_store_path=str(tmp_path / "tokens.json"),
    )
    # team_id in a second file: later config files win, as in the tap.
    team = write_config(tmp_path, team_id=emu.workspace.primary_team.id)
    result = cli("check", "--config", config, "--config", team)
    assert result.exit_code == 0, result.output
    rows = table(result.stdout)
    assert set(rows) == STREAMS
    assert all(row[1:3] == ["yes", "yes"] for row in rows.values()), rows
    assert "Plan:       Enterprise Grid (enterprise)" in result.stdout
    assert "Edition:    enterprise (detected)" in result.stdout
    assert "org-level token: yes" in result.stdout
    assert "All 8 selected streams will run." in result.stdout


def test_check_errors_are_one_line(emu: SlackEmulator, tmp_path: Path) -> None:
    empty = write_config(tmp_path, api_url=emu.url)
    error = one_line_error(cli("check", "--config", empty))
    assert "No credentials" in error
    revoked = write_config(
        tmp_path,
        client_id=emu.client_id,
        client_secret=emu.client_secret,
        refresh_token="xoxe-1-not-issued",
        api_url=emu.url,
        token_store_path=str(tmp_path / "tokens.json"),
    )
    error = one_line_error(cli("check", "--config", revoked))
    assert "invalid_refresh_token" in error
    assert ERROR_POLICY["invalid_refresh_token"].fix in error
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert "not valid JSON" in one_line_error(cli("check", "--config", str(broken)))


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
