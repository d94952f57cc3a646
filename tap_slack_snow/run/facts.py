"""What the token is: its identity (``auth.test``, once per run), the edition and org level.

Read on first use, never while building the run, so ``--about`` and ``--discover`` never reach
Slack.
"""

from __future__ import annotations

import threading
import typing as t
from dataclasses import dataclass, field

from tap_slack_snow.errors import TapSlackError
from tap_slack_snow.text import printable

if t.TYPE_CHECKING:
    from tap_slack_snow.settings import Settings
    from tap_slack_snow.slack.client import SlackClient


@dataclass
class SlackIdentity:
    """Who the token belongs to (auth.test) and what it may do (x-oauth-scopes)."""

    team_id: str | None
    user_id: str | None
    enterprise_id: str | None
    is_enterprise_install: bool
    scopes: frozenset[str] = field(default_factory=frozenset)
    #: The team's name, printable (it is only ever shown).
    team_name: str | None = None


def str_or_none(value: t.Any) -> str | None:
    """``value`` when it is a non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def read_identity(client: SlackClient) -> SlackIdentity:
    """One ``auth.test`` call: the token's team, user, enterprise and granted scopes."""
    answer = client.call("auth.test")
    payload = answer.payload
    header = answer.response.headers.get("x-oauth-scopes", "")
    scopes = frozenset(s.strip() for s in header.split(",") if s.strip())
    return SlackIdentity(
        team_id=str_or_none(payload.get("team_id")),
        user_id=str_or_none(payload.get("user_id")),
        enterprise_id=str_or_none(payload.get("enterprise_id")),
        is_enterprise_install=bool(payload.get("is_enterprise_install")),
        scopes=scopes,
        team_name=printable(payload["team"]) if str_or_none(payload.get("team")) else None,
    )


class RunFacts:
    """The token's identity and what follows from it with the settings: the edition, the
    org level, and which team records belong to."""

    def __init__(self, settings: Settings, client: t.Callable[[], SlackClient]) -> None:
        """``client`` gives the run's authenticated client (built on first use)."""
        self.settings = settings
        self._client = client
        self._lock = threading.Lock()
        self._identity: SlackIdentity | None = None
        self._plan_lock = threading.Lock()  # the plan's read takes the identity's lock
        self._plan_read = False
        self._plan: str | None = None

    @property
    def identity(self) -> SlackIdentity:
        """auth.test, once per run: team, user, enterprise and granted scopes."""
        with self._lock:
            if self._identity is None:
                self._identity = read_identity(self._client())
            return self._identity

    @property
    def plan(self) -> str | None:
        """The plan key (team.billing.info, read once on first use; ``free`` for Slack's
        ``""``); ``enterprise`` on Enterprise Grid without a call; None when unknown (the
        billing scope is not granted, or the call failed)."""
        if self.edition == "enterprise":
            return "enterprise"
        with self._plan_lock:
            if not self._plan_read:
                self._plan_read = True
                self._plan = self._read_plan()
            return self._plan

    def _read_plan(self) -> str | None:
        granted = self.identity.scopes
        if granted and "team.billing:read" not in granted:
            return None
        try:
            plan = self._client().call("team.billing.info").payload.get("plan")
        except TapSlackError:
            return None
        return (plan or "free") if isinstance(plan, str) else None

    @property
    def edition(self) -> str:
        """``enterprise`` or ``standard``: forced by the edition setting, else detected."""
        setting = self.settings.edition
        if setting in {"enterprise", "standard"}:
            return setting
        identity = self.identity
        org = identity.enterprise_id or identity.is_enterprise_install
        return "enterprise" if org else "standard"

    @property
    def org_level(self) -> bool:
        """The token is org-level (Grid app installed on the whole org)."""
        return self.identity.is_enterprise_install

    @property
    def org_id(self) -> str | None:
        """The org an org-level token belongs to (its records' ``team_id``)."""
        return self.identity.enterprise_id or self.identity.team_id

    @property
    def record_team_id(self) -> str | None:
        """The team records of org-wide reads belong to: the org for an org-level token;
        a workspace-level token: ``team_id`` if set, else the token's team."""
        if self.org_level:
            return self.org_id
        if self.team_id_mismatch():
            # A workspace-level token reads its own workspace whatever team_id says.
            return self.identity.team_id
        return self.settings.team_id or self.identity.team_id

    def team_id_mismatch(self) -> str | None:
        """The warning when ``team_id`` is not the workspace of a workspace-level token."""
        team_id = self.settings.team_id
        identity = self.identity
        if (
            not team_id
            or identity.is_enterprise_install
            or not identity.team_id
            or identity.team_id == team_id
        ):
            return None
        token_team = printable(identity.team_id)
        return (
            f"team_id {team_id} is not the token's workspace {token_team}, and a "
            f"workspace-level token reads only its own workspace, so records carry "
            f"{token_team}: remove team_id, or authorise the app in {team_id} (on "
            "Enterprise Grid: install it on the org for an org-level token)"
        )
