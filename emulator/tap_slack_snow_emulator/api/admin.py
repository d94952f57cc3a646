"""``admin.users.list`` and ``admin.analytics.getFile`` (Enterprise Grid only).

Both answer ``feature_not_enabled`` outside Enterprise Grid *and* for workspace-level (not
org-wide) tokens on Grid. ``admin.users.list`` clamps ``limit`` to 1-100 (default 100);
``is_active`` defaults to true (only active users), ``false`` gives only deactivated users.
"""

from __future__ import annotations

from .._det import encode_cursor
from ..analytics import day_error, parse_day
from .arguments import Call, arg_bool, arg_int, arg_str
from .method_family import MethodFamily
from .replies import ApiError, Reply


class AdminMethods(MethodFamily):
    """The organisation's users as admins see them, and the member analytics files."""

    def _require_org_admin_api(self, call: Call) -> None:
        if self.ws.enterprise is None or not call.token.grant.org_level:
            raise ApiError("feature_not_enabled")

    def admin_users_list(self, call: Call) -> Reply:
        """``admin.users.list``."""
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
        """``admin.analytics.getFile``."""
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
