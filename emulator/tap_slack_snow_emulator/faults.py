"""Fault injection and rate limiting.

Faults: ``Fault(method, kind, on_call=1, times=1, **extra)`` fires on the ``on_call``-th HTTP
request of ``method`` (1-based, every request counts, including 429s and earlier faults) and on
the ``times - 1`` following ones (``times=None`` = forever). ``method="*"`` matches every method
(its counter is then the method's own counter). ``workspace="T…"`` narrows a fault to the
requests naming that workspace (``team_id``, or ``team`` for ``team.info``): ``on_call`` then
counts the method's requests to that workspace only, so a fault lands in one partition of a
Grid org however the client interleaves its workspaces. Kinds:

=================  ===========================================================================
``http_500``       HTTP 500, JSON ``{"ok": false, "error": "internal_error"}``
``http_503``       HTTP 503, a small HTML page (what a load balancer sends)
``http_429``       HTTP 429 ``ratelimited`` with ``Retry-After = retry_after`` (default 1)
                   scaled by ``minute_seconds / 60`` when rate limiting is on
``reset``          the request is processed, then headers and half of the body are sent and the
                   connection is closed (``rst=True`` for a TCP reset): the client sees a
                   ``ChunkedEncodingError`` / connection error; side effects (e.g. a refresh
                   token rotation) *have* happened
``timeout``        the request is processed, then the answer is delayed ``seconds`` (default 5)
``error``          HTTP 200 ``{"ok": false, "error": extra error (default internal_error)}`` plus
                   every other extra field (e.g. ``needed``)
``token_expired``  HTTP 200 ``{"ok": false, "error": "token_expired"}``
``non_json``       HTTP 200 ``text/html`` body
``missing_ok``     the normal JSON answer without its ``ok`` key
``wrong_types``    top-level lists become strings and objects become lists
``nulls``          top-level lists and objects become ``null``
``huge_string``    the first object of the first list gets a ``name`` of ``size`` bytes
                   (default 5 MB)
``truncated_gzip`` the body (a gzip file for ``admin.analytics.getFile``) cut in half, with a
                   matching ``Content-Length``
``corrupt_gzip``   random bytes served as ``application/gzip``
=================  ===========================================================================

Rate limits (Slack counts them per method, per workspace and per app, by the minute): when
``minute_seconds`` is set, each bucket has fixed windows of that many real seconds; a window
starts at the first request after the previous one ended and allows the method's tier (Tier 2:
20, Tier 3: 50, Tier 4: 100, ``auth.test`` and ``oauth.v2.access``: 600). Over the allowance:
HTTP 429, ``{"ok":false,"error":"ratelimited"}`` and ``Retry-After`` = seconds until the
window ends (an integer when ``minute_seconds >= 60``, else a decimal with up to three
decimals, at least ``0.001``). The emulator serves one app, so a bucket is a (method,
workspace) pair: a workspace-level method called with an org-level token counts in the
bucket of the workspace its ``team_id`` (``team`` for ``team.info``) names, with a
workspace-level token in its own workspace's; an org-level method (``admin.*``,
``auth.teams.list``), or a call that names no workspace, counts in the method's one bucket
for the org (:meth:`RateLimiter.check`'s ``workspace`` is then None).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

FAULT_KINDS = frozenset(
    {
        "http_500",
        "http_503",
        "http_429",
        "reset",
        "timeout",
        "error",
        "token_expired",
        "non_json",
        "missing_ok",
        "wrong_types",
        "nulls",
        "huge_string",
        "truncated_gzip",
        "corrupt_gzip",
    }
)

REPLACING_KINDS = frozenset(
    {"http_500", "http_503", "http_429", "error", "token_expired", "non_json", "corrupt_gzip"}
)
"""Kinds that answer instead of the method (no authentication, no rate limiting)."""


@dataclass(init=False)
class Fault:
    """One injected fault (see the module docstring)."""

    method: str
    kind: str
    on_call: int = 1
    times: int | None = 1
    workspace: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __init__(
        self,
        method: str,
        kind: str,
        on_call: int = 1,
        times: int | None = 1,
        *,
        workspace: str | None = None,
        **extra: Any,
    ) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {sorted(FAULT_KINDS)}")
        if on_call < 1:
            raise ValueError("on_call is 1-based")
        if times is not None and times < 1:
            raise ValueError("times must be >= 1 (or None for forever)")
        self.method = method
        self.kind = kind
        self.on_call = on_call
        self.times = times
        self.workspace = workspace
        self.extra = dict(extra)

    def fires_on(
        self, method: str, call: int, workspace: str | None = None, workspace_call: int = 0
    ) -> bool:
        """Whether this fault answers call number ``call`` of ``method`` (call number
        ``workspace_call`` of ``method`` naming ``workspace``)."""
        if self.workspace is not None:
            if workspace != self.workspace:
                return False
            call = workspace_call
        if self.method not in ("*", method) or call < self.on_call:
            return False
        return self.times is None or call < self.on_call + self.times

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        """Build from a JSON object (``/_emulator/faults``)."""
        data = dict(data)
        extra = data.pop("extra", None) or {}
        method = str(data.pop("method"))
        kind = str(data.pop("kind"))
        on_call = int(data.pop("on_call", 1))
        times_raw = data.pop("times", 1)
        times = None if times_raw is None else int(times_raw)
        workspace = data.pop("workspace", None)
        return cls(
            method,
            kind,
            on_call,
            times,
            workspace=None if workspace is None else str(workspace),
            **{**extra, **data},
        )

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "method": self.method,
            "kind": self.kind,
            "on_call": self.on_call,
            "times": self.times,
            **({"workspace": self.workspace} if self.workspace is not None else {}),
            **self.extra,
        }


class FaultBook:
    """The active faults (thread-safe)."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        """Register a fault."""
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._faults.clear()

    def list(self) -> list[Fault]:
        """Copy of the active faults."""
        with self._lock:
            return list(self._faults)

    def match(
        self, method: str, call: int, workspace: str | None = None, workspace_call: int = 0
    ) -> Fault | None:
        """The first fault firing on this call (``workspace_call``: its number among the
        method's calls naming ``workspace``)."""
        with self._lock:
            for f in self._faults:
                if f.fires_on(method, call, workspace, workspace_call):
                    return f
        return None


def format_retry_after(seconds: float, minute_seconds: float | None) -> str:
    """``Retry-After`` value: integer seconds for real minutes, else up to 3 decimals."""
    if minute_seconds is None or minute_seconds >= 60:
        return str(max(1, math.ceil(seconds - 1e-9)))
    text = f"{max(seconds, 0.001):.3f}".rstrip("0").rstrip(".")
    return text or "0.001"


class RateLimiter:
    """Fixed windows of ``minute_seconds`` real seconds, one per (method, workspace) bucket."""

    def __init__(self) -> None:
        self._windows: dict[tuple[str, str | None], tuple[float, int]] = {}
        self._allowed: dict[tuple[str, str | None], int] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        """Forget every window and count."""
        with self._lock:
            self._windows.clear()
            self._allowed.clear()

    def allowed(self) -> dict[tuple[str, str | None], int]:
        """Requests let through per (method, workspace) bucket since the last reset (while
        rate limits are on): what a benchmark divides by the allowance."""
        with self._lock:
            return dict(self._allowed)

    def check(
        self,
        method: str,
        allowance: int,
        minute_seconds: float | None,
        workspace: str | None = None,
    ) -> float | None:
        """Count a request in the bucket of ``(method, workspace)`` (``workspace`` None: the
        method's one bucket); None when allowed, else seconds until the window ends."""
        if minute_seconds is None:
            return None
        now = time.monotonic()
        bucket = (method, workspace)
        with self._lock:
            start, count = self._windows.get(bucket, (0.0, 0))
            if count == 0 or now >= start + minute_seconds:
                start, count = now, 0
            if count < allowance:
                self._windows[bucket] = (start, count + 1)
                self._allowed[bucket] = self._allowed.get(bucket, 0) + 1
                return None
            self._windows[bucket] = (start, count)
            return max(0.0, start + minute_seconds - now)
