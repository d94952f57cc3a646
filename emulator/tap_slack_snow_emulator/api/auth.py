"""``auth.test`` and ``oauth.v2.access`` (the token exchange itself lives in :mod:`..oauth`).

``auth.test`` with an org-level token answers ``team_id`` = ``enterprise_id`` = the org id,
``team`` = the org name and ``is_enterprise_install: true``. ``auth.teams.list`` lists the
org's workspaces for an org-level token (those in ``denied_workspaces`` included: the app is
approved there, the token still gets ``team_access_not_granted``).
"""

from __future__ import annotations

from typing import Any

from .._det import decode_cursor, encode_cursor, hex_id
from ..oauth import OAuthError
from .arguments import Call, arg_int, arg_str
from .method_family import MethodFamily
from .replies import ApiError, Reply


class AuthMethods(MethodFamily):
    """Who a token belongs to, and the OAuth token exchange."""

    def auth_test(self, call: Call) -> Reply:
        """``auth.test``."""
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

    def auth_teams_list(self, call: Call) -> Reply:
        """``auth.teams.list``: the workspaces an org-wide app is approved for (no scope;
        cursor pages, ``limit`` 1-1000, default 100); a workspace-level token sees its own
        workspace."""
        ws = self.ws
        grant = call.token.grant
        teams = ws.teams if grant.org_level else [ws.team(grant.team_id or "") or ws.primary_team]
        limit = arg_int(call.args, "limit", 100)
        if not 1 <= limit <= 1000:
            raise ApiError("invalid_limit")
        start = 0
        cursor = arg_str(call.args, "cursor")
        if cursor is not None:
            fields = decode_cursor(cursor, "teams")
            if not fields or not fields[0].isdigit() or int(fields[0]) >= len(teams):
                raise ApiError("invalid_cursor")
            start = int(fields[0])
        chunk = teams[start : start + limit]
        end = start + len(chunk)
        return Reply(
            payload={
                "ok": True,
                "teams": [{"id": team.id, "name": team.name} for team in chunk],
                "response_metadata": {
                    "next_cursor": encode_cursor("teams", end) if end < len(teams) else ""
                },
            }
        )

    def oauth_v2_access(self, args: dict[str, Any], authorization: str | None) -> Reply:
        """``oauth.v2.access``."""
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
