"""What several sections share: the tap's streams and Slack's tiers, the records and requests
a workspace must give, a fresh token per run, the member_analytics set-up, and Slack's
fixed-window arithmetic.
"""

from __future__ import annotations

import datetime as dt
import math
import time
import typing as t
from pathlib import Path

from benchmarks.harness import EmulatorProcess
from tap_slack_snow.streams import STREAM_TYPES
from tap_slack_snow_emulator.api import METHODS
from tap_slack_snow_emulator.config import ENTERPRISE_USER_SCOPES, WorkspaceConfig

#: Stream -> Slack method (the tap's streams, in STREAM_TYPES order).
STREAM_METHODS = {stream.name: stream.slack_method for stream in STREAM_TYPES}
#: The name the emulator counts a stream's requests under, where it is not the method's.
EMULATOR_METHODS = {**STREAM_METHODS, "scim_users": "scim.Users"}


#: Slack's real per-minute allowance of each method (Tier 2: 20, Tier 3: 50, Tier 4: 100).
TIER = {method: spec.allowance for method, spec in METHODS.items()}


INFO = {"LOGLEVEL": "INFO"}


def today_utc() -> dt.date:
    """Today (UTC), as the tap and the emulator see it."""
    return dt.datetime.now(tz=dt.timezone.utc).date()


def analytics_days(start: str, lag: int) -> int:
    """Published days the tap fetches from ``start`` (clamped to 13 months)."""
    from tap_slack_snow.streams.analytics import months_before  # noqa: PLC0415

    today = today_utc()
    first = max(dt.date.fromisoformat(start[:10]), months_before(today, 13))
    last = today - dt.timedelta(days=lag)
    return max(0, (last - first).days + 1)


def expected(emu: EmulatorProcess, start: str) -> dict[str, tuple[int, int, str]]:
    """Per stream: (records, minimum requests, how the minimum is counted)."""
    ws = emu.local_workspace()
    cfg = emu.workspace
    team = emu.config.get("team_id")
    bound = int(dt.datetime.fromisoformat(start.replace("Z", "+00:00")).timestamp())
    members = ws.team_member_count(team)
    billable = sum(
        1 for i in range(ws.user_count) if ws.is_billable_candidate(i) and ws.in_team(i, team)
    )
    active = sum(map(ws.admin_keep(team, True), range(ws.user_count)))
    inactive = sum(map(ws.admin_keep(team, False), range(ws.user_count)))
    access = ws.access.first_at_or_before(bound - 1)
    integration = sum(
        1 for e in ws.integration_log_entries(team_id=team) if int(e["date"]) >= bound
    )
    days = analytics_days(start, cfg.analytics_lag_days)
    rows = cfg.analytics_rows_per_day if cfg.analytics_rows_per_day is not None else cfg.users

    def pages(n: int, size: int, more_after: bool = False) -> int:
        # reading stops at the first entry older than start_date: it must be seen
        return max(1, math.ceil((n + (1 if more_after else 0)) / size))

    return {
        "users": (members, pages(members, 1000), "members / 1000"),
        # an org-level token reads the workspace and the org itself (team.info each)
        "team": (2, 2, "the workspace and the org") if cfg.enterprise else (1, 1, "one call"),
        "billing": (1, 1, "one call"),
        "billable_info": (billable, pages(billable, 1000), "billable members / 1000"),
        "access_logs": (
            access,
            pages(access, 1000, access < ws.access.n),
            "entries / 1000 (+1 page to see the first entry older than start_date)",
        ),
        "integration_logs": (
            integration,
            pages(integration, 1000, integration < cfg.integration_logs),
            "entries / 1000",
        ),
        "admin_users": (
            active + inactive,
            pages(active, 100) + pages(inactive, 100),
            "active / 100 + deactivated / 100 (Slack's maximum page is 100)",
        ),
        "member_analytics": (
            days * rows,
            days + 1,
            "one file per published day + the answer that says the next is not yet published",
        ),
        "scim_users": (
            len(ws.scim_indices()),
            pages(len(ws.scim_indices()), 1000),
            "SCIM users / 1000 (the people of users.list, no bots; count 1000)",
        ),
    }


def fresh_config(emu: EmulatorProcess, folder: Path) -> dict[str, t.Any]:
    """The emulator's config with a new refresh token and token store (one per tap run)."""
    token = emu.control(
        "issue-refresh-token", {"org_level": True, "scopes": ENTERPRISE_USER_SCOPES}
    )["refresh_token"]
    return {
        **emu.config,
        "refresh_token": token,
        "token_store_path": str(folder / f"t-{time.monotonic_ns()}.json"),
    }


def analytics_workspace(rows_per_day: int, lag: int) -> WorkspaceConfig:
    """The Grid org of the analytics benchmarks: ``rows_per_day`` rows, published ``lag``
    days late."""
    return WorkspaceConfig(
        seed=5,
        users=1_000,
        plan="enterprise",
        enterprise=True,
        analytics_rows_per_day=rows_per_day,
        analytics_lag_days=lag,
        now=float(int(time.time())),
    )


def batch_settings(root: Path, prefix: str) -> dict[str, t.Any]:
    """The tap's ``batch_config``: gzip JSON Lines files in ``root`` (made here)."""
    root.mkdir(parents=True, exist_ok=True)
    return {
        "batch_config": {
            "encoding": {"format": "jsonl", "compression": "gzip"},
            "storage": {"root": root.as_uri(), "prefix": prefix},
        }
    }


def warm_analytics(emu: EmulatorProcess, day: str) -> None:
    """Download the day's file once so the emulator serves the tap from its cache.

    Streamed and discarded: ``.content`` would hold the file twice here (+38 MiB for 500,000
    rows), and this process's memory must stay out of the tap's figures.
    """
    token = emu.control(
        "issue-access-token", {"org_level": True, "scopes": ENTERPRISE_USER_SCOPES}
    )["access_token"]
    import requests  # noqa: PLC0415

    with requests.get(
        emu.url + "/admin.analytics.getFile",
        params={"type": "member", "date": day},
        headers={"Authorization": f"Bearer {token}"},
        timeout=600,
        stream=True,
    ) as answer:
        answer.raise_for_status()
        for _ in answer.iter_content(1 << 16):
            pass


def method_time(requests: int, allowance: int, cost: float, window: float = 60.0) -> float:
    """Seconds for ``requests`` calls at ``cost`` s each under fixed windows of ``allowance``."""
    if requests <= 0:
        return 0.0
    windows = math.ceil(requests / allowance)
    last = requests - (windows - 1) * allowance
    return max(requests * cost, (windows - 1) * window + last * cost)
