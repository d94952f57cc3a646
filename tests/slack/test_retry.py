"""Fast unit tests of the retry policy, the error table and the token provider, through their
injected sleep and clock (the provider talks to the emulator over real HTTP)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import requests

from tap_slack_snow.auth import (
    REFRESH_MARGIN_SECONDS,
    RotatingTokenProvider,
    StoredTokens,
    open_store,
)
from tap_slack_snow.errors import TapSlackError
from tap_slack_snow.slack.client import SlackCaller
from tap_slack_snow.slack.errors import (
    ERROR_POLICY,
    Action,
    EndOfDataError,
    RateLimitedError,
    SlackAPIError,
    StreamUnavailableError,
    TokenExpiredError,
    TransientError,
    error_for_code,
)
from tap_slack_snow.slack.retry import CallStats, RetryPolicy
from tap_slack_snow_emulator import SlackEmulator

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


@pytest.mark.parametrize("code", sorted(ERROR_POLICY))
def test_every_row_of_the_error_table_raises_what_its_action_says(code: str) -> None:
    expected = {
        Action.RETRY: TransientError,
        Action.REFRESH: TokenExpiredError,
        Action.UNAVAILABLE: StreamUnavailableError,
        Action.END_OF_DATA: EndOfDataError,
        Action.FAIL: SlackAPIError,
    }[ERROR_POLICY[code].action]
    error = error_for_code(code, "some.method", {"needed": "admin"})
    assert type(error) is expected
    if expected is not EndOfDataError:
        assert code in str(error)


def test_unknown_codes_fail_with_the_code() -> None:
    error = error_for_code("brand_new_code", "users.list", {})
    assert isinstance(error, SlackAPIError)
    assert "brand_new_code" in str(error)


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_provider_reuses_until_the_margin_then_rotates(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    clock = FakeClock(1_750_000_000.0)
    refresh_token = emulator.issue_refresh_token()
    store = open_store(
        {
            "client_id": emulator.client_id,
            "client_secret": emulator.client_secret,
            "refresh_token": refresh_token,
            "token_store_path": str(tmp_path / "tokens.json"),
        }
    )

    def load() -> StoredTokens | None:
        content = store.load()
        return StoredTokens.from_content(content, "test") if content else None

    with requests.Session() as http:
        caller = SlackCaller(
            api_url=emulator.url,
            http=http,
            retry=policy([]),
            timeout=10,
            clock=clock,
        )
        provider = RotatingTokenProvider(
            client_id=emulator.client_id,
            client_secret=emulator.client_secret,
            refresh_token=refresh_token,
            store=store,
            caller=caller,
            logger=LOGGER,
            clock=clock,
        )
        first = provider.current()
        stored = load()
        assert stored is not None
        assert stored.expires_at is not None
        assert provider.refreshes == 1

        clock.now = stored.expires_at - REFRESH_MARGIN_SECONDS - 1
        assert provider.current() == first
        assert provider.refreshes == 1

        clock.now += 2  # now inside the margin: rotate, and persist the new chain
        second = provider.current()
        assert second != first
        assert provider.refreshes == 2
        again = load()
        assert again is not None
        assert again.access_token == second
        assert again.refresh_token != stored.refresh_token
