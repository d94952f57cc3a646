"""The one retry policy (``tap_slack_snow.slack.retry``): unit tests through its injected sleep
(rate limits wait Retry-After without using the fault budget, faults back off then give up,
one rotation per call, an unreachable api_url fails at once), then the tap against the
emulator and ``tests/hostile.py``: 429s waited out and bounded by ``max_rate_limit_wait``,
tiers ridden, transient faults retried, persistent ones and TLS to a plain-HTTP server in one
line."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest
import requests

from tap_slack_snow.errors import TapSlackError
from tap_slack_snow.slack.errors import RateLimitedError, TokenExpiredError, TransientError
from tap_slack_snow.slack.retry import CallStats, RetryPolicy
from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_emulator import Fault, SlackEmulator, WorkspaceConfig
from tests._support import failure_line, oauth_config, run_cli, run_tap, static_config, sync
from tests.hostile import HostileServer, slack_ok, status_only

LOGGER = logging.getLogger("test-policy-units")


def policy(sleeps: list[float], attempts: int = 4) -> RetryPolicy:
    return RetryPolicy(max_attempts=attempts, initial_wait=0.5, logger=LOGGER, sleep=sleeps.append)


def failing(*errors: BaseException, result: str = "done"):
    """A send() raising ``errors`` in turn, then returning ``result``."""
    pending = list(errors)

    def send() -> str:
        if pending:
            raise pending.pop(0)
        return result

    return send


def test_rate_limits_wait_retry_after_and_never_use_the_fault_budget() -> None:
    sleeps: list[float] = []
    stats = CallStats()
    send = failing(*(RateLimitedError(2.5) for _ in range(6)))
    assert policy(sleeps, attempts=2).call("users.list", send, stats) == "done"
    assert sleeps == [2.5] * 6
    assert (stats.requests, stats.rate_limited, stats.retries) == (7, 6, 0)
    assert stats.rate_limit_wait_seconds == pytest.approx(15.0)


def test_faults_back_off_doubling_then_give_up_naming_the_method() -> None:
    sleeps: list[float] = []
    send = failing(*(TransientError("HTTP 503") for _ in range(10)))
    with pytest.raises(TapSlackError, match=r"users.list failed 4 times in a row"):
        policy(sleeps).call("users.list", send, CallStats())
    assert sleeps == [0.5, 1.0, 2.0]


def test_token_expired_rotates_once_per_call() -> None:
    rotations: list[int] = []
    send = failing(TokenExpiredError("expired"), TokenExpiredError("expired again"))
    with pytest.raises(TapSlackError, match="already rotated"):
        policy([]).call(
            "team.info", send, CallStats(), on_token_expired=lambda: rotations.append(1)
        )
    assert rotations == [1]


def test_unreachable_api_url_fails_at_once_before_slack_answered() -> None:
    sleeps: list[float] = []
    refused = requests.exceptions.ConnectionError("Connection refused")
    with pytest.raises(TapSlackError, match="cannot reach Slack at api_url http://x/api"):
        policy(sleeps).call("auth.test", failing(refused), CallStats(), api_url="http://x/api")
    assert sleeps == []


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
    root = Path(__file__).resolve().parents[2]
    for doc in ("docs/settings.md", "meltano.yml", ".env.example"):
        assert "max_rate_limit_wait".upper() in (root / doc).read_text().upper(), doc


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


def test_429_waits_retry_after_and_completes(emulator_factory, tmp_path: Path) -> None:
    emu = emulator_factory(WorkspaceConfig(seed=2, users=60))
    config = oauth_config(emu, tmp_path, page_size=20, retry_max_attempts=1)
    # more 429s than the fault budget allows: 429s must not use it up
    # without a scaled minute the emulator sends whole seconds, as Slack does
    emu.add_fault(Fault(method="users.list", kind="http_429", on_call=2, times=3, retry_after=1))
    started = time.monotonic()
    result = run_cli(config, tmp_path, env={"LOGLEVEL": "INFO"})
    elapsed = time.monotonic() - started
    assert result.exit_code == 0, result.stderr[-2000:]
    assert result.count("users") == emu.workspace.user_count
    assert elapsed >= 3 * 1.0
    assert emu.rate_limited["users.list"] == 3
    summary = [line for line in result.stderr.splitlines() if "Stream users done" in line]
    assert (
        summary and "3 rate-limited" in summary[0] and "3.0 s waiting on rate limits" in summary[0]
    )


def test_emulated_tiers_are_ridden_without_failing(emulator_factory, tmp_path: Path) -> None:
    # a 2 s window: even a busy machine asks 20 pages in it (a 0.5 s one was not always filled)
    emu = emulator_factory(WorkspaceConfig(seed=2, users=500), minute_seconds=2.0)
    config = oauth_config(emu, tmp_path, page_size=10)  # 50 pages on a 20/minute tier
    result = sync(config, catalog=select_only("users"))
    assert result.exit_code == 0
    assert result.count("users") == 500
    assert emu.rate_limited["users.list"] >= 1


def test_transient_faults_retry_with_backoff(emulator: SlackEmulator, tmp_path: Path) -> None:
    config = oauth_config(emulator, tmp_path, page_size=50)
    emulator.add_fault(Fault(method="users.list", kind="http_503", on_call=2, times=2))
    emulator.add_fault(Fault(method="users.list", kind="reset", on_call=5))
    result = sync(config, catalog=select_only("users"))
    assert result.exit_code == 0
    ids = [u["id"] for u in result.records["users"]]
    assert len(ids) == len(set(ids)) == emulator.workspace.user_count


def test_persistent_5xx_gives_one_clear_line(emulator: SlackEmulator, tmp_path: Path) -> None:
    config = oauth_config(emulator, tmp_path)
    emulator.add_fault(Fault(method="users.list", kind="http_500", on_call=1, times=100))
    result = run_cli(config, tmp_path)
    assert result.exit_code == 1
    last = result.stderr.strip().splitlines()[-1]
    assert "users.list failed 4 times in a row" in last and "HTTP 500" in last
    assert "Traceback" not in result.stderr


def test_unreachable_api_url_fails_fast_and_clearly(tmp_path: Path) -> None:
    config = {"access_token": "xoxp-1", "api_url": "http://127.0.0.1:9/api"}
    started = time.monotonic()
    result = run_cli(config, tmp_path)
    assert result.exit_code == 1
    assert time.monotonic() - started < 30
    last = result.stderr.strip().splitlines()[-1]
    assert "cannot reach Slack at api_url http://127.0.0.1:9/api" in last
    assert "Traceback" not in result.stderr
