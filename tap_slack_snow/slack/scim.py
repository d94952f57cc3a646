"""Reading one SCIM answer: Slack's SCIM API says what went wrong with the HTTP status.

Slack's Web API answers HTTP 200 with ``{"ok": false, "error": …}``; its SCIM API (``GET
{scim_url}/Users``) answers an error with its HTTP status and a body ``{"Errors":
{"description": "…", "code": N}}``. :func:`read_scim_response` turns each status into the
error table's row ``scim_<status>`` (:mod:`.errors`): the same exceptions, so the one retry
policy treats a SCIM 429 or 5xx as it treats the Web API's, and the one line a user reads has
the fix.
"""

from __future__ import annotations

import typing as t

import requests

from tap_slack_snow.slack.answers import (
    announces_retry_after,
    decode_json,
    parse_retry_after,
    redirect_target,
)
from tap_slack_snow.slack.errors import (
    Action,
    RateLimitedError,
    SlackAPIError,
    StreamUnavailableError,
    TransientError,
    rule_for,
)
from tap_slack_snow.text import printable

#: The error table's row for each SCIM status (others: ``scim_4xx`` / ``scim_5xx``).
SCIM_STATUS_CODES = {401: "scim_401", 403: "scim_403", 404: "scim_404", 429: "scim_429"}


def scim_code(status: int) -> str:
    """The error table's code of a SCIM error status."""
    return SCIM_STATUS_CODES.get(status) or ("scim_5xx" if status >= 500 else "scim_4xx")


def scim_description(body: t.Any) -> str | None:
    """Slack's ``Errors.description`` (also a list of errors, as SCIM 1.1 sends), printable."""
    errors = body.get("Errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors:
        errors = errors[0]
    if isinstance(errors, dict) and errors.get("description") not in (None, ""):
        return printable(errors["description"], 200)
    return None


def _body(response: requests.Response) -> t.Any:
    try:
        return decode_json(response.content)
    except (ValueError, UnicodeDecodeError):
        return None


def describe_scim(what: str, status: int, description: str | None) -> str:
    """The one line for a SCIM error status: what Slack said, and the fix."""
    said = f" ({description})" if description else ""
    return f"{what} answered HTTP {status}{said}: {rule_for(scim_code(status)).fix}"


def status_error(what: str, status: int, description: str | None) -> Exception:
    """The exception the error table's row for a SCIM error ``status`` asks for."""
    code = scim_code(status)
    message = describe_scim(what, status, description)
    action = rule_for(code).action
    if action is Action.RETRY:
        return TransientError(message)
    if action is Action.UNAVAILABLE:
        return StreamUnavailableError(message, code=code)
    return SlackAPIError(message, code=code)


def scim_error(what: str, response: requests.Response) -> Exception:
    """The exception for a SCIM error answer (a 429 waits its Retry-After)."""
    if response.status_code == 429:
        seconds, floored = parse_retry_after(response)
        announced = announces_retry_after(response)
        return RateLimitedError(seconds, announced=announced, floored=floored)
    return status_error(what, response.status_code, scim_description(_body(response)))


def read_scim_response(response: requests.Response, what: str) -> dict[str, t.Any]:
    """The JSON object of a successful SCIM answer, or raise what the error table says.

    ``what`` names the request in messages (``SCIM GET /Users``). A redirect is never
    followed (the session hands it back): it fails naming where it pointed.
    """
    status = response.status_code
    if 300 <= status < 400:
        target = redirect_target(response.headers.get("Location"))
        raise SlackAPIError(
            f"{what} answered HTTP {status}, a redirect to {target}: Slack's SCIM API never "
            "redirects, so scim_url is probably wrong; set it to Slack's SCIM v2 base URL "
            "(https://api.slack.com/scim/v2). The redirect was not followed",
            code=f"http_{status}",
        )
    if status >= 400:
        raise scim_error(what, response)
    body = _body(response)
    if not isinstance(body, dict):
        content_type = printable(response.headers.get("Content-Type", "unknown"))
        raise TransientError(
            f"{what} returned a body that is not a JSON object (HTTP {status}, {content_type}, "
            f"{len(response.content)} bytes)"
        )
    errors = body.get("Errors")
    if errors:  # an error body under HTTP 200: its own code says which
        code = errors.get("code") if isinstance(errors, dict) else None
        shown = code if isinstance(code, int) and 400 <= code < 600 and code != 429 else 400
        raise status_error(what, shown, scim_description(body))
    return body
