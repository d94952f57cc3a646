"""What every method family shares: the emulator's state and the team and cursor rules.

Org-level tokens (an Enterprise Grid org-wide install) must name the workspace with
``team_id`` on the methods that ask for it (``missing_argument`` otherwise; an unknown team
gives the method's own error). Workspace-level tokens ignore ``team_id`` and see their own
workspace.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._det import decode_cursor
from .arguments import Call, arg_str
from .replies import ApiError

if TYPE_CHECKING:
    from ..analytics import AnalyticsFiles
    from ..data import Workspace
    from ..oauth import TokenStore


class MethodFamily:
    """Base of the method families; :class:`.pipeline.Api` sets these attributes."""

    ws: Workspace
    tokens: TokenStore
    files: AnalyticsFiles

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
            if ws.is_denied(team_id):
                raise ApiError("team_access_not_granted")
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
