"""``users.*``, ``team.info``, ``team.billing.info`` and ``team.billableInfo``.

``users.list`` caps ``limit`` at 1000 and without ``limit`` returns everything when the team
has at most 1000 members, else ``limit_required``. ``team.billableInfo`` clamps ``limit`` to
1-1000, defaults to 1000 and works on every plan. With an org-level token both need
``team_id``; an unknown team gives ``team_access_not_granted`` for ``users.list`` and
``invalid_auth`` for ``team.billableInfo`` (as Slack documents). Pages past the end are empty.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._det import Det, encode_cursor
from .arguments import Call, arg_bool, arg_int, arg_str
from .method_family import MethodFamily
from .replies import ApiError, Reply

if TYPE_CHECKING:
    from ..data.organisation import Enterprise


class UsersAndTeamMethods(MethodFamily):
    """Members, the workspace and its billing."""

    def users_list(self, call: Call) -> Reply:
        """``users.list``."""
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
        """``users.info``."""
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
        """``users.getPresence``."""
        uid = arg_str(call.args, "user")
        index = call.token.grant.user_index if uid is None else self.ws.user_index(uid)
        if index is None:
            raise ApiError("user_not_found")
        active = Det(self.ws.seed, "presence", index).chance(0.6)
        return Reply(payload={"ok": True, "presence": "active" if active else "away"})

    def team_info(self, call: Call) -> Reply:
        """``team.info``."""
        ws = self.ws
        wanted = arg_str(call.args, "team")
        org_level = call.token.grant.org_level
        if ws.enterprise is not None and (
            wanted == ws.enterprise.id or (wanted is None and org_level)
        ):
            return Reply(payload={"ok": True, "team": self._org_as_team(ws.enterprise)})
        if wanted is not None:
            team = ws.team(wanted)
            if team is None:
                raise ApiError("team_not_found")
            if org_level and ws.is_denied(wanted):
                raise ApiError("team_access_not_granted")
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

    @staticmethod
    def _org_as_team(enterprise: Enterprise) -> dict[str, Any]:
        """The Grid org as ``team.info`` describes it (asked for the org's id, or with an
        org-level token and no ``team``)."""
        return {
            "id": enterprise.id,
            "name": enterprise.name,
            "url": f"https://{enterprise.domain}.enterprise.slack.com/",
            "domain": enterprise.domain,
            "email_domain": "",
            "icon": {"image_default": True},
            "is_verified": False,
            "enterprise_id": enterprise.id,
            "enterprise_name": enterprise.name,
            "enterprise_domain": enterprise.domain,
        }

    def team_billing_info(self, _call: Call) -> Reply:
        """``team.billing.info``."""
        return Reply(payload={"ok": True, "plan": self.ws.config.plan})

    def team_billable_info(self, call: Call) -> Reply:
        """``team.billableInfo``."""
        ws = self.ws
        args = call.args
        # Slack: an org token naming a team the owner is not part of gets invalid_auth
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
