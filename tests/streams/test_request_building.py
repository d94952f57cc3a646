"""How the streams build Slack requests (``tap_slack_snow.streams``): URL, parameters, page
sizes, no token outside the header (no HTTP)."""

from __future__ import annotations

from singer_sdk.helpers.types import Context
from singer_sdk.streams.rest import PageContext

from tap_slack_snow.streams.base import SlackStream
from tap_slack_snow.tap import TapSlackSnow

BASE = {"access_token": "xoxp-test-token-value", "api_url": "http://127.0.0.1:9/api/"}


def stream(name: str, **config: object) -> SlackStream:
    tap = TapSlackSnow(config={**BASE, **config}, setup_mapper=False)
    found = tap.streams[name]
    assert isinstance(found, SlackStream)
    return found


def request_for(s: SlackStream, token: str | None = None, context: Context | None = None):
    return s.get_http_request(page=PageContext(stream_context=context, next_page_token=token))


def test_url_is_api_url_plus_method_without_double_slash() -> None:
    req = request_for(stream("users"))
    assert req.url == "http://127.0.0.1:9/api/users.list"
    assert req.method == "GET"


def test_users_first_page_asks_for_max_page_and_no_cursor() -> None:
    req = request_for(stream("users"))
    assert req.params == {"limit": 1000, "include_locale": "true"}


def test_users_next_page_sends_cursor_and_team_id_when_set() -> None:
    req = request_for(stream("users", team_id="T123", page_size=200), token="dXNlcjpVMEc5V0ZYTlo=")
    assert req.params == {
        "limit": 200,
        "cursor": "dXNlcjpVMEc5V0ZYTlo=",
        "team_id": "T123",
        "include_locale": "true",
    }


def test_page_size_is_capped_at_method_maximum() -> None:
    s = stream("users", page_size=1000)
    assert s.page_size == 1000
    assert stream("users", page_size=5).page_size == 5


def test_team_info_names_workspace_team() -> None:
    assert request_for(stream("team")).params == {}
    assert request_for(stream("team", team_id="T9")).params == {"team": "T9"}


def test_no_token_in_url_params_or_body() -> None:
    for name in ("users", "team", "billing"):
        req = request_for(stream(name))
        assert "token" not in req.params
        assert not req.data or "token" not in req.data
