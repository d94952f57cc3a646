"""The Slack Web API methods and the request pipeline (reference §2, §4, §5, §6).

Pipeline of one ``/api/<method>`` request (every step answers HTTP 200 ``{"ok": false, …}``
unless noted):

1. count the call (``calls``), then a firing *replacing* fault answers at once;
2. rate limit (HTTP 429, see :mod:`.faults`);
3. ``oauth.v2.access`` needs no token (client credentials instead, :mod:`.oauth`);
4. token: ``Authorization: Bearer`` or a form-body ``token`` field; a ``token`` in the query
   string is ignored (Slack refuses it) and counted in ``query_token_requests`` → no token:
   ``not_authed``, unknown: ``invalid_auth``, revoked: ``token_revoked``, expired:
   ``token_expired``;
5. bot token on a user-only method (``team.billableInfo``, ``team.accessLogs``,
   ``team.integrationLogs``, ``admin.*``): ``not_allowed_token_type``;
6. scope (table of §5): ``missing_scope`` with ``needed`` and ``provided``;
7. a token of a non-admin user on those same admin methods: ``not_an_admin``;
8. the method's own checks (plan, arguments) and its answer; mutating faults are applied last.

Edition rules (emulator choices where §6 has "?"): Free answers ``paid_only`` for
``team.accessLogs``; ``team.billableInfo`` and ``team.integrationLogs`` work on every plan;
``admin.users.list`` and ``admin.analytics.getFile`` answer ``feature_not_enabled`` outside
Enterprise Grid *and* for workspace-level (not org-wide) tokens on Grid.

Org-level tokens: ``users.list``, ``team.billableInfo`` and ``team.integrationLogs`` need
``team_id`` (``missing_argument``; an unknown team gives ``team_access_not_granted``, or
``invalid_auth`` for ``team.billableInfo`` as §4.5 documents); ``team.accessLogs`` without
``team_id`` returns the whole org. Workspace-level tokens ignore ``team_id`` and see their own
workspace. ``auth.test`` with an org-level token answers
``team_id`` = ``enterprise_id`` = the org id, ``team`` = the org name and
``is_enterprise_install: true``.

Paging choices: ``users.list`` caps ``limit`` at 1000 and without ``limit`` returns everything
when the team has at most 1000 members, else ``limit_required``. ``team.billableInfo`` clamps
``limit`` to 1-1000 and defaults to 1000. ``admin.users.list`` clamps ``limit`` to 1-100
(default 100); ``is_active`` defaults to true (only active users), ``false`` gives only
deactivated users. ``team.accessLogs`` switches to cursor mode when ``limit`` is given
(``invalid_limit`` outside 1-1000; the answer then has ``response_metadata`` and no
``paging``); classic mode rejects ``count > 1000`` or ``page > 100`` with
``over_pagination_limit``. ``before`` defaults to "no bound" (the same as "now" unless entries
were stamped in the emulator's future with ``touch_access_logs``/``add_access_logs``); in cursor
mode the first page pins the bound into the cursor. ``team.integrationLogs`` clamps ``count`` to
1-1000. Pages past the end are empty.
"""

from __future__ import annotations

import json
import math
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._det import Det, decode_cursor, encode_cursor, hex_id
from .analytics import AnalyticsFiles, day_error, parse_day
from .faults import REPLACING_KINDS, Fault, FaultBook, RateLimiter, format_retry_after
from .oauth import AccessToken, OAuthError, TokenStore

if TYPE_CHECKING:
    from .data import Workspace

JSON_TYPE = "application/json; charset=utf-8"


