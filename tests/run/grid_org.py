"""The Grid org the prefetch and progress tests read under the emulator's rate limits (a
scaled minute), and its config: an org-level token reading one workspace from 30 days
back, pages of 10.
"""

from __future__ import annotations

import time
import typing as t
from datetime import datetime, timedelta, timezone
from pathlib import Path

from tap_slack_snow_emulator import SlackEmulator, WorkspaceConfig
from tests._support import org_config

NOW = float(int(time.time()))
TODAY = datetime.fromtimestamp(NOW, tz=timezone.utc).date()
START = (TODAY - timedelta(days=30)).isoformat() + "T00:00:00Z"
MINUTE = 1.0  # seconds of a rate-limit window

#: From 30 days back, with pages of 10: users.list 60 pages, team.billableInfo ~54,
#: team.accessLogs ~60, team.integrationLogs ~38, admin.analytics.getFile ~30 (Tier 2: 20 a
#: window), admin.users.list 60 (Tier 4: 100).
WORKSPACE = WorkspaceConfig(
    seed=31,
    users=600,
    plan="enterprise",
    enterprise=True,
    access_logs=3600,
    integration_logs=5000,
    analytics_rows_per_day=30,
    analytics_lag_days=2,
    now=NOW,
)


def grid_config(emu: SlackEmulator, tmp_path: Path, **extra: t.Any) -> dict[str, t.Any]:
    return org_config(emu, tmp_path, START, page_size=10, **extra)
