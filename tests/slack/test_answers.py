"""Reading one Slack answer (``tap_slack_snow.slack.answers``): a bare HTTP error says what
it is about (401 and 403 the token, 404 ``api_url``).

Black-box: the tap runs as a real process against ``tests/hostile.py``.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest

from tests._support import failure_line, run_tap, static_config
from tests.hostile import HostileServer, answer, status_only


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


@pytest.mark.parametrize("location", ["http://[bad", "http://[::1/api\x1b[31m"])
def test_a_redirect_to_a_location_that_is_no_url_is_the_same_one_line(
    tmp_path: Path, location: str
) -> None:
    def moved(handler: t.Any) -> None:
        answer(handler, 302, b"", "text/plain", headers=[("Location", location)])

    with HostileServer(routes={"auth.test": moved}) as server:
        line = failure_line(run_tap(tmp_path, config=static_config(server.url, "xoxp-moved-1")))
    assert "HTTP 302, a redirect to 'http://[" in line and "(not a valid URL)" in line
    assert "api_url" in line and "not followed" in line
    assert "\x1b" not in line
