"""HTTP front end of the emulator and the :class:`SlackEmulator` facade.

Serves ``http://127.0.0.1:PORT/api/<method>`` over HTTP/1.1 with keep-alive
(``http.server.ThreadingHTTPServer``, one thread per connection). Arguments are read from
the query string, an ``application/x-www-form-urlencoded`` body and a JSON object body, merged
in that order (reference §2.1); invalid JSON answers ``invalid_json`` and a JSON value that is
not an object ``json_not_object``. JSON answers carry
``Content-Type: application/json; charset=utf-8``; analytics files are streamed with
``Transfer-Encoding: chunked`` the first time and sent with a ``Content-Length`` from the cache
afterwards.

A small control API outside ``/api/`` lets a separately started emulator be driven over HTTP:

* ``POST /_emulator/faults`` — JSON Fault (or list of them): ``{"method", "kind", "on_call",
  "times", …extra}``
* ``POST /_emulator/reset-faults``
* ``GET  /_emulator/stats`` — ``{"calls", "rate_limited", "refreshes", "query_token_requests"}``
* ``POST /_emulator/issue-refresh-token`` — optional JSON ``{"scopes", "org_level",
  "user_is_admin"}``; answers ``{"refresh_token": …}``
* ``POST /_emulator/issue-access-token`` — same plus ``rotating``/``bot``; ``{"access_token"}``
* ``POST /_emulator/advance`` ``{"seconds": n}``, ``POST /_emulator/expire-access-tokens``,
  ``POST /_emulator/settings`` ``{"minute_seconds", "refresh_grace_seconds"}``,
  ``POST /_emulator/access-logs/touch`` / ``/_emulator/access-logs/add`` ``{"n", "at"}``,
  ``POST /_emulator/integration-logs/add`` ``{"n"}``
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .api import JSON_TYPE, Api, Reply
from .config import Clock, WorkspaceConfig
from .data import Workspace
from .faults import Fault, FaultBook, RateLimiter
from .oauth import TokenStore


@dataclass(frozen=True)
class RequestLog:
    """One received ``/api/`` request."""

    method: str
    http_verb: str
    path: str
    query: dict[str, Any]
    form: dict[str, Any]
    headers: dict[str, str]


def _first_values(raw: dict[str, list[str]]) -> dict[str, Any]:
    return {k: v[0] if len(v) == 1 else v for k, v in raw.items()}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    emulator: SlackEmulator


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "SlackEmulator/1.0"
    sys_version = ""
    timeout = 300  # idle keep-alive connections are closed after 5 minutes
    server: _Server

    def version_string(self) -> str:
        """``Server`` header value."""
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log."""

    def do_GET(self) -> None:
        """GET requests."""
        self._dispatch("GET")

    def do_POST(self) -> None:
        """POST requests."""
        self._dispatch("POST")

    # ------------------------------------------------------------------ request parsing
    def _read_body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if length is not None:
            return self.rfile.read(int(length)) if int(length) > 0 else b""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size_line = self.rfile.readline()
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        return b""

    def _dispatch(self, verb: str) -> None:
        emu = self.server.emulator
        try:
            body = self._read_body()
        except (OSError, ValueError):
            self.close_connection = True
            return
        parts = urlsplit(self.path)
        path = parts.path
        if path.startswith("/_emulator/"):
            self._send(emu._control(verb, path, body))
            return
        if not path.startswith("/api/") or len(path) <= 5:
            self._send(
                Reply(status=404, body=b"Not Found\n", content_type="text/plain; charset=utf-8")
            )
            return
        method = path[5:]
        query = _first_values(parse_qs(parts.query, keep_blank_values=True))
        content_type = (self.headers.get("Content-Type") or "").lower()
        form: dict[str, Any] = {}
        json_error: str | None = None
        is_json = content_type.startswith("application/json")
        if body and is_json:
            try:
                decoded = json.loads(body)
            except ValueError:
                json_error = "invalid_json"
            else:
                if isinstance(decoded, dict):
                    form = {k: v for k, v in decoded.items() if v is not None}
                else:
                    json_error = "json_not_object"
        elif body:
            form = _first_values(parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True))
        headers = dict(self.headers.items())
        call_no = emu._record(
            RequestLog(
                method=method,
                http_verb=verb,
                path=self.path,
                query=dict(query),
                form=dict(form),
                headers=headers,
            )
        )
        authorization = self.headers.get("Authorization")
        bearer = None
        if authorization and authorization.startswith("Bearer "):
            bearer = authorization[7:].strip() or None
        form_token = None if is_json else form.get("token")
        args: dict[str, Any] = {k: v for k, v in query.items() if k != "token"}
        args.update({k: v for k, v in form.items() if k != "token"})
        if json_error is not None:
            reply = Reply(payload={"ok": False, "error": json_error})
            reply.headers += [("x-oauth-scopes", ""), ("x-accepted-oauth-scopes", "")]
        else:
            reply = emu.api.handle(
                method,
                args,
                bearer=bearer,
                form_token=str(form_token) if form_token else None,
                query_token="token" in query,
                authorization=authorization,
                call_no=call_no,
            )
        self._send(reply)

    # ------------------------------------------------------------------ responses
    def _send(self, reply: Reply) -> None:
        emu = self.server.emulator
        if reply.delay > 0:
            emu._stopping.wait(reply.delay)
        try:
            if reply.reset:
                self._send_reset(reply)
                return
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            for name, value in reply.headers:
                self.send_header(name, value)
            if reply.stream is not None and reply.body is None:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for chunk in reply.stream:
                    if chunk:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")
            else:
                body = reply.materialize()
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError):
            self.close_connection = True

    def _send_reset(self, reply: Reply) -> None:
        body = reply.materialize()
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(max(len(body), 2)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        self.close_connection = True
        sock = self.connection
        if reply.hard_reset:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:
            sock.shutdown(socket.SHUT_WR)
        time.sleep(0.01)


class SlackEmulator:
    """A Slack Web API emulator serving one organisation on 127.0.0.1.

    See the package docstring for the full API. ``start()`` binds a free port (or ``port``)
    and serves from a background thread; ``stop()`` shuts it down. Also a context manager.
    """

    def __init__(
        self,
        config: WorkspaceConfig | None = None,
        minute_seconds: float | None = None,
        refresh_grace_seconds: float = 30.0,
        access_token_ttl: int = 43200,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.config = config or WorkspaceConfig()
        self.clock = Clock(self.config.now)
        self.workspace = Workspace(self.config, self.clock)
        self.tokens = TokenStore(self.workspace, access_token_ttl)
        self.tokens.refresh_grace_seconds = refresh_grace_seconds
        self.minute_seconds: float | None = minute_seconds
        self._faults = FaultBook()
        self._limiter = RateLimiter()
        self.api = Api(
            self.workspace, self.tokens, self._faults, self._limiter, lambda: self.minute_seconds
        )
        self.requests: list[RequestLog] = []
        self._requests_lock = threading.Lock()
        self._host = host
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> SlackEmulator:
        """Bind and serve in a background thread."""
        if self._server is not None:
            return self
        server = _Server((self._host, self._port), _Handler)
        server.emulator = self
        self._server = server
        self._stopping.clear()
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            daemon=True,
            name="slack-emulator",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        server = self._server
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> SlackEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port."""
        if self._server is None:
            raise RuntimeError("emulator not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no ``/api``)."""
        return f"http://{self._host}:{self.port}"

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT/api`` — methods live at ``{url}/{method}``."""
        return f"{self.base_url}/api"

    # ------------------------------------------------------------------ credentials
    @property
    def client_id(self) -> str:
        """The OAuth app's client id."""
        return self.tokens.client_id

    @property
    def client_secret(self) -> str:
        """The OAuth app's client secret (random per emulator)."""
        return self.tokens.client_secret

    def issue_refresh_token(
        self,
        scopes: list[str] | None = None,
        org_level: bool = False,
        user_is_admin: bool = True,
        *,
        team_id: str | None = None,
    ) -> str:
        """A fresh rotating user refresh token ``xoxe-1-…`` (default scopes: the edition's
        Snow Atlas list)."""
        grant = self.tokens.make_grant(
            scopes, org_level=org_level, user_is_admin=user_is_admin, team_id=team_id
        )
        return self.tokens.issue_refresh_token(grant)

    def issue_access_token(
        self,
        scopes: list[str] | None = None,
        org_level: bool = False,
        user_is_admin: bool = True,
        rotating: bool = False,
        bot: bool = False,
        *,
        team_id: str | None = None,
    ) -> str:
        """A static ``xoxp-…`` (``xoxb-…`` with ``bot``) token; ``rotating=True`` gives an
        expiring ``xoxe.xoxp-…`` token instead."""
        grant = self.tokens.make_grant(
            scopes, org_level=org_level, user_is_admin=user_is_admin, bot=bot, team_id=team_id
        )
        return self.tokens.issue_access_token(grant, rotating=rotating)

    def issue_auth_code(
        self,
        scopes: list[str] | None = None,
        org_level: bool = False,
        user_is_admin: bool = True,
        redirect_uri: str | None = None,
        *,
        team_id: str | None = None,
    ) -> str:
        """A one-time code for ``oauth.v2.access`` (valid 10 minutes of emulator clock)."""
        grant = self.tokens.make_grant(
            scopes, org_level=org_level, user_is_admin=user_is_admin, team_id=team_id
        )
        return self.tokens.issue_auth_code(grant, redirect_uri)

    def expire_access_tokens(self) -> None:
        """Every access token issued so far answers ``token_expired``."""
        self.tokens.expire_all()

    @property
    def refresh_grace_seconds(self) -> float:
        """How long a rotated-away refresh token keeps working (emulator clock)."""
        return self.tokens.refresh_grace_seconds

    @refresh_grace_seconds.setter
    def refresh_grace_seconds(self, value: float) -> None:
        self.tokens.refresh_grace_seconds = float(value)

    @property
    def access_token_ttl(self) -> int:
        """Lifetime of rotating access tokens in seconds of emulator clock."""
        return self.tokens.access_token_ttl

    @access_token_ttl.setter
    def access_token_ttl(self, value: int) -> None:
        self.tokens.access_token_ttl = int(value)

    # ------------------------------------------------------------------ faults / stats
    def add_fault(self, fault: Fault) -> None:
        """Inject a fault."""
        self._faults.add(fault)

    def clear_faults(self) -> None:
        """Remove every fault."""
        self._faults.clear()

    @property
    def faults(self) -> list[Fault]:
        """The active faults."""
        return self._faults.list()

    @property
    def calls(self) -> Counter[str]:
        """HTTP requests received per method (every attempt)."""
        return self.api.calls

    @property
    def rate_limited(self) -> Counter[str]:
        """HTTP 429 answers per method."""
        return self.api.rate_limited

    @property
    def refreshes(self) -> int:
        """Successful ``refresh_token`` grants."""
        return self.tokens.refreshes

    @property
    def query_token_requests(self) -> int:
        """Requests that put a token in the query string (refused with ``not_authed``)."""
        return self.api.query_token_requests

    def reset_stats(self) -> None:
        """Zero the counters and the request log (faults and tokens stay)."""
        with self.api._lock:
            self.api.calls.clear()
            self.api.rate_limited.clear()
            self.api.query_token_requests = 0
        with self._requests_lock:
            self.requests.clear()
        self._limiter.reset()

    def stats(self) -> dict[str, Any]:
        """The counters as plain JSON-able data."""
        return {
            "calls": dict(self.calls),
            "rate_limited": dict(self.rate_limited),
            "refreshes": self.refreshes,
            "query_token_requests": self.query_token_requests,
        }

    def advance(self, seconds: float) -> None:
        """Move the emulator clock forward (token expiry, grace windows, analytics "today")."""
        self.clock.advance(seconds)

    def now(self) -> float:
        """The emulator clock."""
        return self.clock.now()

    # ------------------------------------------------------------------ internals
    def _record(self, log: RequestLog) -> int:
        with self._requests_lock:
            self.requests.append(log)
        return self.api.count_call(log.method)

    def _control(self, verb: str, path: str, body: bytes) -> Reply:
        try:
            data: Any = json.loads(body) if body.strip() else {}
        except ValueError:
            return Reply(status=400, payload={"ok": False, "error": "invalid_json"})
        if not isinstance(data, (dict, list)):
            return Reply(status=400, payload={"ok": False, "error": "json_not_object"})
        opts: dict[str, Any] = data if isinstance(data, dict) else {}
        try:
            return self._control_action(verb, path, data, opts)
        except (KeyError, TypeError, ValueError) as exc:
            return Reply(status=400, payload={"ok": False, "error": str(exc)})

    def _control_action(self, verb: str, path: str, data: Any, opts: dict[str, Any]) -> Reply:
        ok: dict[str, Any] = {"ok": True}
        if path == "/_emulator/stats" and verb == "GET":
            return Reply(payload=self.stats(), content_type=JSON_TYPE)
        if verb != "POST":
            return Reply(status=405, payload={"ok": False, "error": "method_not_allowed"})
        if path == "/_emulator/faults":
            for item in data if isinstance(data, list) else [data]:
                self.add_fault(Fault.from_json(item))
            return Reply(payload=ok)
        if path == "/_emulator/reset-faults":
            self.clear_faults()
            return Reply(payload=ok)
        if path == "/_emulator/reset-stats":
            self.reset_stats()
            return Reply(payload=ok)
        if path == "/_emulator/issue-refresh-token":
            token = self.issue_refresh_token(
                opts.get("scopes"),
                org_level=bool(opts.get("org_level", False)),
                user_is_admin=bool(opts.get("user_is_admin", True)),
                team_id=opts.get("team_id"),
            )
            return Reply(payload={"ok": True, "refresh_token": token})
        if path == "/_emulator/issue-access-token":
            token = self.issue_access_token(
                opts.get("scopes"),
                org_level=bool(opts.get("org_level", False)),
                user_is_admin=bool(opts.get("user_is_admin", True)),
                rotating=bool(opts.get("rotating", False)),
                bot=bool(opts.get("bot", False)),
                team_id=opts.get("team_id"),
            )
            return Reply(payload={"ok": True, "access_token": token})
        if path == "/_emulator/advance":
            self.advance(float(opts.get("seconds", 0)))
            return Reply(payload={"ok": True, "now": self.now()})
        if path == "/_emulator/expire-access-tokens":
            self.expire_access_tokens()
            return Reply(payload=ok)
        if path == "/_emulator/settings":
            if "minute_seconds" in opts:
                value = opts["minute_seconds"]
                self.minute_seconds = None if value is None else float(value)
            if "refresh_grace_seconds" in opts:
                self.refresh_grace_seconds = float(opts["refresh_grace_seconds"])
            return Reply(payload=ok)
        if path == "/_emulator/access-logs/touch":
            entries = self.workspace.touch_access_logs(int(opts.get("n", 1)), opts.get("at"))
            return Reply(payload={"ok": True, "entries": len(entries)})
        if path == "/_emulator/access-logs/add":
            entries = self.workspace.add_access_logs(int(opts.get("n", 1)), opts.get("at"))
            return Reply(payload={"ok": True, "entries": len(entries)})
        if path == "/_emulator/integration-logs/add":
            logs = self.workspace.add_integration_logs(int(opts.get("n", 1)))
            return Reply(payload={"ok": True, "entries": len(logs)})
        return Reply(status=404, payload={"ok": False, "error": "unknown_control_path"})
