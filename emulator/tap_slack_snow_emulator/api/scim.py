"""Slack's SCIM v2 API: ``GET /scim/v2/Users`` (a list response paged by ``startIndex`` and
``count``) at ``http://127.0.0.1:PORT/scim/v2``.

SCIM is not the Web API: errors are HTTP statuses with a body ``{"Errors": {"description",
"code"}}``, never ``{"ok": false}``. In order, a request gets:

1. the call counted as ``scim.Users`` (``calls``), then a firing *replacing* fault (an
   ``error`` fault answers its ``status``, default 500, and ``description``);
2. the rate limit: SCIM's reads count in **one bucket for the whole org**, shared by every
   app and token (``scim_reads_per_minute`` per scaled minute, default Slack's 1,000; another
   app's reads can be added with :meth:`ScimMethods.scim_other_app_reads`) -> 429 with
   ``Retry-After``;
3. the token: none, unknown, revoked or expired -> 401;
4. a bot token, no ``admin`` scope, a user who is not an admin or owner, on Grid a token
   that is not org-level, a plan without SCIM (Free, Pro) -> 403, each with its own
   description;
5. a path other than ``/scim/v2/Users`` -> 404;
6. the page: ``startIndex`` (1-based, below 1 counts as 1), ``count`` (default 100, at most
   1,000); a ``startIndex`` past the end gives an empty ``Resources``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..data.scim import LIST_URN
from ..faults import FaultBook, RateLimiter, format_retry_after
from .arguments import arg_int
from .fault_replies import FaultReplies
from .replies import ApiError, Reply

if TYPE_CHECKING:
    from ..data import Workspace
    from ..oauth import TokenStore

#: The method name SCIM reads are counted, limited and faulted under.
SCIM_USERS = "scim.Users"
SCIM_PREFIX = "/scim/v2/"
#: Slack's org-wide limit on SCIM reads (requests per minute).
SCIM_READS_PER_MINUTE = 1000
#: Plans with SCIM.
SCIM_PLANS = frozenset({"plus", "enterprise", "compliance"})


def scim_error(status: int, description: str) -> Reply:
    """A SCIM error answer."""
    return Reply(status=status, payload={"Errors": {"description": description, "code": status}})


class ScimMethods(FaultReplies):
    """Mixin of :class:`.pipeline.Api`, which sets these attributes."""

    ws: Workspace
    tokens: TokenStore
    faults: FaultBook
    limiter: RateLimiter
    #: SCIM reads allowed per (scaled) minute for the whole org.
    scim_reads_per_minute: int = SCIM_READS_PER_MINUTE

    def scim_other_app_reads(self, n: int) -> int:
        """``n`` SCIM reads by another app of the org (they count in the same bucket);
        returns how many the limit let through."""
        allowed = 0
        for _ in range(max(0, n)):
            wait = self.limiter.check(
                SCIM_USERS, self.scim_reads_per_minute, self.minute_seconds(), None
            )
            allowed += wait is None
        return allowed

    def handle_scim(
        self, verb: str, path: str, args: dict[str, Any], token: str | None, call_no: int
    ) -> Reply:
        """Answer one SCIM request (see the module docstring for the order of checks)."""
        fault = self.faults.match(SCIM_USERS, call_no)
        if fault is not None and fault.kind == "error":
            return scim_error(
                int(fault.extra.get("status", 500)),
                str(fault.extra.get("description", "internal_error")),
            )
        if fault is not None and fault.kind in ("http_500", "http_503", "http_429", "non_json"):
            return self._fault_reply(SCIM_USERS, fault)
        wait = self.limiter.check(
            SCIM_USERS, self.scim_reads_per_minute, self.minute_seconds(), None
        )
        if wait is not None:
            with self._lock:
                self.rate_limited[SCIM_USERS] += 1
            reply = scim_error(429, "rate_limited")
            reply.headers.append(("Retry-After", format_retry_after(wait, self.minute_seconds())))
            return reply
        reply = self._scim_answer(verb, path, args, token)
        if fault is not None:
            self._mutate(reply, fault)
        return reply

    def _scim_refusal(self, token: str | None) -> Reply | None:
        """Steps 3-4: 401 for the token, 403 for what it may not do."""
        if not token:
            return scim_error(401, "invalid_authentication: no token")
        at, error = self.tokens.lookup(token)
        if at is None or error is not None:
            return scim_error(401, f"invalid_authentication: {error or 'invalid_auth'}")
        grant = at.grant
        if grant.bot:
            return scim_error(403, "invalid_authentication: SCIM needs a user token")
        if "admin" not in grant.scopes:
            return scim_error(403, "no_scope: the token needs the admin scope")
        if not grant.user_is_admin:
            return scim_error(403, "permission_denied: only Owners and Admins may use SCIM")
        if self.ws.config.plan not in SCIM_PLANS:
            return scim_error(
                403, "plan_upgrade_required: SCIM is available on Business+ and Enterprise"
            )
        if self.ws.enterprise is not None and not grant.org_level:
            return scim_error(
                403, "permission_denied: on Enterprise Grid SCIM needs an org-level install"
            )
        return None

    def _scim_answer(self, verb: str, path: str, args: dict[str, Any], token: str | None) -> Reply:
        refusal = self._scim_refusal(token)
        if refusal is not None:
            return refusal
        if path.rstrip("/") != SCIM_PREFIX + "Users":
            return scim_error(404, "not_found")
        if verb != "GET":
            return scim_error(405, "method_not_allowed")
        try:
            start = max(1, arg_int(args, "startIndex", 1))
            count = min(max(arg_int(args, "count", 100), 0), 1000)
        except ApiError:
            return scim_error(400, "invalid_syntax: startIndex and count are whole numbers")
        order = self.ws.scim_indices()
        page = order[start - 1 : start - 1 + count]
        return Reply(
            payload={
                "schemas": [LIST_URN],
                "totalResults": len(order),
                "itemsPerPage": len(page),
                "startIndex": start,
                "Resources": [self.ws.scim_user(i) for i in page],
            }
        )