class ApiError(Exception):
    """A Slack error answer."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


@dataclass
class Reply:
    """What the HTTP layer sends."""

    status: int = 200
    payload: dict[str, Any] | None = None
    body: bytes | None = None
    content_type: str = JSON_TYPE
    headers: list[tuple[str, str]] = field(default_factory=list)
    stream: Iterator[bytes] | None = None
    reset: bool = False
    hard_reset: bool = False
    delay: float = 0.0

    def materialize(self) -> bytes:
        """The whole body (serialising the payload / draining the stream)."""
        if self.body is None:
            if self.payload is not None:
                self.body = json.dumps(self.payload, separators=(",", ":")).encode()
            elif self.stream is not None:
                self.body = b"".join(self.stream)
            else:
                self.body = b""
            self.stream = None
        return self.body


@dataclass(frozen=True)
class MethodSpec:
    """Static facts about a method (reference §5)."""

    scope: str | None
    allowance: int
    user_only: bool = False
    admin: bool = False


METHODS: dict[str, MethodSpec] = {
    "auth.test": MethodSpec(None, 600),
    "oauth.v2.access": MethodSpec(None, 600),
    "users.list": MethodSpec("users:read", 20),
    "users.info": MethodSpec("users:read", 100),
    "users.getPresence": MethodSpec("users:read", 50),
    "team.info": MethodSpec("team:read", 50),
    "team.billing.info": MethodSpec("team.billing:read", 50),
    "team.billableInfo": MethodSpec("admin", 20, user_only=True, admin=True),
    "team.accessLogs": MethodSpec("admin", 20, user_only=True, admin=True),
    "team.integrationLogs": MethodSpec("admin", 20, user_only=True, admin=True),
    "admin.users.list": MethodSpec("admin.users:read", 100, user_only=True, admin=True),
    "admin.analytics.getFile": MethodSpec("admin.analytics:read", 20, user_only=True, admin=True),
    "bookmarks.list": MethodSpec("bookmarks:read", 50),
}


@dataclass
class Call:
    """One authenticated method call."""

    method: str
    args: dict[str, Any]
    token: AccessToken

    @property
    def scopes(self) -> tuple[str, ...]:
        """Scopes of the calling token."""
        return self.token.grant.scopes


def arg_str(args: dict[str, Any], name: str) -> str | None:
    """A string argument; empty and null count as absent."""
    value = args.get(name)
    if value is None or value == "":
        return None
    return str(value)


def arg_int(args: dict[str, Any], name: str, default: int) -> int:
    """An integer argument (``invalid_arguments`` when not a number)."""
    value = args.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise ApiError("invalid_arguments")
    try:
        return int(str(value).strip())
    except ValueError:
        raise ApiError("invalid_arguments") from None


def arg_bool(args: dict[str, Any], name: str, default: bool) -> bool:
    """A boolean argument (``true``/``1``/``false``/``0``)."""
    value = args.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ApiError("invalid_arguments")


def _paging(count: int, total: int, page: int) -> dict[str, int]:
    return {"count": count, "total": total, "page": page, "pages": max(1, math.ceil(total / count))}


class Api:
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
        self.calls: Counter[str] = Counter()
        self.rate_limited: Counter[str] = Counter()
        self.query_token_requests = 0
        self._lock = threading.Lock()
        self._corrupt_rng = random.Random(ws.seed)
        self._handlers: dict[str, Callable[[Call], Reply]] = {
            "auth.test": self.auth_test,
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
        fault = self.faults.match(method, call_no)
        if fault is not None and fault.kind in REPLACING_KINDS:
            reply = self._fault_reply(method, fault)
            self._scope_headers(reply, "", accepted)
            return reply
        if spec is not None:
            wait = self.limiter.check(method, spec.allowance, self.minute_seconds())
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
                    reply = self._handlers[method](Call(method=method, args=args, token=at))
            except ApiError as exc:
                reply = Reply(payload={"ok": False, "error": exc.error, **exc.extra})
            except OAuthError as exc:
                reply = Reply(payload={"ok": False, "error": exc.error})
        self._scope_headers(reply, scope_seen[0] if scope_seen else "", accepted)
        if fault is not None:
            self._mutate(reply, fault)
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

    # ------------------------------------------------------------------ helpers
    def _view_team(self, call: Call, *, required: bool, unknown: str) -> str | None:
        """Team a call looks at: None = the whole org (or the only team)."""
        grant = call.token.grant
        ws = self.ws
        if grant.org_level:  # Enterprise Grid org-wide install
            team_id = arg_str(call.args, "team_id")
            if team_id is None:
                if required:
                    raise ApiError("missing_argument")
                return None
            if ws.team(team_id) is None:
                raise ApiError(unknown)
            return team_id
        if len(ws.teams) > 1:
            return grant.team_id
        return None

    def _cursor_start(self, args: dict[str, Any], kind: str) -> tuple[int, list[str]]:
        cursor = arg_str(args, "cursor")
        if cursor is None:
            return 0, []
        fields = decode_cursor(cursor, kind)
        if not fields:
            raise ApiError("invalid_cursor")
        index = self.ws.user_index(fields[0])
        if index is None:
            raise ApiError("invalid_cursor")
        return index, fields[1:]

    # ------------------------------------------------------------------ methods
    def auth_test(self, call: Call) -> Reply:
        """``auth.test`` (§4.11)."""
        ws = self.ws
        grant = call.token.grant
        core = ws.user_core(grant.user_index)
        body: dict[str, Any] = {"ok": True}
        if grant.org_level and ws.enterprise is not None:
            body.update(
                {
                    "url": f"https://{ws.enterprise.domain}.enterprise.slack.com/",
                    "team": ws.enterprise.name,
                    "user": core.username,
                    "team_id": ws.enterprise.id,
                    "user_id": core.id,
                }
            )
        else:
            team = ws.team(grant.team_id or ws.primary_team.id) or ws.primary_team
            body.update(
                {
                    "url": f"https://{team.domain}.slack.com/",
                    "team": team.name,
                    "user": core.username,
                    "team_id": team.id,
                    "user_id": core.id,
                }
            )
        if grant.bot:
            body["bot_id"] = core.bot_id or "B0" + hex_id(8, ws.seed, "appbot")
        if ws.enterprise is not None:
            body["enterprise_id"] = ws.enterprise.id
        body["is_enterprise_install"] = grant.org_level
        expires_in = self.tokens.expires_in(call.token)
        if expires_in is not None:
            body["expires_in"] = expires_in
        return Reply(payload=body)

    def users_list(self, call: Call) -> Reply:
        """``users.list`` (§4.1)."""
        ws = self.ws
        args = call.args
        team = self._view_team(call, required=True, unknown="team_access_not_granted")
        with_email = "users:read.email" in call.scopes
        include_locale = arg_bool(args, "include_locale", False)
        limit = arg_int(args, "limit", 0)
        limit = min(max(limit, 0), 1000)
        start, rest = self._cursor_start(args, "user")
        page_no = int(rest[0]) if rest and rest[0].isdigit() else 0
        total = ws.team_member_count(team)
        if limit == 0:
            if total > 1000:
                raise ApiError("limit_required")
            limit = 1000
        effective = limit
        if ws.config.short_pages:
            if page_no % 6 == 3:
                effective = 0
            elif page_no % 2 == 1:
                effective = max(1, limit // 2)

        def keep(i: int) -> bool:
            return ws.in_team(i, team)

        indices, nxt = ws.scan(start, effective, keep)
        members = [
            ws.member(i, with_email=with_email, include_locale=include_locale, team_id=team)
            for i in indices
        ]
        next_cursor = "" if nxt is None else encode_cursor("user", ws.user_id(nxt), page_no + 1)
        return Reply(
            payload={
                "ok": True,
                "members": members,
                "cache_ts": int(ws.clock.now()),
                "response_metadata": {"next_cursor": next_cursor},
            }
        )

    def users_info(self, call: Call) -> Reply:
        """``users.info`` (§4.2)."""
        uid = arg_str(call.args, "user")
        if uid is None:
            raise ApiError("invalid_arguments")
        index = self.ws.user_index(uid)
        if index is None:
            raise ApiError("user_not_found")
        member = self.ws.member(
            index,
            with_email="users:read.email" in call.scopes,
            include_locale=arg_bool(call.args, "include_locale", False),
        )
        return Reply(payload={"ok": True, "user": member})

    def users_get_presence(self, call: Call) -> Reply:
        """``users.getPresence`` (§4.12)."""
        uid = arg_str(call.args, "user")
        index = call.token.grant.user_index if uid is None else self.ws.user_index(uid)
        if index is None:
            raise ApiError("user_not_found")
        active = Det(self.ws.seed, "presence", index).chance(0.6)
        return Reply(payload={"ok": True, "presence": "active" if active else "away"})

    def team_info(self, call: Call) -> Reply:
        """``team.info`` (§4.3)."""
        ws = self.ws
        wanted = arg_str(call.args, "team")
        if wanted is not None:
            team = ws.team(wanted)
            if team is None:
                raise ApiError("team_not_found")
        else:
            team = ws.team(call.token.grant.team_id or "") or ws.primary_team
        icon_base = f"https://a.slack-edge.com/80588/img/avatars-teams/ava_{team.index:04d}"
        body: dict[str, Any] = {
            "id": team.id,
            "name": team.name,
            "url": f"https://{team.domain}.slack.com/",
            "domain": team.domain,
            "email_domain": team.email_domain,
            "icon": {
                "image_default": True,
                **{f"image_{s}": f"{icon_base}-{s}.png" for s in (34, 44, 68, 88, 102, 132, 230)},
            },
            "avatar_base_url": "https://ca.slack-edge.com/",
            "is_verified": False,
        }
        if ws.enterprise is not None:
            body["enterprise_id"] = ws.enterprise.id
            body["enterprise_name"] = ws.enterprise.name
            body["enterprise_domain"] = ws.enterprise.domain
        return Reply(payload={"ok": True, "team": body})

    def team_billing_info(self, _call: Call) -> Reply:
        """``team.billing.info`` (§4.4)."""
        return Reply(payload={"ok": True, "plan": self.ws.config.plan})

    def team_billable_info(self, call: Call) -> Reply:
        """``team.billableInfo`` (§4.5)."""
        ws = self.ws
        args = call.args
        # §4.5: an org token naming a team the owner is not part of gets invalid_auth
        team = self._view_team(call, required=True, unknown="invalid_auth")

        def keep(i: int) -> bool:
            return ws.is_billable_candidate(i) and ws.in_team(i, team)

        uid = arg_str(args, "user")
        if uid is not None:
            index = ws.user_index(uid)
            if index is None or not keep(index):
                raise ApiError("user_not_found")
            core = ws.user_core(index)
            return Reply(
                payload={
                    "ok": True,
                    "billable_info": {uid: {"billing_active": core.billing_active}},
                }
            )
        limit = min(max(arg_int(args, "limit", 1000), 1), 1000)
        start, _ = self._cursor_start(args, "billable")
        indices, nxt = ws.scan(start, limit, keep)
        info = {ws.user_id(i): {"billing_active": ws.user_core(i).billing_active} for i in indices}
        next_cursor = "" if nxt is None else encode_cursor("billable", ws.user_id(nxt))
        return Reply(
            payload={
                "ok": True,
                "billable_info": info,
                "response_metadata": {"next_cursor": next_cursor},
            }
        )

    def team_access_logs(self, call: Call) -> Reply:
        """``team.accessLogs`` (§4.6)."""
        ws = self.ws
        args = call.args
        if ws.config.plan == "free":
            raise ApiError("paid_only")
        team = self._view_team(call, required=False, unknown="invalid_team_id")
        before_raw = arg_str(args, "before")
        before: int | None = None
        if before_raw is not None and before_raw != "now":
            try:
                before = int(float(before_raw))
            except ValueError:
                raise ApiError("invalid_arguments") from None
        if arg_str(args, "limit") is not None:
            limit = arg_int(args, "limit", 100)
            if not 1 <= limit <= 1000:
                raise ApiError("invalid_limit")
            offset = 0
            cursor = arg_str(args, "cursor")
            if cursor is not None:
                fields = decode_cursor(cursor, "logs")
                if not fields or len(fields) != 2 or not fields[1].isdigit():
                    raise ApiError("invalid_cursor")
                before = None if fields[0] == "-" else int(fields[0])
                offset = int(fields[1])
            elif before is None:
                newest, _ = ws.access.page(None, 0, 1, team)
                before = int(newest[0]["date_last"]) if newest else None
            logins, total = ws.access.page(before, offset, limit, team)
            end = offset + len(logins)
            next_cursor = (
                encode_cursor("logs", "-" if before is None else before, end) if end < total else ""
            )
            return Reply(
                payload={
                    "ok": True,
                    "logins": logins,
                    "response_metadata": {"next_cursor": next_cursor},
                }
            )
        count = arg_int(args, "count", 100)
        page = arg_int(args, "page", 1)
        if count > 1000 or page > 100:
            raise ApiError("over_pagination_limit")
        count = max(count, 1)
        page = max(page, 1)
        logins, total = ws.access.page(before, (page - 1) * count, count, team)
        return Reply(payload={"ok": True, "logins": logins, "paging": _paging(count, total, page)})

    def team_integration_logs(self, call: Call) -> Reply:
        """``team.integrationLogs`` (§4.7)."""
        args = call.args
        team = self._view_team(call, required=True, unknown="team_access_not_granted")
        logs = self.ws.integration_log_entries(
            team_id=team,
            app_id=arg_str(args, "app_id"),
            change_type=arg_str(args, "change_type"),
            service_id=arg_str(args, "service_id"),
            user=arg_str(args, "user"),
        )
        count = min(max(arg_int(args, "count", 100), 1), 1000)
        page = max(arg_int(args, "page", 1), 1)
        chunk = logs[(page - 1) * count : page * count]
        return Reply(payload={"ok": True, "logs": chunk, "paging": _paging(count, len(logs), page)})

    def _require_org_admin_api(self, call: Call) -> None:
        if self.ws.enterprise is None or not call.token.grant.org_level:
            raise ApiError("feature_not_enabled")

    def admin_users_list(self, call: Call) -> Reply:
        """``admin.users.list`` (§4.8)."""
        self._require_org_admin_api(call)
        ws = self.ws
        args = call.args
        team_id = arg_str(args, "team_id")
        if team_id is not None and ws.team(team_id) is None:
            raise ApiError("team_not_found")
        include_ws = arg_bool(args, "include_deactivated_user_workspaces", False)
        if include_ws and team_id is not None:
            raise ApiError("include_deactivated_user_workspaces_invalid")
        is_active = arg_bool(args, "is_active", True)
        only_guests = arg_bool(args, "only_guests", False)
        if only_guests and (
            arg_bool(args, "include_admins", False) or arg_bool(args, "include_owners", False)
        ):
            raise ApiError("invalid_arguments")
        limit = min(max(arg_int(args, "limit", 100), 1), 100)
        start, _ = self._cursor_start(args, "admin")
        keep = ws.admin_keep(team_id, is_active, only_guests)
        indices, nxt = ws.scan(start, limit, keep)
        users = [ws.admin_user(i, include_deactivated_workspaces=include_ws) for i in indices]
        next_cursor = "" if nxt is None else encode_cursor("admin", ws.user_id(nxt))
        return Reply(
            payload={"ok": True, "users": users, "response_metadata": {"next_cursor": next_cursor}}
        )

    def admin_analytics_get_file(self, call: Call) -> Reply:
        """``admin.analytics.getFile`` (§4.9)."""
        self._require_org_admin_api(call)
        args = call.args
        kind = arg_str(args, "type")
        if kind is None:
            raise ApiError("invalid_arguments")
        if kind not in ("member", "public_channel"):
            raise ApiError("invalid_type")
        if arg_bool(args, "metadata_only", False):
            raise ApiError(
                "metadata_not_available"
                if kind == "member"
                else (
                    "metadata_only_does_not_support_date"
                    if arg_str(args, "date") is not None
                    else "feature_not_available"
                )
            )
        raw = arg_str(args, "date")
        if raw is None:
            raise ApiError("invalid_arguments")
        day = parse_day(raw)
        if day is None:
            raise ApiError("invalid_date")
        error = day_error(self.ws, day)
        if error is not None:
            raise ApiError(error)
        label = "Member" if kind == "member" else "Public Channel"
        headers = [
            (
                "Content-Disposition",
                f'attachment; filename="{self.ws.company} {label} Analytics {day}.json.gz"',
            )
        ]
        cached = self.files.cached(kind, day)
        if cached is not None:
            return Reply(body=cached, content_type="application/gzip", headers=headers)
        return Reply(
            stream=self.files.stream(kind, day), content_type="application/gzip", headers=headers
        )

    def bookmarks_list(self, call: Call) -> Reply:
        """``bookmarks.list`` (§4.10)."""
        channel = arg_str(call.args, "channel_id")
        if channel is None:
            raise ApiError("invalid_arguments")
        ws = self.ws
        base = ws.base_now - 30 * 86400
        bookmarks = [
            {
                "id": "Bk0" + hex_id(8, ws.seed, "bookmark", channel, n),
                "channel_id": channel,
                "title": title,
                "link": link,
                "emoji": None,
                "icon_url": None,
                "type": "link",
                "entity_id": None,
                "date_created": base + n * 3600,
                "date_updated": 0,
                "rank": "ghijklm"[n],
                "last_updated_by_user_id": ws.user_id(1 if ws.user_count > 1 else 0),
                "last_updated_by_team_id": ws.primary_team.id,
                "shortcut_id": None,
                "app_id": None,
            }
            for n, (title, link) in enumerate(
                [
                    ("Handbook", "https://example.com/handbook"),
                    ("On-call", "https://example.com/oncall"),
                ]
            )
        ]
        return Reply(payload={"ok": True, "bookmarks": bookmarks})

    def oauth_v2_access(self, args: dict[str, Any], authorization: str | None) -> Reply:
        """``oauth.v2.access`` (§3.2-3.4)."""
        self.tokens.check_client(args, authorization)
        grant_type = arg_str(args, "grant_type")
        if grant_type == "refresh_token":
            refresh = arg_str(args, "refresh_token")
            if refresh is None:
                raise OAuthError("invalid_refresh_token")
            return Reply(payload=self.tokens.refresh(refresh))
        if grant_type in (None, "authorization_code"):
            code = arg_str(args, "code")
            if code is None:
                raise OAuthError("invalid_code")
            return Reply(payload=self.tokens.exchange_code(code, arg_str(args, "redirect_uri")))
        raise OAuthError("invalid_grant_type")
