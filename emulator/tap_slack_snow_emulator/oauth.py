"""OAuth v2 tokens, token rotation and ``oauth.v2.access``.

* Access tokens: static ``xoxp-…`` / ``xoxb-…`` (never expire) or rotating
  ``xoxe.xoxp-…`` / ``xoxe.xoxb-…`` that expire ``access_token_ttl`` seconds of emulator clock
  after issue (``token_expired``). :meth:`TokenStore.expire_all` expires every token issued so
  far, static ones included.
* Refresh tokens ``xoxe-1-…`` belong to a *chain*. A ``refresh_token`` grant with the chain's
  current refresh token rotates it: a new access token and a new refresh token are issued, the
  old refresh token stays usable for ``refresh_grace_seconds`` (emulator clock, strictly less
  than) and, if replayed inside that window, answers the very same new pair again. After the
  window it answers ``invalid_refresh_token``. Every chain keeps at most its two newest access
  tokens alive; older ones answer ``token_revoked`` (Slack's 2-active-token rule).
* Authorization codes (``grant_type=authorization_code``) are one-time, live 10 minutes,
  remember their ``redirect_uri`` and answer the "with token rotation" shape, with a rotating
  bot token (scope ``bookmarks:read``) at the top level and the user token + refresh token in
  ``authed_user``.
* Org-level (Enterprise Grid org-wide) installs answer ``"team": null``,
  ``"is_enterprise_install": true`` and the ``enterprise`` object.

Every token is ``secrets.token_hex`` randomness: nothing can be derived from the seed.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .config import BOT_SCOPES

if TYPE_CHECKING:
    from .data import Workspace

CODE_TTL = 600.0


class OAuthError(Exception):
    """An ``oauth.v2.access`` failure (``error`` is the Slack error code)."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass(frozen=True)
class Grant:
    """Who a token acts for and what it may do."""

    user_index: int
    team_id: str | None  # None for org-level installs
    scopes: tuple[str, ...]
    org_level: bool
    user_is_admin: bool
    bot: bool


@dataclass
class AccessToken:
    """One issued access token."""

    token: str
    grant: Grant
    expires_at: float | None
    rotating: bool
    revoked: bool = False
    forced_expired: bool = False


@dataclass
class Chain:
    """A refresh-token rotation chain."""

    grant: Grant
    current: str
    access: list[str] = field(default_factory=list)
    # old refresh token -> (time it was rotated away, response it produced)
    retired: dict[str, tuple[float, dict[str, Any]]] = field(default_factory=dict)


@dataclass
class AuthCode:
    """A one-time authorization code."""

    grant: Grant
    redirect_uri: str | None
    expires_at: float
    used: bool = False


