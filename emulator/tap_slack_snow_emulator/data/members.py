"""Members as ``users.list`` and ``users.info`` return them.

Deactivated members carry only the keys Slack sends for them (no ``tz``, no role flags).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..config import Clock, WorkspaceConfig
from .organisation import DAY, Organisation
from .vocabulary import TIMEZONES


class MemberDirectory(Organisation):
    """The ``users.list`` / ``users.info`` view of the organisation's members."""

    def __init__(self, config: WorkspaceConfig, clock: Clock) -> None:
        super().__init__(config, clock)
        self._team_member_counts: dict[str, int] = {}

    def _no_custom_fields(self, i: int, deleted: bool) -> Any:
        """``profile.fields`` of a member without custom fields.

        Recorded answers show ``{}`` and ``null``, and Slack's OpenAPI declares the field an
        object, null or array: ``[]`` is PHP's empty array.
        """
        if not self.config.recorded_variants:
            return None
        if deleted:
            return None
        return [] if i % 2 == 0 else {}

    def member(
        self,
        i: int,
        *,
        with_email: bool = True,
        include_locale: bool = False,
        team_id: str | None = None,
    ) -> dict[str, Any]:
        """Member ``i`` as ``users.list`` / ``users.info`` return it."""
        u = self.user_core(i)
        team = team_id if team_id in u.team_ids else u.team_ids[0]
        img = f"https://secure.gravatar.com/avatar/{u.avatar_hash}.jpg?s="
        profile: dict[str, Any] = {
            "title": u.title,
            "phone": "",
            "skype": "",
            "real_name": u.real_name,
            "real_name_normalized": u.real_name,
            "display_name": u.display_name,
            "display_name_normalized": u.display_name,
            "fields": self._no_custom_fields(i, u.deleted),
            "status_text": "",
            "status_emoji": "",
            "status_emoji_display_info": [],
            "status_expiration": 0,
            "avatar_hash": u.avatar_hash,
        }
        if u.is_bot:
            profile["api_app_id"] = u.app_id
            profile["always_active"] = False
            profile["bot_id"] = u.bot_id
        elif u.role == "slackbot":
            profile["always_active"] = True
        if with_email and u.email:
            profile["email"] = u.email
        elif with_email and u.role == "slackbot" and self.config.recorded_variants:
            profile["email"] = None  # as recorded for Slackbot
        profile["first_name"] = u.first_name
        profile["last_name"] = u.last_name
        for size in (24, 32, 48, 72, 192, 512):
            profile[f"image_{size}"] = f"{img}{size}"
        if u.custom_image:
            base = f"https://avatars.slack-edge.com/{u.created // DAY}/{u.avatar_hash}"
            profile["image_1024"] = f"{base}_1024.jpg"
            profile["image_original"] = f"{base}_original.jpg"
            profile["is_custom_image"] = True
        if u.is_restricted:
            profile["guest_invited_by"] = self.user_id(2 if self.user_count > 2 else 1)
            if u.expiration_ts:
                profile["guest_expiration_ts"] = u.expiration_ts
        profile["status_text_canonical"] = ""
        profile["team"] = team
        m: dict[str, Any] = {"id": u.id, "team_id": team, "name": u.username}
        if u.deleted:
            m["deleted"] = True
            m["profile"] = profile
            m["is_bot"] = False
            m["is_app_user"] = False
            m["updated"] = u.updated
        else:
            tz = TIMEZONES[u.tz_index] if u.role != "slackbot" else TIMEZONES[0]
            m.update(
                {
                    "deleted": False,
                    "color": u.color if u.role != "slackbot" else "757575",
                    "real_name": u.real_name,
                    "tz": tz[0],
                    "tz_label": tz[1],
                    "tz_offset": tz[2],
                    "profile": profile,
                    "is_admin": u.is_admin,
                    "is_owner": u.is_owner,
                    "is_primary_owner": u.is_primary_owner,
                    "is_restricted": u.is_restricted,
                    "is_ultra_restricted": u.is_ultra_restricted,
                    "is_bot": u.is_bot,
                    "is_app_user": False,
                    "updated": u.updated,
                    "is_email_confirmed": bool(u.email) and not u.is_invited,
                    "who_can_share_contact_card": "EVERYONE",
                }
            )
            if u.role == "slackbot" and self.config.recorded_variants:
                m["tz"] = None  # as recorded for Slackbot; tz_label and tz_offset stay
            if u.is_invited:
                m["is_invited_user"] = True
            if u.role != "slackbot" and not u.is_bot:
                m["has_2fa"] = u.has_2fa
                if u.has_2fa:
                    m["two_factor_type"] = u.two_factor_type
        if self.enterprise is not None:
            m["enterprise_user"] = {
                "id": u.id,
                "enterprise_id": self.enterprise.id,
                "enterprise_name": self.enterprise.name,
                "is_admin": u.is_admin,
                "is_owner": u.is_owner,
                "is_primary_owner": u.is_primary_owner,
                "teams": list(u.team_ids),
            }
        if include_locale:
            m["locale"] = u.locale
        return m

    def member_indices(self, team_id: str | None = None) -> Iterator[int]:
        """Indices of the members of ``users.list`` for a team (None = every member)."""
        for i in range(self.user_count):
            if self.in_team(i, team_id):
                yield i

    def members(
        self, team_id: str | None = None, *, with_email: bool = True
    ) -> list[dict[str, Any]]:
        """Every member ``users.list`` returns (for one team on a multi-workspace org)."""
        return [
            self.member(i, with_email=with_email, team_id=team_id)
            for i in self.member_indices(team_id)
        ]

    def team_member_count(self, team_id: str | None) -> int:
        """Number of members ``users.list`` returns for a team."""
        if team_id is None or len(self.teams) == 1:
            return self.user_count
        cached = self._team_member_counts.get(team_id)
        if cached is None:
            cached = sum(1 for _ in self.member_indices(team_id))
            self._team_member_counts[team_id] = cached
        return cached
