"""SCIM paging edges, redirects and the host rule, against a small scripted server on
127.0.0.1 (real HTTP): what Slack's SCIM pages can do that the emulator's steady roster does
not (``totalResults`` changing during the read, an empty page before it is reached, the same
page again, a redirect to another host)."""

from __future__ import annotations

import json
import threading
import typing as t
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tap_slack_snow_devkit.catalogs import select_only
from tests._support import SyncResult, one_line_failure, run_cli, warning_lines

TOKEN = "xoxp-scim-paging-token"
CATALOG = select_only("scim_users")
#: (startIndex, count, request number) -> (status, body, headers)
Script = t.Callable[[int, int, int], tuple[int, t.Any, dict[str, str]]]


def users(first: int, n: int) -> list[dict[str, t.Any]]:
    """SCIM users number ``first`` .. ``first + n - 1`` (1-based)."""
    return [
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": f"W{k:08d}",
            "active": True,
        }
        for k in range(first, first + n)
    ]


def page(start: int, count: int, total: int, held: int | None = None) -> t.Any:
    """A list response of the users from ``start`` (up to ``count``, of ``held`` users)."""
    held = total if held is None else held
    n = max(0, min(count, held - start + 1))
    return {
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": n,
        "Resources": users(start, n),
    }


class Server:
    """Answers auth.test and team.billing.info like Slack, SCIM by ``script``; logs requests."""

    def __init__(self, script: Script | None = None) -> None:
        self.script = script
        self.requests: list[tuple[str, dict[str, str], dict[str, str]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: t.Any) -> None:
                """Quiet."""

            def do_GET(self) -> None:
                self._answer()

            def do_POST(self) -> None:
                self._answer()

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                server.requests.append((parts.path, query, dict(self.headers.items())))
                status, body, headers = server.answer(parts.path, query)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("x-oauth-scopes", "admin,users:read,team.billing:read")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, t.Any, dict[str, str]]:
        if path == "/api/auth.test":
            return 200, {"ok": True, "team_id": "T1", "user_id": "U1", "team": "Paging"}, {}
        if path == "/api/team.billing.info":
            return 200, {"ok": True, "plan": "plus"}, {}
        if path == "/scim/v2/Users" and self.script is not None:
            number = sum(1 for p, _, _ in self.requests if p == path)
            return self.script(int(query["startIndex"]), int(query["count"]), number)
        return 404, {"Errors": {"description": "not_found", "code": 404}}, {}

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def scim_calls(self) -> list[tuple[str, dict[str, str], dict[str, str]]]:
        return [r for r in self.requests if r[0].startswith("/scim/")]

    def __enter__(self) -> Server:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def config(server: Server, **extra: t.Any) -> dict[str, t.Any]:
    base = f"http://127.0.0.1:{server.port}"
    return {
        "access_token": TOKEN,
        "api_url": f"{base}/api",
        "scim_url": f"{base}/scim/v2",
        "retry_initial_wait": 0.01,
        "retry_max_attempts": 2,
        **extra,
    }


def read(script: Script, tmp_path: Path, **extra: t.Any) -> tuple[SyncResult, Server]:
    with Server(script) as server:
        result = run_cli(config(server, **extra), tmp_path, catalog=CATALOG)
    return result, server


def ids(result: SyncResult) -> list[str]:
    return [r["id"] for r in result.records.get("scim_users", [])]


def test_an_exact_multiple_of_the_page_ends_without_an_extra_request(tmp_path: Path) -> None:
    result, server = read(lambda s, c, _n: (200, page(s, c, 2000), {}), tmp_path)
    assert result.exit_code == 0, result.stderr[-2000:]
    assert ids(result) == [u["id"] for u in users(1, 2000)]
    calls = server.scim_calls()
    assert [(q["startIndex"], q["count"]) for _, q, _ in calls] == [("1", "1000"), ("1001", "1000")]
    assert calls[0][2]["Authorization"] == f"Bearer {TOKEN}"


def test_a_roster_that_grows_while_read_is_read_to_its_new_end(tmp_path: Path) -> None:
    def script(start: int, count: int, number: int) -> tuple[int, t.Any, dict[str, str]]:
        total = 1500 if number == 1 else 2500  # users joined after the first page
        return 200, page(start, count, total), {}

    result, server = read(script, tmp_path)
    assert result.exit_code == 0, result.stderr[-2000:]
    assert ids(result) == [u["id"] for u in users(1, 2500)]
    assert len(server.scim_calls()) == 3


def test_a_roster_that_shrinks_while_read_ends_at_its_new_end(tmp_path: Path) -> None:
    def script(start: int, count: int, number: int) -> tuple[int, t.Any, dict[str, str]]:
        total = 3000 if number == 1 else 1500
        return 200, page(start, count, total), {}

    result, server = read(script, tmp_path)
    assert result.exit_code == 0, result.stderr[-2000:]
    assert len(ids(result)) == len(set(ids(result))) == 1500
    assert len(server.scim_calls()) == 2


