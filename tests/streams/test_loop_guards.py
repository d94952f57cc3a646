"""No loop runs forever: answers that would page, or wait, without end end with one line.

Each case is one hostile server (``tests/hostile.py``) over real HTTP and the tap as a
process: a cursor cycle, empty pages with ever new cursors, the same cursor forever, classic
``paging`` that keeps growing or names the same page, and 429s whose Retry-After is no wait.
Before these guards each of them ran until killed (or ended in the SDK's traceback).
"""

from __future__ import annotations

import json
import math
import typing as t
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tap_slack_snow.slack.answers import MIN_RETRY_AFTER_SECONDS
from tap_slack_snow.streams.fetch import MAX_EMPTY_PAGES_IN_A_ROW
from tap_slack_snow_devkit.catalogs import select_only
from tests._support import SyncResult, failure_line, run_tap, static_config
from tests.hostile import HostileServer, answer, slack_ok

WHO = slack_ok(
    {"team_id": "T1", "user_id": "U1", "team": "Hostile"}, scopes="users:read,admin,team:read"
)


def member(number: int) -> dict[str, t.Any]:
    return {"id": f"U{number:06d}", "team_id": "T1", "name": f"member{number}", "deleted": False}


def query(handler: t.Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(handler.path).query).items()}


def users_pages(next_cursor: t.Callable[[str], str], per_page: int = 2):
    """users.list answering ``per_page`` members for every cursor, and ``next_cursor(cursor)``."""

    def handle(handler: t.Any) -> None:
        cursor = query(handler).get("cursor", "")
        start = len(cursor) * per_page
        body = {
            "ok": True,
            "members": [member(start + n) for n in range(per_page)],
            "response_metadata": {"next_cursor": next_cursor(cursor)},
        }
        answer(handler, 200, json.dumps(body).encode())

    return handle


def run_users(server: HostileServer, tmp_path: Path, **extra: t.Any) -> SyncResult:
    config = static_config(server.url, "xoxp-loop-token", **extra)
    return run_tap(tmp_path, config=config, catalog=select_only("users"), timeout=60)


def users_list_calls(server: HostileServer) -> int:
    return sum(1 for seen in server.seen if "users.list" in seen.path)


def test_a_cursor_cycle_ends_with_one_line(tmp_path: Path) -> None:
    """A, B, A, B...: the SDK only catches the same cursor twice in a row."""
    cycle = {"": "A", "A": "B", "B": "A"}
    with HostileServer(
        routes={"auth.test": WHO, "users.list": users_pages(lambda c: cycle[c])}
    ) as server:
        result = run_users(server, tmp_path)
    line = failure_line(result, "xoxp-loop-token")
    assert "users.list" in line and "already returned" in line
    assert users_list_calls(server) == 3


def test_the_same_cursor_forever_ends_with_one_line_not_a_traceback(tmp_path: Path) -> None:
    with HostileServer(
        routes={"auth.test": WHO, "users.list": users_pages(lambda _cursor: "SAME")}
    ) as server:
        result = run_users(server, tmp_path)
    line = failure_line(result)
    assert "users.list" in line and "already returned" in line
    assert users_list_calls(server) == 2


def test_empty_pages_with_new_cursors_forever_end_with_one_line(tmp_path: Path) -> None:
    def empty_forever(handler: t.Any) -> None:
        cursor = query(handler).get("cursor", "")
        body = {"ok": True, "members": [], "response_metadata": {"next_cursor": cursor + "x"}}
        answer(handler, 200, json.dumps(body).encode())

    with HostileServer(routes={"auth.test": WHO, "users.list": empty_forever}) as server:
        result = run_users(server, tmp_path)
    line = failure_line(result)
    assert "users.list" in line and "empty pages in a row" in line
    assert users_list_calls(server) == MAX_EMPTY_PAGES_IN_A_ROW + 1


