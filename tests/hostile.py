"""A tiny HTTP server on 127.0.0.1 that answers the way Slack never does.

For the hardening tests: redirects, bodies that trickle a byte at a time, 429s without
``Retry-After``, bare HTTP errors. Each route is ``(method name) -> handler``; a handler gets
the request and writes the answer itself. Every request is recorded (path, headers, body) so
a test can prove a secret never reached it.
"""

from __future__ import annotations

import json
import threading
import time
import typing as t
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Seen:
    """One request the server received."""

    verb: str
    path: str
    headers: dict[str, str]
    body: bytes


Handler = t.Callable[["_Handler"], None]


@dataclass
class HostileServer:
    """Routes keyed by the last path segment (the Slack method); ``*`` matches anything."""

    routes: dict[str, Handler] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def start(self) -> HostileServer:
        outer = self

        class Bound(_Handler):
            server_state = outer

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Bound)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    server_state: t.ClassVar[HostileServer]
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: t.Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, verb: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        state = self.server_state
        state.seen.append(Seen(verb, self.path, dict(self.headers.items()), body))
        method = self.path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        handler = state.routes.get(method) or state.routes.get("*")
        if handler is None:
            answer(self, 404, b"not found", "text/plain")
            return
        try:
            handler(self)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def answer(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: bytes,
    content_type: str = "application/json; charset=utf-8",
    headers: t.Sequence[tuple[str, str]] = (),
) -> None:
    """Send a whole answer."""
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    for name, value in headers:
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
    handler.wfile.flush()


def slack_ok(payload: dict[str, t.Any], scopes: str = "") -> Handler:
    """A Slack ``ok: true`` answer with an ``x-oauth-scopes`` header."""

    def handle(handler: _Handler) -> None:
        body = json.dumps({"ok": True, **payload}).encode()
        answer(handler, 200, body, headers=[("x-oauth-scopes", scopes)])

    return handle


def redirect(status: int, location: str) -> Handler:
    """A 3xx to ``location`` (the same path is appended)."""

    def handle(handler: _Handler) -> None:
        path = handler.path.split("/api", 1)[-1]
        answer(handler, status, b"", "text/plain", headers=[("Location", location + path)])

    return handle


def trickle(
    body: bytes,
    content_type: str = "application/json; charset=utf-8",
    every: float = 1.0,
    headers: t.Sequence[tuple[str, str]] = (),
) -> Handler:
    """Headers at once, then the body one byte per ``every`` seconds."""

    def handle(handler: _Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", content_type)
        for name, value in headers:
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.flush()
        for index in range(len(body)):
            if handler.server_state.stopping.wait(every):
                return
            handler.wfile.write(body[index : index + 1])
            handler.wfile.flush()

    return handle


def status_only(status: int, headers: t.Sequence[tuple[str, str]] = ()) -> Handler:
    """A bare HTTP status with a small Slack-looking body."""

    def handle(handler: _Handler) -> None:
        error = "ratelimited" if status == 429 else f"http_{status}"
        body = json.dumps({"ok": False, "error": error}).encode()
        answer(handler, status, body, headers=headers)

    return handle


def wait_until(predicate: t.Callable[[], bool], timeout: float = 30.0) -> bool:
    """Poll ``predicate`` until it holds (a test helper, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
