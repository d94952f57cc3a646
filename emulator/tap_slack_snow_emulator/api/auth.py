"""``auth.test`` and ``oauth.v2.access`` (the token exchange itself lives in :mod:`..oauth`).

``auth.test`` with an org-level token answers ``team_id`` = ``enterprise_id`` = the org id,
``team`` = the org name and ``is_enterprise_install: true``.
"""

from __future__ import annotations

from typing import Any

from .._det import hex_id
from ..oauth import OAuthError
from .arguments import Call, arg_str
from .method_family import MethodFamily
from .replies import Reply


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