class TokenStore:
    """All tokens of the emulated app (thread-safe)."""

    def __init__(self, ws: Workspace, access_token_ttl: int = 43200) -> None:
        self.ws = ws
        self.access_token_ttl = access_token_ttl
        self.refresh_grace_seconds = 30.0
        self.client_id = ws.client_id
        self.client_secret = secrets.token_hex(16)
        self.refreshes = 0
        self._lock = threading.RLock()
        self._access: dict[str, AccessToken] = {}
        self._chains: dict[str, Chain] = {}  # any refresh token of the chain -> chain
        self._codes: dict[str, AuthCode] = {}

    # ------------------------------------------------------------------ grants
    def make_grant(
        self,
        scopes: list[str] | tuple[str, ...] | None,
        *,
        org_level: bool,
        user_is_admin: bool,
        bot: bool = False,
        team_id: str | None = None,
    ) -> Grant:
        """Validate the arguments of the ``issue_*`` helpers and build a grant."""
        ws = self.ws
        if org_level and ws.enterprise is None:
            raise ValueError("org_level tokens need an Enterprise Grid workspace (enterprise=True)")
        if scopes is None:
            scopes = BOT_SCOPES if bot else ws.config.default_user_scopes
        if team_id is not None and ws.team(team_id) is None:
            raise ValueError(f"unknown team_id {team_id!r}")
        team = None if org_level else (team_id or ws.primary_team.id)
        if bot:
            user = 3 if ws.user_count > 3 else 0
        elif user_is_admin:
            user = 1 if ws.user_count > 1 else 0
        else:
            user = next(
                (i for i in range(9, ws.user_count) if ws.role(i) == "member"),
                2 if ws.user_count > 2 else 0,
            )
        return Grant(
            user_index=user,
            team_id=team,
            scopes=tuple(scopes),
            org_level=org_level,
            user_is_admin=user_is_admin and not bot,
            bot=bot,
        )

    # ------------------------------------------------------------------ issuing
    def _new_access(self, grant: Grant, *, rotating: bool) -> AccessToken:
        kind = "xoxb" if grant.bot else "xoxp"
        if rotating:
            token = f"xoxe.{kind}-1-{secrets.token_hex(24)}"
            expires: float | None = self.ws.clock.now() + self.access_token_ttl
        else:
            token = f"{kind}-{secrets.token_hex(24)}"
            expires = None
        at = AccessToken(token=token, grant=grant, expires_at=expires, rotating=rotating)
        self._access[token] = at
        return at

    def issue_access_token(self, grant: Grant, *, rotating: bool = False) -> str:
        """A static (or, with ``rotating``, expiring) access token."""
        with self._lock:
            return self._new_access(grant, rotating=rotating).token

    def issue_refresh_token(self, grant: Grant) -> str:
        """A fresh chain with only a refresh token."""
        with self._lock:
            token = f"xoxe-1-{secrets.token_hex(32)}"
            self._chains[token] = Chain(grant=grant, current=token)
            return token

    def issue_auth_code(self, grant: Grant, redirect_uri: str | None) -> str:
        """A one-time authorization code valid for 10 minutes of emulator clock."""
        with self._lock:
            code = f"{secrets.randbelow(10**12)}.{secrets.token_hex(20)}"
            self._codes[code] = AuthCode(
                grant=grant, redirect_uri=redirect_uri, expires_at=self.ws.clock.now() + CODE_TTL
            )
            return code

    def expire_all(self) -> None:
        """Every access token issued so far answers ``token_expired`` from now on."""
        with self._lock:
            for at in self._access.values():
                at.forced_expired = True

    # ------------------------------------------------------------------ checking
    def lookup(self, token: str) -> tuple[AccessToken | None, str | None]:
        """The token and the error it produces (``invalid_auth``, ``token_revoked``,
        ``token_expired``) or None when usable."""
        with self._lock:
            at = self._access.get(token)
            if at is None:
                return None, "invalid_auth"
            if at.revoked:
                return at, "token_revoked"
            if at.forced_expired or (
                at.expires_at is not None and self.ws.clock.now() >= at.expires_at
            ):
                return at, "token_expired"
            return at, None

    def expires_in(self, at: AccessToken) -> int | None:
        """Seconds until a rotating token expires."""
        if at.expires_at is None:
            return None
        return max(0, int(at.expires_at - self.ws.clock.now()))

    # ------------------------------------------------------------------ oauth.v2.access
    def check_client(self, args: dict[str, Any], authorization: str | None) -> None:
        """Validate client credentials from HTTP Basic auth or form fields."""
        client_id = args.get("client_id")
        client_secret = args.get("client_secret")
        if authorization and authorization.startswith("Basic "):
            try:
                raw = base64.b64decode(authorization[6:].strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError, ValueError):
                raise OAuthError("invalid_client_id") from None
            client_id, _, client_secret = raw.partition(":")
        if not client_id or str(client_id) != self.client_id:
            raise OAuthError("invalid_client_id")
        if not client_secret or not secrets.compare_digest(str(client_secret), self.client_secret):
            raise OAuthError("bad_client_secret")

    def _team_objects(self, grant: Grant) -> dict[str, Any]:
        ws = self.ws
        team: dict[str, str] | None = None
        if grant.team_id is not None:
            t = ws.team(grant.team_id)
            assert t is not None
            team = {"id": t.id, "name": t.name}
        enterprise = (
            None if ws.enterprise is None else {"id": ws.enterprise.id, "name": ws.enterprise.name}
        )
        return {"team": team, "enterprise": enterprise, "is_enterprise_install": grant.org_level}

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        """A ``grant_type=refresh_token`` exchange."""
        with self._lock:
            chain = self._chains.get(refresh_token)
            if chain is None:
                raise OAuthError("invalid_refresh_token")
            now = self.ws.clock.now()
            if refresh_token != chain.current:
                retired = chain.retired.get(refresh_token)
                if retired is None or now - retired[0] >= self.refresh_grace_seconds:
                    raise OAuthError("invalid_refresh_token")
                self.refreshes += 1
                return dict(retired[1])
            grant = chain.grant
            at = self._new_access(grant, rotating=True)
            chain.access.append(at.token)
            while len(chain.access) > 2:
                old = self._access.get(chain.access.pop(0))
                if old is not None:
                    old.revoked = True
            new_refresh = f"xoxe-1-{secrets.token_hex(32)}"
            chain.current = new_refresh
            self._chains[new_refresh] = chain
            body: dict[str, Any] = {
                "ok": True,
                "app_id": self.ws.app_id,
                "scope": ",".join(grant.scopes),
                "token_type": "bot" if grant.bot else "user",
                "access_token": at.token,
                "expires_in": self.access_token_ttl,
                "refresh_token": new_refresh,
            }
            if grant.bot:
                body["bot_user_id"] = self.ws.user_id(grant.user_index)
            else:
                body["user_id"] = self.ws.user_id(grant.user_index)
            body.update(self._team_objects(grant))
            chain.retired[refresh_token] = (now, body)
            self.refreshes += 1
            return dict(body)

    def exchange_code(self, code: str, redirect_uri: str | None) -> dict[str, Any]:
        """A ``grant_type=authorization_code`` exchange (rotation enabled)."""
        with self._lock:
            entry = self._codes.get(code)
            if entry is None or entry.used or self.ws.clock.now() >= entry.expires_at:
                raise OAuthError("invalid_code")
            if entry.redirect_uri is not None and redirect_uri != entry.redirect_uri:
                raise OAuthError("bad_redirect_uri")
            entry.used = True
            grant = entry.grant
            user_at = self._new_access(grant, rotating=True)
            user_refresh = self.issue_refresh_token(grant)
            self._chains[user_refresh].access.append(user_at.token)
            bot_grant = Grant(
                user_index=3 if self.ws.user_count > 3 else 0,
                team_id=grant.team_id,
                scopes=tuple(BOT_SCOPES),
                org_level=grant.org_level,
                user_is_admin=False,
                bot=True,
            )
            bot_at = self._new_access(bot_grant, rotating=True)
            bot_refresh = self.issue_refresh_token(bot_grant)
            self._chains[bot_refresh].access.append(bot_at.token)
            body: dict[str, Any] = {
                "ok": True,
                "access_token": bot_at.token,
                "token_type": "bot",
                "scope": ",".join(BOT_SCOPES),
                "bot_user_id": self.ws.user_id(bot_grant.user_index),
                "app_id": self.ws.app_id,
                "expires_in": self.access_token_ttl,
                "refresh_token": bot_refresh,
            }
            body.update(self._team_objects(grant))
            body["authed_user"] = {
                "id": self.ws.user_id(grant.user_index),
                "scope": ",".join(grant.scopes),
                "access_token": user_at.token,
                "expires_in": self.access_token_ttl,
                "refresh_token": user_refresh,
                "token_type": "user",
            }
            return body
