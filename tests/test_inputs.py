"""Hostile answers and user mistakes: one clear line, the right exit code, nothing leaked.

Black-box where possible: the tap (and ``tap-slack-snow-auth``) run as real processes
against the project's emulator, or against a tiny local server (``tests/hostile.py``) that
answers the way Slack never does: redirects, trickling bodies, 429s without
``Retry-After``, bare HTTP errors.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
import typing as t
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner

from tap_slack_snow.cli import main as cli_main
from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_emulator import ENTERPRISE_USER_SCOPES, Fault, SlackEmulator, WorkspaceConfig
from tests._support import SyncResult, oauth_config, parse_messages, run_cli
from tests.hostile import (
    HostileServer,
    redirect,
    slack_ok,
    status_only,
    trickle,
)

AUTH_CLI = str(Path(sys.executable).parent / "tap-slack-snow-auth")
ENV_PREFIX = "TAP_SLACK_SNOW_"


def run_tap(
    tmp_path: Path,
    *,
    config: dict[str, t.Any] | str | None = None,
    state: dict[str, t.Any] | str | None = None,
    catalog: dict[str, t.Any] | str | None = None,
    args: t.Sequence[str] = (),
    env: dict[str, str] | None = None,
    timeout: float = 90,
) -> SyncResult:
    """The tap as a process; a str is written to the file as is (for broken files)."""
    command = [sys.executable, "-m", "tap_slack_snow", *args]
    for flag, value in (("--config", config), ("--state", state), ("--catalog", catalog)):
        if value is None:
            continue
        path = tmp_path / f"{flag[2:]}-{os.urandom(3).hex()}.json"
        path.write_text(value if isinstance(value, str) else json.dumps(value))
        command += [flag, str(path)]
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    completed = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**clean_env, **(env or {})},
        check=False,
        cwd=tmp_path,  # no .env of the repository is picked up
    )
    return SyncResult(
        parse_messages(completed.stdout),
        exit_code=completed.returncode,
        stderr=completed.stderr,
        stdout=completed.stdout,
    )


def failure_line(result: SyncResult, *secrets: str | None) -> str:
    """Exit 1, no traceback, no secret, nothing emitted: return the last stderr line."""
    assert result.exit_code == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    for secret in secrets:
        if secret:
            assert secret not in result.stderr
            assert secret not in result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, "no error line"
    return lines[-1]


def warning_lines(result: SyncResult) -> list[str]:
    return [line for line in result.stderr.splitlines() if "WARNING" in line]


def static_config(url: str, token: str, **extra: t.Any) -> dict[str, t.Any]:
    return {
        "access_token": token,
        "api_url": url,
        "retry_initial_wait": 0.01,
        "retry_max_attempts": 2,
        **extra,
    }


# --- item 4: redirects are never followed, tokens never leave api_url's host ----------------


@pytest.fixture
def catcher() -> t.Iterator[HostileServer]:
    """Where a redirect points: it must never receive anything."""
    with HostileServer(routes={"*": slack_ok({})}) as server:
        yield server


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_of_the_token_refresh_is_not_followed(
    emulator: SlackEmulator, catcher: HostileServer, tmp_path: Path, status: int
) -> None:
    config = oauth_config(emulator, tmp_path)
    with HostileServer(
        routes={"*": redirect(status, f"http://localhost:{catcher.port}/api")}
    ) as server:
        config["api_url"] = server.url
        line = failure_line(
            run_tap(tmp_path, config=config), config["client_secret"], config["refresh_token"]
        )
        assert [seen.path for seen in server.seen] == ["/api/oauth.v2.access"]
    assert catcher.seen == []  # neither the refresh token nor the client secret went there
    assert f"HTTP {status}" in line
    assert f"localhost:{catcher.port}" in line
    assert "api_url" in line


def test_a_redirect_of_an_api_call_is_not_followed(
    emulator: SlackEmulator, catcher: HostileServer, tmp_path: Path
) -> None:
    token = emulator.issue_access_token()
    with HostileServer(
        routes={"*": redirect(307, f"http://localhost:{catcher.port}/api")}
    ) as server:
        line = failure_line(run_tap(tmp_path, config=static_config(server.url, token)), token)
    assert catcher.seen == []
    assert "HTTP 307" in line and "auth.test" in line and "api_url" in line


# --- item 10: the whole request is bounded, streamed downloads included ---------------------


def test_a_trickling_answer_hits_request_timeout(tmp_path: Path) -> None:
    body = json.dumps({"ok": True, "team_id": "T1", "user_id": "U1", "pad": "x" * 500}).encode()
    with HostileServer(routes={"auth.test": trickle(body, every=0.5)}) as server:
        config = static_config(server.url, "xoxp-trickle-token", request_timeout=2)
        config["retry_max_attempts"] = 1
        # Without a bound on the whole request this takes 4 minutes (and the test times out).
        line = failure_line(run_tap(tmp_path, config=config, timeout=60))
    assert "auth.test" in line and "timed out" in line


def test_a_trickling_analytics_download_hits_request_timeout(tmp_path: Path) -> None:
    yesterday = (datetime.now(tz=timezone.utc) - timedelta(days=2)).date().isoformat()
    gz = gzip.compress(b"".join(b'{"user_id":"U%05d","is_active":true}\n' % i for i in range(400)))
    identity = {
        "team_id": "T1",
        "user_id": "U1",
        "enterprise_id": "E1",
        "is_enterprise_install": True,
    }
    with HostileServer(
        routes={
            "auth.test": slack_ok(identity, scopes="admin.analytics:read"),
            "auth.teams.list": slack_ok({"teams": [{"id": "T1", "name": "One"}]}),
            "admin.analytics.getFile": trickle(gz, "application/gzip", every=0.5),
        }
    ) as server:
        config = static_config(
            server.url, "xoxp-trickle-token", request_timeout=2, start_date=yesterday
        )
        config["retry_max_attempts"] = 1
        line = failure_line(
            run_tap(tmp_path, config=config, catalog=select_only("member_analytics"), timeout=60)
        )
    assert "admin.analytics.getFile" in line and "timed out" in line


# --- item 11: rate limits are logged and bounded ----------------------------------------------


def test_endless_429s_give_up_after_max_rate_limit_wait(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    token = emulator.issue_access_token()
    emulator.add_fault(Fault("users.list", "http_429", times=None, retry_after=1))
    config = static_config(emulator.url, token, max_rate_limit_wait=3)
    result = run_tap(tmp_path, config=config, catalog=select_only("users"), timeout=60)
    line = failure_line(result, token)
    assert "users.list" in line and "max_rate_limit_wait" in line
    info = [ln for ln in result.stderr.splitlines() if "INFO" in ln and "rate limit" in ln.lower()]
    assert info, "the waits were silent"
    assert "users.list" in info[0]


def test_a_429_without_retry_after_is_not_a_silent_30_s_wait(tmp_path: Path) -> None:
    with HostileServer(
        routes={
            "auth.test": slack_ok({"team_id": "T1", "user_id": "U1"}, scopes="users:read"),
            "users.list": status_only(429),
        }
    ) as server:
        config = static_config(server.url, "xoxp-429-token", max_rate_limit_wait=5)
        result = run_tap(tmp_path, config=config, catalog=select_only("users"), timeout=60)
    line = failure_line(result)
    assert "users.list" in line and "Retry-After" in line and "max_rate_limit_wait" in line


def test_max_rate_limit_wait_is_a_documented_setting(tmp_path: Path) -> None:
    about = run_tap(tmp_path, args=["--about", "--format", "json"])
    setting = json.loads(about.stdout)["settings"]["properties"]["max_rate_limit_wait"]
    assert "number" in setting["type"]
    assert setting["default"] >= 600  # generous: rate limits are Slack's normal flow control
    root = Path(__file__).resolve().parents[1]
    for doc in ("README.md", "meltano.yml", ".env.example"):
        assert "max_rate_limit_wait".upper() in (root / doc).read_text().upper(), doc


# --- item 12: https to a plain-HTTP server ---------------------------------------------------


def test_https_to_a_plain_http_server_fails_fast_naming_tls(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    token = emulator.issue_access_token()
    config = static_config(f"https://127.0.0.1:{emulator.port}/api", token)
    config["retry_max_attempts"] = 8
    result = run_tap(tmp_path, config=config)
    line = failure_line(result, token)
    assert "TLS" in line and "http://" in line
    assert "retrying" not in result.stderr


# --- item 9: HTTP 401/403 are about the token, not api_url ------------------------------------


@pytest.mark.parametrize("status", [401, 403])
def test_http_401_and_403_are_not_blamed_on_api_url(tmp_path: Path, status: int) -> None:
    with HostileServer(routes={"auth.test": status_only(status)}) as server:
        line = failure_line(run_tap(tmp_path, config=static_config(server.url, "xoxp-denied-1")))
    assert f"HTTP {status}" in line
    assert "api_url" not in line
    assert "token" in line


def test_http_404_still_points_at_api_url(tmp_path: Path) -> None:
    with HostileServer(routes={"auth.test": status_only(404)}) as server:
        line = failure_line(run_tap(tmp_path, config=static_config(server.url, "xoxp-lost-1")))
    assert "HTTP 404" in line and "api_url" in line


# --- item 9: --config=ENV parses every setting type ---------------------------------------------


def env_settings(emu: SlackEmulator, **settings: str) -> dict[str, str]:
    return {
        ENV_PREFIX + "ACCESS_TOKEN": emu.issue_access_token(),
        ENV_PREFIX + "API_URL": emu.url,
        **{ENV_PREFIX + name.upper(): value for name, value in settings.items()},
    }


def test_config_env_accepts_numbers_booleans_and_integers(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    env = env_settings(
        emulator,
        retry_initial_wait="0.5",
        page_size="100",
        emit_activate_version_messages="false",
        max_rate_limit_wait="60.5",
    )
    result = run_tap(tmp_path, args=["--config", "ENV"], catalog=select_only("users"), env=env)
    assert result.exit_code == 0, result.stderr[-3000:]
    assert result.count("users") == emulator.workspace.user_count
    assert emulator.calls["users.list"] == 3  # 250 members, pages of 100


@pytest.mark.parametrize(
    ("setting", "value"),
    [("page_size", "abc"), ("retry_initial_wait", "soon"), ("request_timeout", "1.5x")],
)
def test_config_env_with_a_bad_number_gives_one_line(
    emulator: SlackEmulator, tmp_path: Path, setting: str, value: str
) -> None:
    env = env_settings(emulator, **{setting: value})
    token = env[ENV_PREFIX + "ACCESS_TOKEN"]
    line = failure_line(run_tap(tmp_path, args=["--config", "ENV"], env=env), token)
    assert ENV_PREFIX + setting.upper() in line and repr(value) in line


# --- item 7: a user's mistake is one line, exit 1, nothing written wrong --------------------------

ACCESS_LOGS = select_only("access_logs")


def bookmark_state(value: t.Any) -> dict[str, t.Any]:
    return {
        "bookmarks": {
            "access_logs": {"replication_key": "date_last", "replication_key_value": value}
        }
    }


STATE_CASES: dict[str, tuple[str | dict[str, t.Any], tuple[str, ...]]] = {
    "empty": ("", ("is empty",)),
    "not-json": ("{not json", ("not valid JSON",)),
    "a-list": ("[1, 2]", ("JSON object",)),
    "bookmarks-a-list": ({"bookmarks": []}, ("bookmarks",)),
    "bookmark-a-string": ({"bookmarks": {"access_logs": "yesterday"}}, ("access_logs",)),
    "bookmark-not-a-date": (bookmark_state("not-a-date"), ("access_logs", "'not-a-date'")),
    "bookmark-a-number": (bookmark_state(12345), ("access_logs", "12345")),
}


@pytest.mark.parametrize("case", list(STATE_CASES))
def test_a_bad_state_file_gives_one_line(
    emulator: SlackEmulator, tmp_path: Path, case: str
) -> None:
    content, expected = STATE_CASES[case]
    token = emulator.issue_access_token()
    result = run_tap(
        tmp_path, config=static_config(emulator.url, token), state=content, catalog=ACCESS_LOGS
    )
    line = failure_line(result, token)
    assert "state file" in line and str(tmp_path) in line, line
    for text in expected:
        assert text in line, line
    assert not [m for m in result.messages if m["type"] in {"RECORD", "STATE"}]
    assert emulator.calls["auth.test"] == 0  # refused before any call


def test_a_bad_start_date_gives_one_line_in_the_tap_and_in_check(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    token = emulator.issue_access_token()
    config = static_config(emulator.url, token, start_date="yesterday")
    line = failure_line(run_tap(tmp_path, config=config, catalog=ACCESS_LOGS), token)
    assert "start_date" in line and "'yesterday'" in line and "2026-01-01" in line
    path = tmp_path / "check-config.json"
    path.write_text(json.dumps(config))
    checked = subprocess.run(
        [AUTH_CLI, "check", "--config", str(path)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 1
    assert "Traceback" not in checked.stderr
    assert "start_date" in checked.stderr.strip().splitlines()[-1]
    assert emulator.calls["auth.test"] == 0


@pytest.mark.parametrize(
    ("what", "content", "expected"),
    [
        ("config", "{not json", "not valid JSON"),
        ("config", "[1, 2]", "JSON object"),
        ("catalog", "{not json", "not valid JSON"),
        ("catalog", '{"streams": "users"}', "streams"),
        ("catalog", '{"streams": [{"stream": "users"}]}', "tap_stream_id"),
    ],
)
def test_a_bad_config_or_catalog_file_gives_one_line(
    emulator: SlackEmulator, tmp_path: Path, what: str, content: str, expected: str
) -> None:
    token = emulator.issue_access_token()
    files: dict[str, t.Any] = {"config": static_config(emulator.url, token)}
    files[what] = content
    line = failure_line(run_tap(tmp_path, **files), token)
    assert f"{what} file" in line and str(tmp_path) in line and expected in line, line


@pytest.mark.parametrize("api_url", ["slack.com/api", "ftp://slack.com/api", "https:///api"])
def test_an_api_url_that_is_not_http_gives_one_line(tmp_path: Path, api_url: str) -> None:
    config = static_config(api_url, "xoxp-never-sent-1")
    line = failure_line(run_tap(tmp_path, config=config), "xoxp-never-sent-1")
    assert "api_url" in line and repr(api_url) in line and "https://slack.com/api" in line


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


# --- item 8: warnings that were missing ---------------------------------------------------------


@pytest.fixture
def logs_emulator(emulator_factory: t.Callable[..., SlackEmulator]) -> SlackEmulator:
    return emulator_factory(WorkspaceConfig(seed=5, users=40, access_logs=300, plan="plus"))


def test_a_bookmark_in_the_future_is_warned_about(
    logs_emulator: SlackEmulator, tmp_path: Path
) -> None:
    token = logs_emulator.issue_access_token()
    state = bookmark_state("2099-01-01T00:00:00+00:00")
    result = run_tap(
        tmp_path, config=static_config(logs_emulator.url, token), state=state, catalog=ACCESS_LOGS
    )
    assert result.exit_code == 0, result.stderr[-3000:]
    warned = [line for line in warning_lines(result) if "future" in line]
    assert warned and "access_logs" in warned[0] and "2099-01-01" in warned[0]


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


def test_meltanos_wrapped_state_is_accepted(logs_emulator: SlackEmulator, tmp_path: Path) -> None:
    token = logs_emulator.issue_access_token()
    config = static_config(logs_emulator.url, token, start_date="2020-01-01T00:00:00Z")
    first = run_tap(tmp_path, config=config, catalog=ACCESS_LOGS)
    assert first.exit_code == 0 and first.state is not None
    wrapped = {"completed": {"singer_state": first.state}, "partial": {}}
    for state in ({"singer_state": first.state}, wrapped):
        again = run_tap(tmp_path, config=config, state=state, catalog=ACCESS_LOGS)
        assert again.exit_code == 0, again.stderr[-3000:]
        assert again.count("access_logs") < first.count("access_logs")  # the bookmark was used
        assert again.state is not None and "singer_state" not in again.state
        assert again.state["bookmarks"] == first.state["bookmarks"]
        assert any("Meltano" in line for line in again.stderr.splitlines())


def test_a_team_id_that_is_not_the_tokens_workspace_is_warned_and_not_stamped(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    token = emulator.issue_access_token()
    config = static_config(emulator.url, token, team_id="T0NOTMINE")
    result = run_tap(tmp_path, config=config, catalog=select_only("billing"))
    assert result.exit_code == 0, result.stderr[-3000:]
    warned = [line for line in warning_lines(result) if "T0NOTMINE" in line]
    assert warned and "team_id" in warned[0]
    (billing,) = result.records["billing"]
    assert billing["team_id"] != "T0NOTMINE"
    assert billing["team_id"] == emulator.workspace.team_ids[0]


# --- item 13: the set-up CLI ------------------------------------------------------------------


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


# --- item 15: the sync's scope report knows the Free plan --------------------------------------


def test_the_scope_report_on_free_says_access_logs_is_skipped(
    emulator_factory: t.Callable[..., SlackEmulator], tmp_path: Path
) -> None:
    emu = emulator_factory(WorkspaceConfig(seed=7, users=30, plan="free", access_logs=20))
    config = oauth_config(emu, tmp_path)
    result = run_cli(config, tmp_path, catalog=select_only("users", "access_logs"))
    assert result.exit_code == 0, result.stderr[-3000:]
    report = [ln for ln in result.stderr.splitlines() if "access_logs" in ln and "admin" in ln]
    assert report, result.stderr[-3000:]
    assert "paid_only" in report[0] and " runs" not in report[0]
    assert emu.calls["team.billing.info"] == 1
