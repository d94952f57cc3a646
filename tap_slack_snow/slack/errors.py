"""Slack's error policy: one table mapping every known error code to an action, and the
exceptions each action raises.

Slack answers most failures with HTTP 200 and ``{"ok": false, "error": "<code>"}``, so the
HTTP status says little. Every response the tap receives (Web API methods and
``oauth.v2.access`` alike) is checked against :data:`ERROR_POLICY`; nothing else in the
package decides what an error code means.
"""

from __future__ import annotations

import enum
import typing as t
from dataclasses import dataclass

from tap_slack_snow.errors import TapSlackError
from tap_slack_snow.text import printable


class Action(enum.Enum):
    """What the tap does when Slack answers with an error code."""

    RETRY = "retry"  # transient: back off and send the same request again
    REFRESH = "refresh-and-retry"  # the access token expired: rotate it, then retry once
    UNAVAILABLE = "skip-or-fail"  # this stream cannot be read here: `on_unavailable` decides
    END_OF_DATA = "end-of-data"  # the stream handles it (e.g. an analytics day not yet published)
    FAIL = "fail"  # the run stops with the message


@dataclass(frozen=True)
class ErrorRule:
    """An action and the fix a user reads when it is not a retry."""

    action: Action
    fix: str


_REAUTHORISE = (
    "re-authorise the Slack app (see 'Set up the Slack app' in the README) and put the new "
    "refresh_token in the config"
)

