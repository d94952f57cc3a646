"""HTTP front end of the emulator: parses ``/api/<method>`` requests and sends the replies.

Serves ``http://127.0.0.1:PORT/api/<method>`` over HTTP/1.1 with keep-alive
(``http.server.ThreadingHTTPServer``, one thread per connection). Arguments are read from
the query string, an ``application/x-www-form-urlencoded`` body and a JSON object body, merged
in that order (a later source wins); invalid JSON answers ``invalid_json`` and a
JSON value that is not an object ``json_not_object``. JSON answers carry
``Content-Type: application/json; charset=utf-8``; analytics files are streamed with
``Transfer-Encoding: chunked`` the first time and sent with a ``Content-Length`` from the cache
afterwards. Paths under ``/_emulator/`` go to the control API of :mod:`.server`; paths
under ``/scim/`` to Slack's SCIM v2 API (:mod:`.api.scim`).
"""

from __future__ import annotations

import json
import socket
import struct
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from .api import Reply
from .control import control_reply

if TYPE_CHECKING:
    from .server import SlackEmulator


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


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    emulator: SlackEmulator


class EmulatorRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "SlackEmulator/1.0"
    sys_version = ""
    timeout = 300  # idle keep-alive connections are closed after 5 minutes
    server: EmulatorHTTPServer

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
            self._send(control_reply(emu, verb, path, body))
            return
        if path.startswith("/scim/"):
            self._scim(verb, path, parts.query)
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

    def _scim(self, verb: str, path: str, query_text: str) -> None:
        """A SCIM request (``/scim/v2/…``): logged and counted as ``scim.Users``."""
        emu = self.server.emulator
        query = _first_values(parse_qs(query_text, keep_blank_values=True))
        call_no = emu._record(
            RequestLog(
                method="scim.Users",
                http_verb=verb,
                path=self.path,
                query=dict(query),
                form={},
                headers=dict(self.headers.items()),
            )
        )
        authorization = self.headers.get("Authorization") or ""
        token = authorization[7:].strip() if authorization.startswith("Bearer ") else None
        self._send(emu.api.handle_scim(verb, path, query, token or None, call_no))

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
