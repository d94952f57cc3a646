"""What Slack granted: the one reading of an ``oauth.v2.access`` answer.

Both grants answer in the same shape, with the user token in one of two places:

- the code exchange (``tap-slack-snow-auth exchange``) nests the user token under
  ``authed_user``; a flat ``access_token`` there is the *bot* token and is never taken. An
  answer without a refresh token means the app does not rotate tokens: the user token then
  never expires;
- the refresh (``grant_type=refresh_token``, the tap's :class:`RotatingTokenProvider`)
  answers flat for a user token; some answers nest it under ``authed_user`` as the code
  exchange does, and then the nested one is taken. A refresh must hand out a new refresh
  token: the old one is spent.

Every token read is registered with the log redactor before anyone can log it. Error
messages name the missing field, never a value.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

from tap_slack_snow.auth.store import StoredTokens, fingerprint
from tap_slack_snow.errors import TapSlackError
from tap_slack_snow.redact import SecretRedactor
from tap_slack_snow.text import printable

#: Slack documents ``expires_in`` as always 43200 s; used if an answer omits it.
DEFAULT_EXPIRES_IN = 43200

#: ``"code"``: the exchange of an authorisation code; ``"refresh"``: a refresh-token grant.
GrantType = t.Literal["code", "refresh"]

NO_USER_TOKEN = (
    "Slack granted no user token (authed_user.access_token): the authorize URL must ask for "
    "user scopes; use the URL authorize-url prints"
)
NO_NEW_REFRESH_TOKEN = (
    "oauth.v2.access answered without a new refresh_token: turn on token rotation for the "
    "app, or use the access_token setting"
)


@dataclass(frozen=True)
class Named:
    """A Slack team or enterprise of the answer: its id, and its name when given."""

    id: str
    name: str | None = None

    @property
    def label(self) -> str:
        """``Name (ID)``, or the id alone (printable: both come from Slack)."""
        shown = printable(self.id)
        return f"{printable(self.name)} ({shown})" if self.name else shown


@dataclass(frozen=True)
class Grant:
    """The user token chain Slack handed out, and what it was granted for."""

    access_token: str = field(repr=False)
    #: None: the app does not rotate tokens (a code exchange only; a refresh always has one).
    refresh_token: str | None = field(repr=False)
    expires_in: float  # seconds; DEFAULT_EXPIRES_IN when the answer gave none usable
    expires_at: float  # Unix time: when the request was sent + expires_in
    user_id: str | None = None  # authed_user.id of a code exchange
    user_scopes: tuple[str, ...] = ()  # sorted
    bot_scopes: str | None = None  # as Slack spelled them (comma-separated)
    team: Named | None = None
    enterprise: Named | None = None
    is_enterprise_install: bool = False

    def chain(self, *, updated_at: float, origin: str | None = None) -> StoredTokens:
        """The token store's chain of this grant.

        ``origin`` is the fingerprint of the configured refresh token the chain descends
        from; by default this grant's own refresh token (a chain just started by a code
        exchange, whose refresh token the user then configures).
        """
        if self.refresh_token is None:
            raise TapSlackError(NO_NEW_REFRESH_TOKEN)
        return StoredTokens(
            origin=origin if origin is not None else fingerprint(self.refresh_token),
            refresh_token=self.refresh_token,
            access_token=self.access_token,
            expires_at=self.expires_at,
            updated_at=updated_at,
        )


def parse_grant(payload: dict[str, t.Any], *, sent_at: float, grant_type: GrantType) -> Grant:
    """Read an ``ok`` answer of oauth.v2.access sent at ``sent_at`` (Unix time).

    Raises TapSlackError, one line naming what is missing, when the answer holds no user
    token, or (a refresh) no new refresh token.
    """
    source = _user_token_object(payload, grant_type)
    access_token = _text(source.get("access_token"))
    if access_token is None:
        raise TapSlackError(NO_USER_TOKEN)
    refresh_token = _text(source.get("refresh_token"))
    if refresh_token is None and grant_type == "refresh":
        raise TapSlackError(NO_NEW_REFRESH_TOKEN)
    SecretRedactor.add(access_token, refresh_token)
    expires_in = source.get("expires_in")
    if not isinstance(expires_in, int | float) or expires_in <= 0:
        expires_in = DEFAULT_EXPIRES_IN
    return Grant(
        access_token=access_token,
        refresh_token=refresh_token,
        expires_in=float(expires_in),
        expires_at=sent_at + float(expires_in),
        user_id=_text(source.get("id")),
        user_scopes=tuple(sorted(s for s in str(source.get("scope") or "").split(",") if s)),
        bot_scopes=_text(payload.get("scope")) if source is not payload else None,
        team=_named(payload.get("team")),
        enterprise=_named(payload.get("enterprise")),
        is_enterprise_install=bool(payload.get("is_enterprise_install")),
    )


def _user_token_object(payload: dict[str, t.Any], grant_type: GrantType) -> dict[str, t.Any]:
    """Where the user token is: ``authed_user``, or (a refresh) the answer itself."""
    nested = payload.get("authed_user")
    if grant_type == "code":
        return nested if isinstance(nested, dict) else {}
    return nested if isinstance(nested, dict) and nested.get("access_token") else payload


def _named(obj: t.Any) -> Named | None:
    if not isinstance(obj, dict) or not obj.get("id"):
        return None
    return Named(id=str(obj["id"]), name=_text(obj.get("name")))


def _text(value: t.Any) -> str | None:
    """``value`` when it is a non-empty string, else None."""
    return value if isinstance(value, str) and value else None
