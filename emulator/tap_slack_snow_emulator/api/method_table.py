"""The scope and rate allowance of every emulated method.

``allowance`` is the number of calls per minute before ``ratelimited`` (Slack's rate tiers:
Tier 2 = 20, Tier 3 = 50, Tier 4 = 100; ``auth.test`` and ``oauth.v2.access`` are far more
generous). ``user_only`` methods refuse bot tokens; ``admin`` methods refuse non-admin users.
``org_wide`` methods are org-level on Enterprise Grid: one rate-limit bucket for the org, whatever
``team_id`` names (the others count per workspace, see :mod:`..faults`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MethodSpec:
    """Static facts about a method."""

    scope: str | None
    allowance: int
    user_only: bool = False
    admin: bool = False
    org_wide: bool = False


METHODS: dict[str, MethodSpec] = {
    "auth.test": MethodSpec(None, 600),
    "auth.teams.list": MethodSpec(None, 20, org_wide=True),
    "oauth.v2.access": MethodSpec(None, 600),
    "users.list": MethodSpec("users:read", 20),
    "users.info": MethodSpec("users:read", 100),
    "users.getPresence": MethodSpec("users:read", 50),
    "team.info": MethodSpec("team:read", 50),
    "team.billing.info": MethodSpec("team.billing:read", 50),
    "team.billableInfo": MethodSpec("admin", 20, user_only=True, admin=True),
    "team.accessLogs": MethodSpec("admin", 20, user_only=True, admin=True),
    "team.integrationLogs": MethodSpec("admin", 20, user_only=True, admin=True),
    "admin.users.list": MethodSpec(
        "admin.users:read", 100, user_only=True, admin=True, org_wide=True
    ),
    "admin.analytics.getFile": MethodSpec(
        "admin.analytics:read", 20, user_only=True, admin=True, org_wide=True
    ),
    "bookmarks.list": MethodSpec("bookmarks:read", 50),
}
