"""``bookmarks.list``, the one method the bot token (scope ``bookmarks:read``) is for."""

from __future__ import annotations

from .._det import hex_id
from .arguments import Call, arg_str
from .method_family import MethodFamily
from .replies import ApiError, Reply


class BookmarkMethods(MethodFamily):
    """Two fixed bookmarks in any channel."""

    def bookmarks_list(self, call: Call) -> Reply:
        """``bookmarks.list``."""
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
