"""The one retry policy: every request the tap sends is retried by :class:`RetryPolicy`.

Stream pages, the analytics download, the token refresh and the CLI's code exchange all go
through it (answers are read by :mod:`tap_slack_snow.slack.answers`). The policy is safe to
share between threads: its only state is the set of base URLs that have answered once
(``answered``), which only ever grows.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import typing as t
from dataclasses import dataclass, field

import requests

from tap_slack_snow.errors import TapSlackError
from tap_slack_snow.settings import DEFAULTS
from tap_slack_snow.slack.errors import (
    RateLimitedError,
    TokenExpiredError,
    TransientError,
)

T = t.TypeVar("T")

MAX_BACKOFF_SECONDS = 60.0
#: 429s in a row for one request before the run gives up, whatever the waits added up to
#: (Slack answers one 429 per window to a client that waits Retry-After out).
MAX_429_IN_A_ROW = 100
#: A rate-limit wait this long is logged at INFO (shorter ones are routine, at DEBUG) ...
LOG_WAIT_AT_INFO_SECONDS = 10.0
#: ... and so is every this-many-th 429 in a row for one request.
LOG_EVERY_NTH_429 = 3


#: Network failures retried with backoff.
NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    ConnectionResetError,
)


#: Everything :class:`RetryPolicy` retries with exponential backoff.
RETRIED_WITH_BACKOFF: tuple[type[BaseException], ...] = (TransientError, *NETWORK_ERRORS)


@dataclass
class CallStats:
    """What one stream (or the token refresh) cost: shown in the per-stream log line.

    Several workers fetch a stream's workspaces at once, so counts are added under a lock
    (``+=`` on an attribute is a read and a write another thread can slip between).
    """

    requests: int = 0
    rate_limited: int = 0
    rate_limit_wait_seconds: float = 0.0
    retries: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(
        self, *, requests: int = 0, rate_limited: int = 0, waited: float = 0.0, retries: int = 0
    ) -> None:
        """Count one request, a 429 and its wait, or a retry."""
        with self._lock:
            self.requests += requests
            self.rate_limited += rate_limited
            self.rate_limit_wait_seconds += waited
            self.retries += retries


class RetryPolicy:
    """Retries one logical call until it succeeds, following the error policy.

    - HTTP 429 / ``ratelimited``: sleep exactly ``Retry-After`` and retry. These never count
      against ``max_attempts``: rate limits are Slack's normal flow control, not faults.
    - ``token_expired``: call ``on_token_expired`` (rotate) and retry, once per call.
    - 5xx, Slack's transient codes, network errors and garbled bodies: bounded exponential
      backoff (``initial_wait`` doubling up to 60 s), at most ``max_attempts`` tries.
    """

    def __init__(
        self,
        *,
        max_attempts: int,
        initial_wait: float,
        logger: logging.Logger,
        max_rate_limit_wait: float = DEFAULTS["max_rate_limit_wait"],
        sleep: t.Callable[[float], None] = time.sleep,
    ) -> None:
        """Configure the retry budget for real faults and the bound on rate-limit waits."""
        self.max_attempts = max(1, max_attempts)
        self.initial_wait = max(0.0, initial_wait)
        self.max_rate_limit_wait = max(0.0, max_rate_limit_wait)
        self.logger = logger
        self.sleep = sleep
        # Until a base URL (api_url, scim_url) has answered once, a refused connection or
        # unknown host there is a configuration mistake, not a blip: fail at once instead of
        # backing off.
        self.answered: set[str] = set()

    @property
    def slack_answered(self) -> bool:
        """Slack has answered at least once (at any base URL)."""
        return bool(self.answered)

    def call(
        self,
        method: str,
        send: t.Callable[[], T],
        stats: CallStats,
        *,
        on_token_expired: t.Callable[[], None] | None = None,
        api_url: str = "",
        setting: str = "api_url",
    ) -> T:
        """Run ``send`` until it returns, retrying by policy; raise TapSlackError on give-up.

        ``api_url`` is the base URL ``send`` goes to and ``setting`` the setting that names
        it (``api_url`` or ``scim_url``), for the lines of a host that never answered.
        """
        faults = 0
        refreshed = False
        limited = 0  # 429s in a row for this request, and the time they made it wait
        limited_for = 0.0
        while True:
            stats.add(requests=1)
            try:
                result = send()
            except RateLimitedError as exc:
                self.answered.add(api_url)
                waited = self._wait_out(method, exc, limited + 1, limited_for)
                limited += 1
                limited_for += waited
                stats.add(rate_limited=1, waited=waited)
                continue
            except TokenExpiredError as exc:
                self.answered.add(api_url)
                if on_token_expired is None or refreshed:
                    raise TapSlackError(str(exc) + "; the token was already rotated") from None
                refreshed = True
                on_token_expired()
                continue
            except RETRIED_WITH_BACKOFF as exc:
                reason = _short_reason(exc)
                if isinstance(exc, TransientError):
                    self.answered.add(api_url)
                elif api_url not in self.answered and isinstance(exc, requests.exceptions.SSLError):
                    raise TapSlackError(
                        f"TLS handshake with {setting} {api_url or '?'} failed "
                        f"({_tls_detail(exc)}): the server there does not speak TLS. For a "
                        f"plain-HTTP server (a local proxy or test server) use http:// in "
                        f"{setting}; otherwise something between here and Slack intercepts TLS"
                    ) from None
                elif api_url not in self.answered and _is_unreachable(exc):
                    raise TapSlackError(
                        f"cannot reach Slack at {setting} {api_url or '?'} ({reason}): "
                        f"check {setting} and the network"
                    ) from None
                faults += 1
                if faults >= self.max_attempts:
                    raise TapSlackError(
                        f"Slack method {method} failed {faults} times in a row, last: "
                        f"{reason}; giving up (try again later, or raise retry_max_attempts)"
                    ) from None
                wait = min(self.initial_wait * 2 ** (faults - 1), MAX_BACKOFF_SECONDS)
                stats.add(retries=1)
                self.logger.warning(
                    "%s: %s (attempt %d of %d); retrying in %.2f s",
                    method,
                    reason,
                    faults,
                    self.max_attempts,
                    wait,
                )
                self.sleep(wait)
                continue
            self.answered.add(api_url)
            return result

    def _wait_out(self, method: str, exc: RateLimitedError, nth: int, waited: float) -> float:
        """Sleep out the ``nth`` 429 in a row, or give up: at max_rate_limit_wait seconds,
        or at :data:`MAX_429_IN_A_ROW` answers. Returns the seconds waited.

        A Retry-After that was missing or below Slack's minimum (``floored``) doubles with
        each 429 in a row, up to a minute, so a server that keeps answering 429 with no usable
        wait is not hammered in a tight loop.
        """
        wait = exc.retry_after
        if exc.floored:
            wait = min(max(wait, wait * 2 ** (nth - 1)), MAX_BACKOFF_SECONDS)
        header = (
            f"Retry-After {exc.retry_after:g} s"
            if exc.announced and not exc.floored
            else (
                f"Retry-After below Slack's minimum, so {wait:g} s"
                if exc.announced
                else f"no Retry-After header (a proxy may drop it), so {wait:g} s"
            )
        )
        if nth > MAX_429_IN_A_ROW:
            raise TapSlackError(
                f"Slack method {method} answered HTTP 429 (rate limited) {nth} times in a row "
                f"({waited:.0f} s waited); giving up: run the sync later"
            ) from None
        if waited + wait > self.max_rate_limit_wait:
            raise TapSlackError(
                f"Slack method {method} is still rate limited (HTTP 429 number {nth} in a row, "
                f"{waited:.0f} s waited, {header} more); giving up at max_rate_limit_wait "
                f"({self.max_rate_limit_wait:g} s): run the sync later, or raise "
                "max_rate_limit_wait"
            ) from None
        worth_telling = (
            exc.floored
            or not exc.announced
            or wait >= LOG_WAIT_AT_INFO_SECONDS
            or nth % LOG_EVERY_NTH_429 == 0
        )
        self.logger.log(
            logging.INFO if worth_telling else logging.DEBUG,
            "%s rate limited (HTTP 429 number %d in a row): waiting %s; %.0f s waited so far, "
            "max_rate_limit_wait %g s",
            method,
            nth,
            f"{wait:g} s (Retry-After)" if exc.announced and not exc.floored else header,
            waited,
            self.max_rate_limit_wait,
        )
        self.sleep(wait)
        return wait


def _tls_detail(exc: BaseException) -> str:
    match = re.search(r"\[SSL: [A-Z_]+\] [^(')]+|certificate verify failed[^(')]*", str(exc))
    return match.group(0).strip() if match else "TLS error"


def _is_unreachable(exc: BaseException) -> bool:
    text = str(exc)
    return isinstance(exc, requests.exceptions.ConnectionError) and (
        "refused" in text.lower()
        or "Name or service not known" in text
        or "nodename nor servname" in text
        or "getaddrinfo" in text
        or "Temporary failure in name resolution" in text
    )


def _short_reason(exc: BaseException) -> str:
    """A one-line reason that never echoes request details (URLs carry no secret, but be brief)."""
    if isinstance(exc, TransientError):
        return str(exc)
    if isinstance(exc, requests.exceptions.Timeout):
        return "timed out"
    if isinstance(exc, requests.exceptions.SSLError):
        return f"TLS error ({_tls_detail(exc)})"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError | ConnectionResetError):
        return "connection reset while reading the answer"
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = str(exc).lower()
        if "refused" in text:
            return "connection refused"
        if "reset" in text or "aborted" in text:
            return "connection reset"
        return "connection error"
    return type(exc).__name__
