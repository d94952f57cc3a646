"""Configuration of an emulated Slack workspace, scope lists and the emulator clock.

Scope lists are those of the Snow Atlas "Prepare Slack connector" page: an Enterprise Grid
install asks for seven user scopes, every other edition for three, and the bot scope is
always ``bookmarks:read``. Plan keys are the ``plan`` values ``team.billing.info`` answers.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

ENTERPRISE_USER_SCOPES: list[str] = [
    "admin",
    "users:read",
    "team:read",
    "users:read.email",
    "admin.users:read",
    "admin.analytics:read",
    "team.billing:read",
]
"""User scopes Snow Atlas requests for Enterprise Grid."""

STANDARD_USER_SCOPES: list[str] = ["admin", "users:read", "team.billing:read"]
"""User scopes Snow Atlas requests for Free, Pro, Business+ and Compliance."""

BOT_SCOPES: list[str] = ["bookmarks:read"]
"""Bot scope Snow Atlas requests on every edition."""

PLANS: tuple[str, ...] = ("free", "std", "plus", "enterprise", "compliance")
"""``team.billing.info`` plan keys."""


@dataclass(frozen=True)
class WorkspaceConfig:
    """What the emulated Slack organisation looks like.

    Every generated value is a pure function of these fields, so two emulators built from
    equal configs (with ``now`` fixed) serve byte-identical data. With ``now=None`` the data
    is anchored at the real time the emulator was built, so timestamps differ between runs
    while everything else stays equal. ``short_pages=True`` makes every other ``users.list``
    page shorter than ``limit`` and every sixth page empty (with a non-empty ``next_cursor``).

    ``recorded_variants=True`` (the default) serves the shapes real Slack is recorded to send
    besides the documented ones: ``team.integrationLogs`` gives about half the services'
    ``service_id`` as a number instead of a string (Slack's method page shows both in one
    answer); a member's ``profile.fields`` is ``[]`` or ``{}`` when the member has no custom
    field (``null`` for deactivated members); Slackbot has ``tz`` and ``profile.email`` null.
    ``False`` serves only the documented shapes.
    ``denied_workspaces`` are indices of workspaces that ``auth.teams.list`` lists but whose
    workspace-level methods refuse an org-level token with ``team_access_not_granted``.
    """

    seed: int = 1
    users: int = 250
    plan: str = "plus"
    enterprise: bool = False
    workspaces: int = 1
    access_logs: int = 2500
    access_log_tie_size: int = 0
    integration_logs: int = 120
    analytics_rows_per_day: int | None = None
    analytics_lag_days: int = 2
    now: float | None = None
    short_pages: bool = False
    recorded_variants: bool = True
    denied_workspaces: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.plan not in PLANS:
            raise ValueError(f"plan must be one of {PLANS}, not {self.plan!r}")
        if self.users < 1:
            raise ValueError("users must be >= 1 (USLACKBOT is member #0)")
        if self.workspaces < 1:
            raise ValueError("workspaces must be >= 1")
        if self.workspaces > 1 and not self.enterprise:
            raise ValueError("workspaces > 1 needs enterprise=True")
        if any(not 0 <= k < self.workspaces for k in self.denied_workspaces):
            raise ValueError("denied_workspaces are workspace indices below workspaces")
        if self.denied_workspaces and not self.enterprise:
            raise ValueError("denied_workspaces needs enterprise=True")
        if self.access_logs < 0 or self.integration_logs < 0:
            raise ValueError("log sizes must be >= 0")
        if self.access_logs >= 1 << 28:
            raise ValueError("access_logs must be < 2**28")
        if self.access_log_tie_size < 0:
            raise ValueError("access_log_tie_size must be >= 0")
        if self.analytics_rows_per_day is not None and self.analytics_rows_per_day < 0:
            raise ValueError("analytics_rows_per_day must be >= 0")
        if self.analytics_lag_days < 1:
            raise ValueError("analytics_lag_days must be >= 1 (today is never published)")

    @property
    def default_user_scopes(self) -> list[str]:
        """The Snow Atlas user-scope list for this edition."""
        return list(ENTERPRISE_USER_SCOPES if self.enterprise else STANDARD_USER_SCOPES)


class Clock:
    """The emulator's notion of "now" (Unix seconds).

    With a fixed ``now`` the clock stands still and moves only through :meth:`advance`;
    otherwise it follows real time plus the advanced offset. Token expiry, the refresh-token
    grace window, auth-code lifetime and the analytics "today" all read this clock. Rate-limit
    windows use real (monotonic) time instead, because they model request pacing.
    """

    def __init__(self, fixed_now: float | None) -> None:
        self._fixed = fixed_now
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """Current emulator time."""
        with self._lock:
            base = self._fixed if self._fixed is not None else time.time()
            return base + self._offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward (negative values move it back)."""
        with self._lock:
            self._offset += seconds
