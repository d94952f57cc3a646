"""The :class:`SlackEmulator` facade: starts the HTTP front end (:mod:`.http_front`) over the
organisation's data, tokens and faults.

The control API outside ``/api/`` is in :mod:`.control`.
"""

from __future__ import annotations

import threading
from collections import Counter
from types import TracebackType
from typing import Any

from .api import Api
from .config import Clock, WorkspaceConfig
from .data import Workspace
from .faults import Fault, FaultBook, RateLimiter
from .http_front import EmulatorHTTPServer, EmulatorRequestHandler, RequestLog
from .oauth import TokenStore
from .page_cache import PageCache


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
        cache_pages: bool = False,
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
        self.cache_pages = cache_pages
        self.requests: list[RequestLog] = []
        self._requests_lock = threading.Lock()
        self._host = host
        self._port = port
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> SlackEmulator:
        """Bind and serve in a background thread."""
        if self._server is not None:
            return self
        server = EmulatorHTTPServer((self._host, self._port), EmulatorRequestHandler)
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

    @property
    def scim_url(self) -> str:
        """``http://127.0.0.1:PORT/scim/v2`` — Slack's SCIM v2 API (``{scim_url}/Users``)."""
        return f"{self.base_url}/scim/v2"

    @property
    def scim_reads_per_minute(self) -> int:
        """SCIM reads allowed per (scaled) minute, for the whole org (default 1,000)."""
        return self.api.scim_reads_per_minute

    @scim_reads_per_minute.setter
    def scim_reads_per_minute(self, value: int) -> None:
        self.api.scim_reads_per_minute = max(1, int(value))

    def scim_other_app_reads(self, n: int) -> int:
        """``n`` SCIM reads by another app of the org: SCIM's rate limit is shared by every
        app, so they count in the same bucket (while rate limits are on)."""
        return self.api.scim_other_app_reads(n)

    @property
    def cache_pages(self) -> bool:
        """Whether rendered answers are served again from :mod:`.page_cache`."""
        return self.api.page_cache is not None

    @cache_pages.setter
    def cache_pages(self, on: bool) -> None:
        if not on:
            self.api.page_cache = None
        elif self.api.page_cache is None:
            self.api.page_cache = PageCache()

    def workspace_changed(self) -> None:
        """The data changed (logs added, a setting): pages cached before are stale."""
        if self.api.page_cache is not None:
            self.api.page_cache.clear()

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
            self.api.workspace_calls.clear()
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
            "buckets": [
                {"method": method, "workspace": workspace, "allowed": allowed}
                for (method, workspace), allowed in sorted(
                    self.bucket_requests.items(), key=lambda item: (item[0][0], item[0][1] or "")
                )
            ],
            "page_cache": None
            if self.api.page_cache is None
            else {"hits": self.api.page_cache.hits, "misses": self.api.page_cache.misses},
        }

    @property
    def bucket_requests(self) -> dict[tuple[str, str | None], int]:
        """Requests let through per rate-limit bucket, (method, workspace or None for the
        org's one bucket), while rate limits are on."""
        return self._limiter.allowed()

    def advance(self, seconds: float) -> None:
        """Move the emulator clock forward (token expiry, grace windows, analytics "today")."""
        self.clock.advance(seconds)
        self.workspace_changed()

    def now(self) -> float:
        """The emulator clock."""
        return self.clock.now()

    # ------------------------------------------------------------------ internals
    def _record(self, log: RequestLog) -> int:
        with self._requests_lock:
            self.requests.append(log)
        return self.api.count_call(log.method)