def test_some_empty_pages_between_members_are_still_followed(tmp_path: Path) -> None:
    """Slack may send empty pages while more remain: a few in a row are not a loop."""
    pages = {"": ([], "a"), "a": ([], "b"), "b": ([member(1)], "c"), "c": ([member(2)], "")}

    def handle(handler: t.Any) -> None:
        members, cursor = pages[query(handler).get("cursor", "")]
        body = {"ok": True, "members": members, "response_metadata": {"next_cursor": cursor}}
        answer(handler, 200, json.dumps(body).encode())

    with HostileServer(routes={"auth.test": WHO, "users.list": handle}) as server:
        result = run_users(server, tmp_path)
    assert result.exit_code == 0, result.stderr[-2000:]
    assert [record["id"] for record in result.records["users"]] == ["U000001", "U000002"]


def logs_answer(entries: list[dict[str, t.Any]], page: int, pages: int) -> bytes:
    paging = {"count": 2, "total": pages * 2, "page": page, "pages": pages}
    return json.dumps({"ok": True, "logs": entries, "paging": paging}).encode()


def log_entry(number: int) -> dict[str, t.Any]:
    return {
        "service_id": f"S{number}",
        "service_type": "Custom",
        "user_id": "U1",
        "user_name": "admin",
        "date": str(1_780_000_000 - number),
        "change_type": "added",
        "scope": "incoming-webhook",
    }


def run_integration_logs(server: HostileServer, tmp_path: Path) -> SyncResult:
    config = static_config(server.url, "xoxp-loop-token", start_date="2020-01-01T00:00:00Z")
    return run_tap(tmp_path, config=config, catalog=select_only("integration_logs"), timeout=60)


def test_paging_that_keeps_announcing_more_pages_ends_with_one_line(tmp_path: Path) -> None:
    def growing(handler: t.Any) -> None:
        page = int(query(handler).get("page", "1"))
        entries = [log_entry(2 * page), log_entry(2 * page + 1)]
        answer(handler, 200, logs_answer(entries, page, pages=page + 1))

    with HostileServer(routes={"auth.test": WHO, "team.integrationLogs": growing}) as server:
        result = run_integration_logs(server, tmp_path)
    line = failure_line(result)
    assert "team.integrationLogs" in line and "kept announcing more pages" in line
    assert sum(1 for seen in server.seen if "integrationLogs" in seen.path) < 20


def test_paging_that_names_the_same_page_again_ends_with_one_line(tmp_path: Path) -> None:
    """``paging.page`` 1 on every answer: the next page asked is always 2."""

    def stuck(handler: t.Any) -> None:
        answer(handler, 200, logs_answer([log_entry(1), log_entry(2)], page=1, pages=5))

    with HostileServer(routes={"auth.test": WHO, "team.integrationLogs": stuck}) as server:
        result = run_integration_logs(server, tmp_path)
    line = failure_line(result)
    assert "team.integrationLogs" in line and "same page again" in line


@pytest.mark.parametrize("retry_after", ["0", "-5", "NaN", "0.001", "soon", None])
def test_a_429_whose_retry_after_is_no_wait_backs_off_and_ends(
    tmp_path: Path, retry_after: str | None
) -> None:
    """Each 429 counts as Slack's minimum wait, doubling while it repeats, so the waits fill
    max_rate_limit_wait after a few requests instead of thousands in a tight loop."""

    def limited(handler: t.Any) -> None:
        headers = [("Retry-After", retry_after)] if retry_after is not None else []
        answer(handler, 429, b'{"ok":false,"error":"ratelimited"}', headers=headers)

    with HostileServer(routes={"auth.test": WHO, "users.list": limited}) as server:
        result = run_users(server, tmp_path, max_rate_limit_wait=6)
    line = failure_line(result)
    assert "users.list" in line and "max_rate_limit_wait" in line
    # 1 + 2 (= 3 s waited) fit in 6 s, the next 4 s does not: three requests.
    waits = [MIN_RETRY_AFTER_SECONDS * 2**n for n in range(10)]
    expected = next(n for n in range(1, 10) if sum(waits[:n]) > 6)
    assert users_list_calls(server) == expected
    assert math.isclose(sum(waits[: expected - 1]), 3.0)