def test_an_empty_page_before_total_results_ends_the_read_with_a_warning(tmp_path: Path) -> None:
    def script(start: int, count: int, number: int) -> tuple[int, t.Any, dict[str, str]]:
        return 200, page(start, count, 3000, held=1000), {}  # says 3000, holds 1000

    result, server = read(script, tmp_path)
    assert result.exit_code == 0, result.stderr[-2000:]
    assert len(ids(result)) == 1000
    assert len(server.scim_calls()) == 2
    (line,) = [w for w in warning_lines(result) if "startIndex 1001" in w]
    assert "totalResults is 3000" in line and "1000 users" in line


def test_a_server_that_sends_the_same_page_again_stops_with_one_line(tmp_path: Path) -> None:
    result, server = read(lambda _s, c, _n: (200, page(1, c, 50_000), {}), tmp_path)
    line = one_line_failure(result)
    assert "already sent" in line and "SCIM GET /Users" in line
    assert len(server.scim_calls()) == 2
    assert len(ids(result)) == 1000


@pytest.mark.parametrize(
    "body",
    [
        {"Resources": []},
        {"totalResults": "many", "Resources": []},
        {"totalResults": 3, "Resources": {"id": "W1"}},
        {"totalResults": 1, "Resources": [{"userName": "no-id"}]},
        b"<html>Service Unavailable</html>",
    ],
)
def test_malformed_pages_fail_with_one_line(tmp_path: Path, body: t.Any) -> None:
    result, _ = read(lambda _s, _c, _n: (200, body, {}), tmp_path)
    line = one_line_failure(result)
    assert "SCIM GET /Users" in line
    assert "Traceback" not in result.stderr


def test_an_errors_body_under_http_200_is_an_error(tmp_path: Path) -> None:
    body = {"Errors": {"description": "no_scope", "code": 403}}
    result, _ = read(lambda _s, _c, _n: (200, body, {}), tmp_path, on_unavailable="fail")
    line = one_line_failure(result)
    assert "HTTP 403" in line and "no_scope" in line


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_to_another_host_is_not_followed(tmp_path: Path, status: int) -> None:
    with Server(lambda s, c, _n: (200, page(s, c, 10), {})) as elsewhere:
        target = f"http://localhost:{elsewhere.port}/scim/v2/Users?startIndex=1&count=1000"
        result, redirecting = read(lambda _s, _c, _n: (status, b"", {"Location": target}), tmp_path)
    line = one_line_failure(result)
    assert f"HTTP {status}" in line and f"localhost:{elsewhere.port}" in line
    assert "not followed" in line and "scim_url" in line
    assert elsewhere.requests == []  # the token never reached the other host
    assert len(redirecting.scim_calls()) == 1
    assert TOKEN not in result.stderr + result.stdout


def test_the_token_goes_to_the_scim_host_only_for_scim(tmp_path: Path) -> None:
    """api_url and scim_url on two servers: each gets its own requests, nothing else."""
    with Server() as api, Server(lambda s, c, _n: (200, page(s, c, 5), {})) as scim:
        cfg = {**config(api), "scim_url": f"http://127.0.0.1:{scim.port}/scim/v2"}
        result = run_cli(cfg, tmp_path, catalog=CATALOG)
    assert result.exit_code == 0, result.stderr[-2000:]
    assert {path for path, _, _ in scim.requests} == {"/scim/v2/Users"}
    assert all(path.startswith("/api/") for path, _, _ in api.requests)
    assert all(TOKEN not in json.dumps(query) for _, query, _ in scim.requests + api.requests)


@pytest.mark.parametrize(
    "scim_url",
    ["http://api.example.com/scim/v2", "http://10.0.0.5/scim/v2", "ftp://api.slack.com/scim/v2"],
)
def test_a_scim_url_on_plain_http_or_not_http_is_refused(tmp_path: Path, scim_url: str) -> None:
    with Server() as server:
        result = run_cli({**config(server), "scim_url": scim_url}, tmp_path, catalog=CATALOG)
        assert server.requests == []
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if "scim_url" in line]
    assert lines and repr(scim_url) in lines[-1]


def test_a_local_plain_http_scim_url_is_allowed(tmp_path: Path) -> None:
    with Server(lambda s, c, _n: (200, page(s, c, 3), {})) as server:
        cfg = {**config(server), "scim_url": f"http://localhost:{server.port}/scim/v2/"}
        result = run_cli(cfg, tmp_path, catalog=CATALOG)
    assert result.exit_code == 0, result.stderr[-2000:]
    assert len(ids(result)) == 3


def test_an_unreachable_scim_url_fails_at_once_naming_it(tmp_path: Path) -> None:
    with Server() as server:
        cfg = {**config(server), "scim_url": "http://127.0.0.1:9/scim/v2", "retry_max_attempts": 8}
        result = run_cli(cfg, tmp_path, catalog=CATALOG)
    line = one_line_failure(result)
    assert "cannot reach Slack at scim_url http://127.0.0.1:9/scim/v2" in line
    assert "retrying" not in result.stderr  # a setting's mistake, not a blip: no backoff
