"""The token providers (``tap_slack_snow.auth.providers``): a rotating refresh token across
runs (reused from the store, rotated from it, reset by a newly configured one, spent once
by concurrent runs, refreshed mid-pagination, a dead one named with the fix), a static
access token that cannot refresh, and the provider's reuse margin through an injected clock."""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import requests

from tap_slack_snow.auth import (
    REFRESH_MARGIN_SECONDS,
    RotatingTokenProvider,
    StoredTokens,
    open_store,
)
from tap_slack_snow.slack.client import SlackClient
from tap_slack_snow.slack.retry import RetryPolicy
from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_emulator import Fault, SlackEmulator, WorkspaceConfig
from tests._support import oauth_config, run_cli, stored_chain, sync

CORE = select_only("users", "team", "billing")


def test_second_run_reuses_store_and_third_rotates_from_store(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    config = oauth_config(emulator, tmp_path)
    first = sync(config, catalog=CORE)
    assert first.exit_code == 0 and emulator.refreshes == 1
    store = Path(config["token_store_path"])
    assert stat.S_IMODE(os.stat(store).st_mode) == 0o600
    saved = stored_chain(config)
    assert saved["refresh_token"] != config["refresh_token"]

    second = sync(config, catalog=CORE)  # same config: its refresh token is already spent
    assert second.exit_code == 0 and emulator.refreshes == 1  # fresh access token reused

    emulator.expire_access_tokens()
    emulator.refresh_grace_seconds = 0
    third = sync(config, catalog=CORE)
    assert third.exit_code == 0
    assert emulator.refreshes == 2  # rotated with the STORED refresh token
    assert stored_chain(config)["refresh_token"] != saved["refresh_token"]
    assert third.count("users") == first.count("users")


def test_new_configured_refresh_token_discards_old_chain(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    config = oauth_config(emulator, tmp_path)
    assert sync(config, catalog=CORE).exit_code == 0
    old_chain = stored_chain(config)
    config["refresh_token"] = emulator.issue_refresh_token()  # the user re-authorised
    assert sync(config, catalog=CORE).exit_code == 0
    new_chain = stored_chain(config)
    assert emulator.refreshes == 2
    assert new_chain["origin"] != old_chain["origin"]


def test_dead_refresh_token_fails_with_fix(emulator: SlackEmulator, tmp_path: Path) -> None:
    config = oauth_config(emulator, tmp_path)
    emulator.refresh_grace_seconds = 0
    assert sync(config, catalog=CORE).exit_code == 0
    # lose the store: the configured token was spent by the first run
    config["token_store_path"] = str(tmp_path / "elsewhere.json")
    result = run_cli(config, tmp_path)
    assert result.exit_code == 1
    assert "invalid_refresh_token" in result.stderr
    assert "token_store_path" in result.stderr and "re-authorise" in result.stderr
    assert "Traceback" not in result.stderr


def test_concurrent_runs_spend_the_refresh_token_once(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    config = oauth_config(emulator, tmp_path)
    emulator.refresh_grace_seconds = 0
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tap_slack_snow", "--config", str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [o[1][-2000:] for o in outputs]
    assert emulator.refreshes == 1


def test_token_expired_mid_pagination_refreshes_and_completes(
    emulator_factory, tmp_path: Path
) -> None:
    emu = emulator_factory(WorkspaceConfig(seed=2, users=120))
    config = oauth_config(emu, tmp_path, page_size=20)
    emu.add_fault(Fault(method="users.list", kind="token_expired", on_call=3))
    result = sync(config, catalog=select_only("users"))
    assert result.exit_code == 0
    ids = [u["id"] for u in result.records["users"]]
    assert len(ids) == len(set(ids)) == emu.workspace.user_count
    assert emu.refreshes == 2


def test_static_access_token_works_and_cannot_refresh(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    token = emulator.issue_access_token()
    config = {"access_token": token, "api_url": emulator.url, "scim_url": emulator.scim_url}
    assert (
        sync(config, catalog=select_only("users")).count("users") == emulator.workspace.user_count
    )
    emulator.add_fault(Fault(method="users.list", kind="token_expired", on_call=1, times=5))
    result = run_cli(config, tmp_path)
    assert result.exit_code == 1
    assert "refresh_token" in result.stderr.splitlines()[-1]


LOGGER = logging.getLogger("test-policy-units")


def policy(sleeps: list[float], attempts: int = 4) -> RetryPolicy:
    return RetryPolicy(max_attempts=attempts, initial_wait=0.5, logger=LOGGER, sleep=sleeps.append)


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
        client = SlackClient(
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
            client=client,
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
