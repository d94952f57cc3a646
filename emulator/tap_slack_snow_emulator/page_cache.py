"""A cache of rendered answers, so the emulator can serve pages faster than a client reads them.

Building a ``users.list`` page of 1,000 members costs the emulator about as much CPU as a
client spends reading it, so a benchmark that compares a client with a floor pipeline would
measure the emulator as much as the client. With the cache on (``--cache-pages``, or
``SlackEmulator(cache_pages=True)``), the encoded body of every successful answer of a
read-only method is kept, keyed by the method, its arguments and what the calling token may
see (scopes, team, org level, admin, bot), and served again byte for byte. Everything before the
method's own work still runs on every request: counting, faults, rate limits, the token checks.

It is off by default: a cached answer stands still (``users.list``'s ``cache_ts`` keeps the time
of the first answer), and any change to the workspace through the control API empties it.
Only answers with ``ok: true`` and no fault are cached.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .oauth import AccessToken

#: Methods whose answer is a pure function of the key (no side effect, no clock but
#: ``cache_ts``). ``admin.analytics.getFile`` has its own cache of compressed files.
CACHEABLE_METHODS = frozenset(
    {
        "users.list",
        "team.info",
        "team.billing.info",
        "team.billableInfo",
        "team.accessLogs",
        "team.integrationLogs",
        "admin.users.list",
    }
)

CacheKey = tuple[Any, ...]


class PageCache:
    """Encoded bodies of successful answers (thread-safe; the HTTP server is threaded)."""

    def __init__(self) -> None:
        self._bodies: dict[CacheKey, bytes] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(method: str, args: dict[str, Any], token: AccessToken) -> CacheKey | None:
        """The cache key of one call, or None when the method is not cacheable."""
        if method not in CACHEABLE_METHODS:
            return None
        grant = token.grant
        arguments = tuple(sorted((str(k), str(v)) for k, v in args.items()))
        return (
            method,
            arguments,
            grant.scopes,
            grant.team_id,
            grant.org_level,
            grant.user_is_admin,
            grant.bot,
        )

    def get(self, key: CacheKey) -> bytes | None:
        """The body served for ``key`` before, if any."""
        with self._lock:
            body = self._bodies.get(key)
            if body is None:
                self.misses += 1
            else:
                self.hits += 1
            return body

    def put(self, key: CacheKey, body: bytes) -> None:
        """Keep ``body`` for ``key``."""
        with self._lock:
            self._bodies[key] = body

    def clear(self) -> None:
        """Forget every body (the workspace changed)."""
        with self._lock:
            self._bodies.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._bodies)
