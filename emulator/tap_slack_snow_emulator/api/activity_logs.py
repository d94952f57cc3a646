"""``team.accessLogs`` and ``team.integrationLogs``.

``team.accessLogs`` answers ``paid_only`` on the Free plan; without ``team_id`` an org-level
token gets the whole org. It switches to cursor mode when ``limit`` is given
(``invalid_limit`` outside 1-1000; the answer then has ``response_metadata`` and no
``paging``); classic mode rejects ``count > 1000`` or ``page > 100`` with
``over_pagination_limit``. ``before`` defaults to "no bound" (the same as "now" unless entries
were stamped in the emulator's future with ``touch_access_logs``/``add_access_logs``); in cursor
mode the first page pins the bound into the cursor.

``team.integrationLogs`` works on every plan, needs ``team_id`` with an org-level token
(``team_access_not_granted`` for an unknown team) and clamps ``count`` to 1-1000. Pages past
the end are empty.
"""

from __future__ import annotations

from .._det import decode_cursor, encode_cursor
from .arguments import Call, arg_int, arg_str, paging
from .method_family import MethodFamily
from .replies import ApiError, Reply


class ActivityLogMethods(MethodFamily):
    """Who signed in from where, and which apps and services changed."""

    def team_access_logs(self, call: Call) -> Reply:
        """``team.accessLogs``."""
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
        return Reply(payload={"ok": True, "logins": logins, "paging": paging(count, total, page)})

    def team_integration_logs(self, call: Call) -> Reply:
        """``team.integrationLogs``."""
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
        return Reply(payload={"ok": True, "logs": chunk, "paging": paging(count, len(logs), page)})
