"""The HTTP session every Slack request goes through (``tap_slack_snow.slack.http``):
redirects are never followed, so tokens never leave ``api_url``'s host, and the whole
request is bounded by ``request_timeout``, streamed downloads included.

Black-box: the tap runs as a real process against a tiny local server
(``tests/hostile.py``) that answers the way Slack never does.
"""

from __future__ import annotations

import gzip
import json
import typing as t
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_emulator import SlackEmulator
from tests._support import failure_line, oauth_config, run_tap, static_config
from tests.hostile import HostileServer, redirect, slack_ok, trickle


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
