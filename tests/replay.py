"""A small HTTP server that replays recorded Slack answers (tests only).

It serves ``http://127.0.0.1:PORT/api/<method>`` from a map of method -> answer, so the real
tap can be pointed at answers recorded from real Slack (``tests/corpus``) instead of the
emulator's. An answer is served as it is, except that pagination ends after it: a recorded
page has no recorded next page. ``admin.analytics.getFile`` answers are file lines, sent
gzip-compressed for the first day asked and ``file_not_yet_available`` for later days.
SCIM answers (``scim.v2.Users``) are served at ``/scim/v2/Users`` as one page of
``totalResults`` users (``scim_url``: :attr:`ReplayServer.scim_url`).
"""

from __future__ import annotations

import copy
import gzip
import json
import threading
import typing as t
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

CORPUS = Path(__file__).parent / "corpus"
#: Every user scope the tap's streams check, sent in ``x-oauth-scopes``.
ALL_SCOPES = (
    "admin,users:read,users:read.email,team:read,team.billing:read,admin.users:read,"
    "admin.analytics:read"
)
ANALYTICS = "admin.analytics.getFile"
#: The corpus folder (and replay name) of SCIM's ``GET /scim/v2/Users``.
SCIM_USERS = "scim.v2.Users"


def load(method: str, variant: str) -> t.Any:
    """A corpus answer: a JSON object, or the list of lines of an analytics file."""
    folder = CORPUS / method
    json_path = folder / f"{variant}.json"
    if json_path.exists():
        return json.loads(json_path.read_text())
    lines = (folder / f"{variant}.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def variants(method: str) -> list[str]:
    """The corpus variants recorded for ``method``."""
    return sorted(path.stem for path in (CORPUS / method).iterdir())


def scim_page(answer: dict[str, t.Any], start: int) -> dict[str, t.Any]:
    """A recorded SCIM list as one page: its users from index 1, ``totalResults`` their
    count (paging values are control data), nothing after them."""
    answer = copy.deepcopy(answer)
    users = answer.get("Resources") or []
    answer["totalResults"] = len(users)
    answer["startIndex"] = start
    answer["Resources"] = users if start <= 1 else []
    answer["itemsPerPage"] = len(answer["Resources"])
    return answer


def last_page(answer: dict[str, t.Any]) -> dict[str, t.Any]:
    """The answer with its pagination ended (cursor empty, page 1 of 1)."""
    answer = copy.deepcopy(answer)
    metadata = answer.get("response_metadata")
    if isinstance(metadata, dict) and "next_cursor" in metadata:
        metadata["next_cursor"] = ""
    paging = answer.get("paging")
    if isinstance(paging, dict):
        paging["page"] = 1
        paging["pages"] = 1
    return answer


class ReplayServer:
    """Serve recorded answers per method; ``requests`` logs (method, arguments) received."""

    def __init__(self, answers: dict[str, t.Any]) -> None:
        """``answers`` maps a Slack method to its answer (see :func:`load`)."""
        self.answers = answers
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._analytics_days: list[str] = []
        replay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: t.Any) -> None:
                """Quiet."""

            def do_GET(self) -> None:
                self._answer()

            def do_POST(self) -> None:
                self._answer()

            def _answer(self) -> None:
                parts = urlsplit(self.path)
                args = {k: v[0] for k, v in parse_qs(parts.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                args.update({k: v[0] for k, v in parse_qs(body).items()})
                method = parts.path.removeprefix("/api/")
                if parts.path.startswith("/scim/"):
                    method = parts.path.strip("/").replace("/", ".")
                replay.requests.append((method, args))
                content_type, payload = replay.reply(method, args)
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("x-oauth-scopes", ALL_SCOPES)
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def reply(self, method: str, args: dict[str, str]) -> tuple[str, bytes]:
        """(content type, body) for one request."""
        answer = self.answers.get(method)
        if answer is None:
            return _json({"ok": False, "error": "unknown_method"})
        if method == ANALYTICS:
            day = args.get("date", "")
            if self._analytics_days and day not in self._analytics_days:
                return _json({"ok": False, "error": "file_not_yet_available"})
            self._analytics_days.append(day)
            # the file of the day asked for: its rows are of that day, as Slack's are
            lines = "".join(json.dumps({**line, "date": day}) + "\n" for line in answer)
            return "application/gzip", gzip.compress(lines.encode())
        if method == SCIM_USERS:
            return _json(scim_page(answer, int(args.get("startIndex", "1"))))
        if method == "admin.users.list" and args.get("is_active") == "false":
            return _json({"ok": True, "users": [], "response_metadata": {"next_cursor": ""}})
        return _json(last_page(answer))

    @property
    def url(self) -> str:
        """The ``api_url`` to give the tap."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/api"

    @property
    def scim_url(self) -> str:
        """The ``scim_url`` to give the tap."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/scim/v2"

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def _json(payload: dict[str, t.Any]) -> tuple[str, bytes]:
    return "application/json; charset=utf-8", json.dumps(payload).encode()
