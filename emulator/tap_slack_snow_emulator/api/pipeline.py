"""The request pipeline: the checks every Slack method call passes, in order.

Pipeline of one ``/api/<method>`` request (every step answers HTTP 200 ``{"ok": false, …}``
unless noted):

1. count the call (``calls``), then a firing *replacing* fault answers at once;
2. rate limit, per method and workspace (HTTP 429, see :mod:`.faults`);
3. ``oauth.v2.access`` needs no token (client credentials instead, :mod:`.oauth`);
4. token: ``Authorization: Bearer`` or a form-body ``token`` field; a ``token`` in the query
   string is ignored (Slack refuses it) and counted in ``query_token_requests`` → no token:
   ``not_authed``, unknown: ``invalid_auth``, revoked: ``token_revoked``, expired:
   ``token_expired``;
5. bot token on a user-only method (``team.billableInfo``, ``team.accessLogs``,
   ``team.integrationLogs``, ``admin.*``): ``not_allowed_token_type``;
6. scope (:mod:`.method_table`): ``missing_scope`` with ``needed`` and ``provided``;
7. a token of a non-admin user on those same admin methods: ``not_an_admin``;
8. the method's own checks (plan, arguments) and its answer; mutating faults are applied last.

The methods themselves live in one module per Slack method family. SCIM requests
(``/scim/v2/…``) take their own path, :mod:`.scim` (errors are HTTP statuses there).
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..analytics import AnalyticsFiles
from ..faults import REPLACING_KINDS, FaultBook, RateLimiter, format_retry_after
from ..oauth import AccessToken, OAuthError, TokenStore
from ..page_cache import PageCache
from .activity_logs import ActivityLogMethods
from .admin import AdminMethods
from .arguments import Call, arg_str
from .auth import AuthMethods
from .bookmarks import BookmarkMethods
from .fault_replies import FaultReplies
from .method_table import METHODS, MethodSpec
from .replies import ApiError, Reply
from .scim import ScimMethods
from .users_and_team import UsersAndTeamMethods

if TYPE_CHECKING:
    from ..data import Workspace


class Api(
    UsersAndTeamMethods,
    ActivityLogMethods,
    AdminMethods,
    AuthMethods,
    BookmarkMethods,
    ScimMethods,
    FaultReplies,
):
    """Method implementations plus the shared per-request pipeline."""

    def __init__(
        self,
        ws: Workspace,
        tokens: TokenStore,
        faults: FaultBook,
        limiter: RateLimiter,
        minute_seconds: Callable[[], float | None],
    ) -> None:
        self.ws = ws
        self.tokens = tokens
        self.faults = faults
        self.limiter = limiter
        self.minute_seconds = minute_seconds
        self.files = AnalyticsFiles(ws)
        #: Rendered bodies served again (``cache_pages``); None = every answer is built.
        self.page_cache: PageCache | None = None
        self.calls: Counter[str] = Counter()
        self.rate_limited: Counter[str] = Counter()
        #: Requests per (method, workspace named by ``team_id`` / ``team``).
        self.workspace_calls: Counter[tuple[str, str]] = Counter()
        self.query_token_requests = 0
        self._lock = threading.Lock()
        self._corrupt_rng = random.Random(ws.seed)
        self._handlers: dict[str, Callable[[Call], Reply]] = {
            "auth.test": self.auth_test,
            "auth.teams.list": self.auth_teams_list,
            "users.list": self.users_list,
            "users.info": self.users_info,
            "users.getPresence": self.users_get_presence,
            "team.info": self.team_info,
            "team.billing.info": self.team_billing_info,
            "team.billableInfo": self.team_billable_info,
            "team.accessLogs": self.team_access_logs,
            "team.integrationLogs": self.team_integration_logs,
            "admin.users.list": self.admin_users_list,
            "admin.analytics.getFile": self.admin_analytics_get_file,
            "bookmarks.list": self.bookmarks_list,
        }

    # ------------------------------------------------------------------ pipeline
    def count_call(self, method: str) -> int:
        """Count one HTTP request of a method; returns its 1-based number."""
        with self._lock:
            self.calls[method] += 1
            return self.calls[method]

    def _count_workspace(self, method: str, workspace: str) -> int:
        """Count one request of ``method`` naming ``workspace``; its 1-based number."""
        if not workspace:
            return 0
        with self._lock:
            self.workspace_calls[method, workspace] += 1
            return self.workspace_calls[method, workspace]

    def handle(
        self,
        method: str,
        args: dict[str, Any],
        *,
        bearer: str | None,
        form_token: str | None,
        query_token: bool,
        authorization: str | None,
        call_no: int,
    ) -> Reply:
        """Answer one request (see the module docstring for the order of checks)."""
        spec = METHODS.get(method)
        accepted = spec.scope if spec is not None and spec.scope else ""
        named = arg_str(args, "team_id") or arg_str(args, "team") or ""
        fault = self.faults.match(
            method, call_no, named or None, self._count_workspace(method, named)
        )
        if fault is not None and fault.kind in REPLACING_KINDS:
            reply = self._fault_reply(method, fault)
            self._scope_headers(reply, "", accepted)
            return reply
        if spec is not None:
            workspace = self._rate_limit_workspace(spec, args, bearer or form_token)
            wait = self.limiter.check(method, spec.allowance, self.minute_seconds(), workspace)
            if wait is not None:
                with self._lock:
                    self.rate_limited[method] += 1
                reply = Reply(status=429, payload={"ok": False, "error": "ratelimited"})
                reply.headers.append(
                    ("Retry-After", format_retry_after(wait, self.minute_seconds()))
                )
                self._scope_headers(reply, "", accepted)
                return reply
        scope_seen: list[str] = []
        if spec is None:
            reply = Reply(payload={"ok": False, "error": "unknown_method", "req_method": method})
        else:
            try:
                if method == "oauth.v2.access":
                    reply = self.oauth_v2_access(args, authorization)
                else:
                    if query_token:
                        with self._lock:
                            self.query_token_requests += 1
                    at = self._authorize(spec, bearer or form_token, scope_seen)
                    reply = self._answer(method, args, at, cacheable=fault is None)
            except ApiError as exc:
                reply = Reply(payload={"ok": False, "error": exc.error, **exc.extra})
            except OAuthError as exc:
                reply = Reply(payload={"ok": False, "error": exc.error})
        self._scope_headers(reply, scope_seen[0] if scope_seen else "", accepted)
        if fault is not None:
            self._mutate(reply, fault)
        return reply

    def _rate_limit_workspace(
        self, spec: MethodSpec, args: dict[str, Any], token: str | None
    ) -> str | None:
        """The workspace whose rate-limit bucket a request counts in (Slack counts per
        method, workspace and app): for an org-level token the workspace ``team_id``
        (``team``) names, for a workspace-level token its own; None (the method's one bucket
        for the org) for an org-level method, an unknown token, or a call naming no
        workspace or the org itself."""
        if spec.org_wide or not token:
            return None
        at, _error = self.tokens.lookup(token)
        if at is None:
            return None
        if not at.grant.org_level:
            return at.grant.team_id
        team = arg_str(args, "team_id") or arg_str(args, "team")
        enterprise = self.ws.enterprise
        if not team or (enterprise is not None and team == enterprise.id):
            return None
        return team

    def _answer(
        self, method: str, args: dict[str, Any], at: AccessToken, *, cacheable: bool
    ) -> Reply:
        """Step 8: the method's answer, from the page cache when it is on and holds it."""
        cache = self.page_cache
        key = cache.key(method, args, at) if cache is not None and cacheable else None
        if cache is not None and key is not None:
            body = cache.get(key)
            if body is not None:
                return Reply(body=body)
        reply = self._handlers[method](Call(method=method, args=args, token=at))
        if (
            cache is not None
            and key is not None
            and reply.status == 200
            and reply.payload is not None
            and reply.payload.get("ok") is True
            and not reply.headers
        ):
            cache.put(key, reply.materialize())
        return reply

    def _authorize(self, spec: MethodSpec, token: str | None, seen: list[str]) -> AccessToken:
        """Steps 4-7 of the pipeline; ``seen`` receives the token's scope header value."""
        if not token:
            raise ApiError("not_authed")
        at, error = self.tokens.lookup(token)
        if at is not None:
            seen.append(",".join(at.grant.scopes))
        if error is not None or at is None:
            raise ApiError(error or "invalid_auth")
        if spec.user_only and at.grant.bot:
            raise ApiError("not_allowed_token_type")
        if spec.scope is not None and spec.scope not in at.grant.scopes:
            raise ApiError("missing_scope", needed=spec.scope, provided=",".join(at.grant.scopes))
        if spec.admin and not at.grant.user_is_admin:
            raise ApiError("not_an_admin")
        return at

    @staticmethod
    def _scope_headers(reply: Reply, scopes: str, accepted: str) -> None:
        reply.headers.append(("x-oauth-scopes", scopes))
        reply.headers.append(("x-accepted-oauth-scopes", accepted))