#: Every Slack error code the tap knows, with its action and the fix shown to the user.
#: ``{needed}`` is replaced by Slack's ``needed`` field (the missing scope).
ERROR_POLICY: dict[str, ErrorRule] = {
    # --- transient: retry with backoff -------------------------------------------------
    "ratelimited": ErrorRule(Action.RETRY, "Slack rate limit; the tap waits Retry-After"),
    "internal_error": ErrorRule(Action.RETRY, "transient Slack error"),
    "fatal_error": ErrorRule(Action.RETRY, "transient Slack error"),
    "service_unavailable": ErrorRule(Action.RETRY, "Slack is temporarily unavailable"),
    "request_timeout": ErrorRule(Action.RETRY, "Slack did not receive the whole request"),
    "team_added_to_org": ErrorRule(Action.RETRY, "workspace is being migrated into an org"),
    # --- the access token expired: rotate and retry --------------------------------------
    "token_expired": ErrorRule(Action.REFRESH, "the access token expired"),
    # --- this stream cannot be read with this token on this plan -------------------------
    "missing_scope": ErrorRule(
        Action.UNAVAILABLE,
        "add the user token scope '{needed}' under OAuth & Permissions in the Slack app "
        "settings, reinstall the app and re-authorise",
    ),
    "paid_only": ErrorRule(
        Action.UNAVAILABLE,
        "this method needs a paid Slack plan (Pro, Business+ or Enterprise); "
        "the workspace is on Free",
    ),
    "not_allowed_token_type": ErrorRule(
        Action.UNAVAILABLE,
        "this method needs a user token (xoxp/xoxe.xoxp) from an admin, not a bot token",
    ),
    "not_an_admin": ErrorRule(
        Action.UNAVAILABLE,
        "the authorising user must be a Workspace Admin or Owner (Org Admin or Owner on "
        "Enterprise Grid); re-authorise as one",
    ),
    "no_permission": ErrorRule(
        Action.UNAVAILABLE,
        "the authorising user lacks the permission; re-authorise as a Workspace Admin or Owner",
    ),
    "feature_not_enabled": ErrorRule(
        Action.UNAVAILABLE,
        "needs Enterprise Grid with the app installed on the whole org by an Org Admin or "
        "Owner (an org-level token)",
    ),
    "feature_not_available": ErrorRule(
        Action.UNAVAILABLE,
        "needs an Enterprise Grid (or Business+) plan and an org-level install",
    ),
    "member_analytics_disabled": ErrorRule(
        Action.UNAVAILABLE,
        "member analytics is disabled for this org; an Org Owner can enable it in the org's "
        "analytics settings",
    ),
    "org_level_email_display_disabled": ErrorRule(
        Action.UNAVAILABLE,
        "the org hides email addresses ('Hide email addresses'); an Org Owner must allow "
        "email display for analytics",
    ),
    "team_access_not_granted": ErrorRule(
        Action.UNAVAILABLE,
        "the token has no access to this workspace; check team_id or install the app on it",
    ),
    "enterprise_is_restricted": ErrorRule(
        Action.UNAVAILABLE, "this method cannot be called on an Enterprise org"
    ),
    "user_is_bot": ErrorRule(
        Action.UNAVAILABLE, "this method needs a user token of a human admin, not a bot user"
    ),
    # --- ends a date range (admin.analytics.getFile); the stream decides -----------------
    "file_not_yet_available": ErrorRule(Action.END_OF_DATA, "Slack has not published it yet"),
    "data_not_available": ErrorRule(Action.END_OF_DATA, "too old: Slack keeps 13 months"),
    "file_not_found": ErrorRule(Action.END_OF_DATA, "Slack has no file for this day"),
    # --- fail with the fix ---------------------------------------------------------------
    "not_authed": ErrorRule(
        Action.FAIL,
        "no token reached Slack; set refresh_token (with client_id and "
        "client_secret) or access_token",
    ),
    "invalid_auth": ErrorRule(
        Action.FAIL,
        "Slack rejected the token (invalid, or from a disallowed IP, or team_id names a "
        "workspace the token cannot see); " + _REAUTHORISE,
    ),
    "token_revoked": ErrorRule(
        Action.FAIL, "the token was revoked (app removed or user deactivated); " + _REAUTHORISE
    ),
    "account_inactive": ErrorRule(
        Action.FAIL, "the authorising user or workspace is deactivated; " + _REAUTHORISE
    ),
    "invalid_refresh_token": ErrorRule(
        Action.FAIL,
        "the refresh token is invalid or was already used (Slack refresh tokens are "
        "single-use). Point token_store_path at the token store of the previous run, or "
        + _REAUTHORISE,
    ),
    "invalid_client_id": ErrorRule(
        Action.FAIL, "client_id is wrong: copy it from the app's Basic Information page"
    ),
    "bad_client_secret": ErrorRule(
        Action.FAIL, "client_secret is wrong: copy it from the app's Basic Information page"
    ),
    "invalid_grant_type": ErrorRule(
        Action.FAIL,
        "token rotation is not enabled for this app (or the grant type is wrong); enable "
        "token rotation under OAuth & Permissions, or use access_token",
    ),
    # --- the code exchange and authorize page (tap-slack-snow-auth exchange) -------------
    "invalid_code": ErrorRule(
        Action.FAIL,
        "the authorization code is invalid, already used or older than 10 minutes: run "
        "tap-slack-snow-auth authorize-url again and exchange the new redirect at once",
    ),
    "bad_redirect_uri": ErrorRule(
        Action.FAIL,
        "the redirect URL is not one of the app's Redirect URLs: add it under OAuth & "
        "Permissions (or in the manifest) and pass the same --redirect-url to authorize-url "
        "and exchange",
    ),
    "oauth_authorization_url_mismatch": ErrorRule(
        Action.FAIL,
        "the code was issued for another authorize URL (different redirect_uri or app): pass "
        "the same --client-id and --redirect-url to authorize-url and exchange",
    ),
    "no_scopes": ErrorRule(
        Action.FAIL, "the authorize URL asked for no scopes: use tap-slack-snow-auth authorize-url"
    ),
    "cannot_install_an_org_installed_app": ErrorRule(
        Action.FAIL,
        "the app is installed on the whole Enterprise org: authorise it at org level as an "
        "Org Owner (authorize-url --edition enterprise)",
    ),
    "access_denied": ErrorRule(
        Action.FAIL,
        "the authorisation was cancelled on Slack's page (or needs an admin's approval): run "
        "authorize-url again and click Allow as a Workspace Admin/Owner (Org Owner on "
        "Enterprise Grid)",
    ),
    "two_factor_setup_required": ErrorRule(
        Action.FAIL, "the authorising user must set up two-factor authentication"
    ),
    "ekm_access_denied": ErrorRule(Action.FAIL, "the org's admins suspended this action (EKM)"),
    "org_login_required": ErrorRule(
        Action.FAIL, "the workspace is being migrated into an Enterprise org; retry later"
    ),
    "invalid_cursor": ErrorRule(
        Action.FAIL, "Slack rejected the pagination cursor (expired); run the sync again"
    ),
    "invalid_arguments": ErrorRule(Action.FAIL, "Slack rejected the request's arguments"),
    "missing_argument": ErrorRule(
        Action.FAIL,
        "Slack needs a team_id for this method with an org-level token: set team_id",
    ),
    "invalid_team_id": ErrorRule(Action.FAIL, "team_id is not a workspace of this org"),
    "team_not_found": ErrorRule(Action.FAIL, "team_id is not a workspace of this org"),
    "over_pagination_limit": ErrorRule(
        Action.FAIL, "the tap asked for more pages than Slack allows (a bug: please report it)"
    ),
    "limit_required": ErrorRule(Action.FAIL, "Slack needs a page size: set page_size"),
    # --- SCIM (scim_users): HTTP statuses, not codes; the tap names them scim_<status> ----
    "scim_401": ErrorRule(
        Action.FAIL,
        "SCIM refused the token (HTTP 401: invalid, revoked or expired); " + _REAUTHORISE,
    ),
    "scim_403": ErrorRule(
        Action.UNAVAILABLE,
        "SCIM needs three things: the user token scope 'admin', an authorising user who is a "
        "Workspace Owner or Admin (on Enterprise Grid an Org Owner, with the app installed on "
        "the whole org), and a Business+ or Enterprise plan; fix the one Slack names, or "
        "deselect scim_users",
    ),
    "scim_404": ErrorRule(
        Action.FAIL,
        "nothing at that SCIM address: set scim_url to Slack's SCIM v2 base URL "
        "(https://api.slack.com/scim/v2)",
    ),
    "scim_4xx": ErrorRule(
        Action.FAIL, "SCIM refused the request; check scim_url (Slack's SCIM v2 base URL)"
    ),
    "scim_429": ErrorRule(
        Action.RETRY,
        "SCIM's rate limit, shared by every SCIM app of the org; the tap waits Retry-After",
    ),
    "scim_5xx": ErrorRule(Action.RETRY, "transient SCIM error; retried with backoff"),
    "scim_unavailable_on_plan": ErrorRule(
        Action.UNAVAILABLE,
        "Slack offers SCIM on Business+ and Enterprise Grid (and Enterprise Select / "
        "Compliance) only; upgrade the plan, or deselect scim_users",
    ),
    "method_deprecated": ErrorRule(Action.FAIL, "Slack retired this method; upgrade the tap"),
    "deprecated_endpoint": ErrorRule(Action.FAIL, "Slack retired this method; upgrade the tap"),
}

