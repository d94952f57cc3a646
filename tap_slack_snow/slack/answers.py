"""Reading one Slack answer: the HTTP status, the JSON body and ``ok``, by the error table.

Every answer the tap receives (stream pages, the analytics download, the token refresh, the
CLI's code exchange) is read with :func:`read_slack_response`, so a code means the same thing
everywhere (see :mod:`tap_slack_snow.slack.errors`).
"""

from __future__ import annotations

import json
import math
import typing as t
from urllib.parse import urlsplit

import msgspec
import requests

from tap_slack_snow.slack.errors import (
    RateLimitedError,
    SlackAPIError,
    TransientError,
    error_for_code,
)
from tap_slack_snow.text import printable

#: Slack's shortest Retry-After (whole seconds): what a 429 without a usable one waits.
MIN_RETRY_AFTER_SECONDS = 1.0


def parse_retry_after(response: requests.Response) -> tuple[float, bool]:
    """Seconds Slack asks us to wait, and whether that is the minimum standing in for what
    it said.

    Slack sends whole seconds (at least 1). A header that is missing (a proxy may drop it),
    not a number, not finite, zero, negative or below one second would make the retry a tight
    loop, so it counts as :data:`MIN_RETRY_AFTER_SECONDS` (the retry policy backs off when
    that repeats).
    """
    raw = response.headers.get("Retry-After")
    try:
        value = float(raw) if raw is not None else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < MIN_RETRY_AFTER_SECONDS:
        return MIN_RETRY_AFTER_SECONDS, True
    return value, False


_decode = msgspec.json.Decoder().decode


def decode_json(data: bytes) -> t.Any:
    """Parse JSON with msgspec (about twice as fast as ``json.loads`` on Slack's pages).

    What msgspec refuses but ``json.loads`` accepts (NaN, numbers beyond a double, lone
    surrogates) is parsed by ``json.loads``, so the result is always the standard library's;
    what both refuse raises ``ValueError``.
    """
    try:
        return _decode(data)
    except msgspec.DecodeError:
        return json.loads(data)


def announces_retry_after(response: requests.Response) -> bool:
    try:
        float(response.headers.get("Retry-After", ""))
    except ValueError:
        return False
    return True


def redirect_target(location: str | None) -> str:
    """Where a 3xx points, for its error line: the host, printable (a ``Location`` that is
    not a URL is quoted as sent, cut and made printable)."""
    try:
        host = urlsplit(location or "").netloc
    except ValueError:  # e.g. "http://[bad": an unclosed IPv6 address
        return f"'{printable(location)}' (not a valid URL)"
    return printable(host) if host else "the same host"


def read_slack_response(response: requests.Response, method: str) -> dict[str, t.Any]:
    """Return the JSON payload of a successful answer, or raise what the policy says.

    Raises:
        RateLimitedError: HTTP 429.
        TransientError: HTTP 5xx, a retriable Slack code or a body that is not Slack JSON.
        TokenExpiredError: ``token_expired``.
        StreamUnavailableError: scope, plan or role errors (skip or fail by policy).
        EndOfDataError: the data does not exist (yet).
        SlackAPIError: anything else, with the fix in the message.
    """
    status = response.status_code
    if status == 429:
        seconds, floored = parse_retry_after(response)
        raise RateLimitedError(seconds, announced=announces_retry_after(response), floored=floored)
    if status >= 500:
        raise TransientError(f"HTTP {status} from Slack method {method}")
    if 300 <= status < 400:
        # The session never follows redirects (see http_session): say where it pointed.
        target = redirect_target(response.headers.get("Location"))
        raise SlackAPIError(
            f"Slack method {method} answered HTTP {status}, a redirect to {target}: Slack's "
            "Web API never redirects, so api_url is probably wrong; set it to Slack's Web API "
            "base URL (https://slack.com/api). The redirect was not followed",
            code=f"http_{status}",
        )
    if status in {401, 403}:
        raise SlackAPIError(
            f"Slack method {method} answered HTTP {status} {printable(response.reason)}: the "
            "token was refused (by Slack, or a proxy in between); check refresh_token or "
            "access_token, or re-authorise the Slack app",
            code=f"http_{status}",
        )
    if status >= 400:
        raise SlackAPIError(
            f"Slack method {method} answered HTTP {status} {printable(response.reason)}: "
            "check api_url (it must end in /api)",
            code=f"http_{status}",
        )
    try:
        payload = decode_json(response.content)
    except (ValueError, UnicodeDecodeError):
        content_type = printable(response.headers.get("Content-Type", "unknown"))
        raise TransientError(
            f"Slack method {method} returned a body that is not JSON "
            f"(HTTP {status}, {content_type}, {len(response.content)} bytes)"
        ) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("ok"), bool):
        raise TransientError(f"Slack method {method} returned JSON without a boolean 'ok' field")
    if payload["ok"]:
        return payload
    code = payload.get("error")
    if not isinstance(code, str) or not code:
        raise TransientError(f"Slack method {method} returned ok=false without an error code")
    raise error_for_code(code, method, payload)
