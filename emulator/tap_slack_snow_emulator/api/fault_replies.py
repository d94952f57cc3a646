"""How an injected fault changes a reply: a replacing fault answers instead of the method, a
mutating one alters the method's answer (see :mod:`..faults` for the kinds)."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable

from ..faults import Fault, format_retry_after
from .replies import Reply


class FaultReplies:
    """Mixin of :class:`.pipeline.Api`, which sets these attributes."""

    rate_limited: Counter[str]
    minute_seconds: Callable[[], float | None]
    _lock: threading.Lock
    _corrupt_rng: random.Random

    def _fault_reply(self, method: str, fault: Fault) -> Reply:
        kind = fault.kind
        extra = fault.extra
        if kind == "http_500":
            return Reply(status=500, payload={"ok": False, "error": "internal_error"})
        if kind == "http_503":
            return Reply(
                status=503,
                body=b"<html><head><title>503 Service Temporarily Unavailable</title></head>"
                b"<body><h1>503 Service Temporarily Unavailable</h1></body></html>\n",
                content_type="text/html; charset=utf-8",
            )
        if kind == "http_429":
            with self._lock:
                self.rate_limited[method] += 1
            minute = self.minute_seconds()
            seconds = float(extra.get("retry_after", 1))
            if minute is not None:
                seconds = seconds * minute / 60.0
            reply = Reply(status=429, payload={"ok": False, "error": "ratelimited"})
            reply.headers.append(("Retry-After", format_retry_after(seconds, minute)))
            return reply
        if kind == "error":
            fields = {k: v for k, v in extra.items() if k != "error"}
            return Reply(
                payload={"ok": False, "error": str(extra.get("error", "internal_error")), **fields}
            )
        if kind == "token_expired":
            return Reply(payload={"ok": False, "error": "token_expired"})
        if kind == "non_json":
            return Reply(
                body=b"<!DOCTYPE html><html><head><title>Slack</title></head><body>"
                b"<p>Something went wrong. Please try again.</p></body></html>\n",
                content_type="text/html; charset=utf-8",
            )
        # corrupt_gzip
        with self._lock:
            size = int(extra.get("size", 2048))
            noise = bytes(self._corrupt_rng.getrandbits(8) for _ in range(size))
        return Reply(body=noise, content_type="application/gzip")

    @staticmethod
    def _mutate(reply: Reply, fault: Fault) -> None:
        kind = fault.kind
        if kind == "reset":
            reply.reset = True
            reply.hard_reset = bool(fault.extra.get("rst", False))
        elif kind == "timeout":
            reply.delay = float(fault.extra.get("seconds", 5))
        elif kind == "truncated_gzip":
            body = reply.materialize()
            reply.body = body[: len(body) // 2]
        elif reply.payload is not None:
            payload = reply.payload
            if kind == "missing_ok":
                payload.pop("ok", None)
            elif kind in ("wrong_types", "nulls"):
                for key, value in list(payload.items()):
                    if key == "ok":
                        continue
                    if isinstance(value, list):
                        payload[key] = None if kind == "nulls" else "not-a-list"
                    elif isinstance(value, dict):
                        payload[key] = None if kind == "nulls" else list(value.values())
            elif kind == "huge_string":
                size = int(fault.extra.get("size", 5 * 1024 * 1024))
                huge = "x" * size
                for value in payload.values():
                    if isinstance(value, list) and value and isinstance(value[0], dict):
                        value[0]["name"] = huge
                        break
                else:
                    payload["name"] = huge