#: Errors not in the table fail the run with Slack's code in the message.
UNKNOWN_ERROR = ErrorRule(Action.FAIL, "an error the tap does not know; check Slack's status")


def rule_for(code: str) -> ErrorRule:
    """Return the rule for a Slack error code (unknown codes fail)."""
    return ERROR_POLICY.get(code, UNKNOWN_ERROR)


class StreamUnavailableError(TapSlackError):
    """A stream cannot be read with this token on this plan (skip or fail by policy)."""

    def __init__(self, message: str, *, code: str) -> None:
        """Keep Slack's error code next to the user-facing message."""
        super().__init__(message)
        self.code = code


class SlackAPIError(TapSlackError):
    """Slack answered ``ok: false`` with an error the policy says to fail on."""

    def __init__(self, message: str, *, code: str) -> None:
        """Keep Slack's error code next to the user-facing message."""
        super().__init__(message)
        self.code = code


def describe(code: str, method: str, needed: str | None = None) -> str:
    """Build the one-line message a user reads for a Slack error code (Slack's code and
    ``needed`` made printable: a hostile answer cannot forge a log line)."""
    fix = rule_for(code).fix.format(needed=printable(needed) if needed else "?")
    return f"Slack method {method} answered '{printable(code)}': {fix}"


class RateLimitedError(Exception):
    """HTTP 429: wait ``retry_after`` seconds, then send the same request again."""

    def __init__(
        self, retry_after: float, *, announced: bool = True, floored: bool = False
    ) -> None:
        """Keep the wait Slack asked for (``announced``: it came in a Retry-After header;
        ``floored``: the header was missing or below Slack's minimum, so the wait is the
        minimum, which backs off when it repeats)."""
        super().__init__(f"rate limited for {retry_after:.3f} s")
        self.retry_after = retry_after
        self.announced = announced
        self.floored = floored


class TokenExpiredError(Exception):
    """Slack answered ``token_expired``: rotate the access token and retry once."""


class TransientError(Exception):
    """A fault worth retrying with backoff (5xx, Slack's transient codes, a garbled body)."""


class EndOfDataError(Exception):
    """Slack says the requested data does not exist (yet); the stream decides what it means."""

    def __init__(self, code: str) -> None:
        """Keep Slack's error code."""
        super().__init__(code)
        self.code = code


def error_for_code(code: str, method: str, payload: dict[str, t.Any]) -> Exception:
    """Turn an ``ok: false`` code into the exception its policy row asks for (an unknown
    code is kept printable: it reaches log lines)."""
    rule = rule_for(code)
    needed = payload.get("needed")
    message = describe(code, method, needed if isinstance(needed, str) else None)
    code = printable(code)
    if rule.action is Action.RETRY:
        return TransientError(message)
    if rule.action is Action.REFRESH:
        return TokenExpiredError(message)
    if rule.action is Action.UNAVAILABLE:
        return StreamUnavailableError(message, code=code)
    if rule.action is Action.END_OF_DATA:
        return EndOfDataError(code)
    return SlackAPIError(message, code=code)
