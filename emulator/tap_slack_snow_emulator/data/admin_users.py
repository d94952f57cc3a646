"""Rows of ``admin.users.list`` (Enterprise Grid): the same people as ``users.list``,
USLACKBOT excluded, bots included."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .organisation import Organisation


class AdminUserDirectory(Organisation):
    """The ``admin.users.list`` view of the organisation's members."""

    def admin_user(self, i: int, *, include_deactivated_workspaces: bool = False) -> dict[str, Any]:
        """Member ``i`` as an ``admin.users.list`` row."""
        u = self.user_core(i)
        roles: list[str]
        if u.is_primary_owner:
            roles = ["primary_owner", "owner", "admin"]
        elif u.is_owner:
            roles = ["owner", "admin"]
        elif u.is_admin:
            roles = ["admin"]
        elif u.is_ultra_restricted:
            roles = ["single_channel_guest"]
        elif u.is_restricted:
            roles = ["multi_channel_guest"]
        elif u.is_bot:
            roles = ["bot"]
        else:
            roles = ["member"]
        workspaces = list(u.team_ids)
        if u.deleted and not include_deactivated_workspaces:
            workspaces = []
        return {
            "id": u.id,
            "email": u.email,
            "is_admin": u.is_admin,
            "is_owner": u.is_owner,
            "is_primary_owner": u.is_primary_owner,
            "is_restricted": u.is_restricted,
            "is_ultra_restricted": u.is_ultra_restricted,
            "is_bot": u.is_bot,
            "username": u.username,
            "full_name": u.real_name,
            "is_active": not u.deleted,
            "date_created": u.created,
            "deactivated_ts": u.deactivated_ts,
            "expiration_ts": u.expiration_ts,
            "workspaces": workspaces,
            "has_2fa": u.has_2fa,
            "has_sso": u.has_sso,
            "roles": roles,
            "last_active_ts": u.last_active_ts,
        }

    def admin_keep(
        self, team_id: str | None, is_active: bool | None, only_guests: bool = False
    ) -> Callable[[int], bool]:
        """Predicate selecting the members ``admin.users.list`` returns."""

        def keep(i: int) -> bool:
            role = self.role(i)
            if role == "slackbot" or not self.in_team(i, team_id):
                return False
            if is_active is not None and (role != "deleted") != is_active:
                return False
            return not only_guests or role in ("guest", "single_guest")

        return keep

    def admin_users(
        self, team_id: str | None = None, is_active: bool | None = True
    ) -> list[dict[str, Any]]:
        """Rows ``admin.users.list`` returns (default: active users, like the API default);
        ``is_active=None`` gives active and deactivated users."""
        keep = self.admin_keep(team_id, is_active)
        return [self.admin_user(i) for i in range(self.user_count) if keep(i)]
