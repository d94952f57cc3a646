"""Every (method, workspace) pair of a Grid org read side by side (org-level token).

Slack counts rate limits per method and per workspace, and the emulator does too (a bucket per
(method, workspace) for workspace-level methods). A per-workspace stream's partitions are
fetched by up to ``max_concurrent_workspaces`` workers at once, each workspace's requests one
after another, while the SDK still emits the streams and partitions in order in the main
thread.

The one timing assertion is of the kind a noisy machine cannot break: a run that reads one
method's workspaces one after another cannot beat the sum of that method's forced waits in
every workspace, so a run that does must have read them side by side. The figures belong to
``benchmarks/sections/grid.py``.
"""

from __future__ import annotations

import math
import time
import typing as t
from collections import Counter
from pathlib import Path

from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_devkit.emulators import EmulatorFactory
from tap_slack_snow_emulator import Fault, SlackEmulator, WorkspaceConfig
from tap_slack_snow_emulator.api import METHODS
from tests._support import SyncResult, bookmarks, sync
from tests.run.test_partition_prefetch import checkpoints, message_order, org_config, team_of

MINUTE = 1.0  # seconds of a rate-limit window
#: Six workspaces of ~90 members; with pages of 2, users.list and team.billableInfo need 3
#: windows in every workspace (Tier 2: 20 a window), team.integrationLogs at most 3.
ORG = WorkspaceConfig(
    seed=23,
    users=500,
    plan="enterprise",
    enterprise=True,
    workspaces=6,
    integration_logs=200,
    now=float(int(time.time())),
)
PAGE = 2
CATALOG = select_only("users", "team", "billable_info", "integration_logs", "billing")


def buckets(emu: SlackEmulator) -> Counter[tuple[str, str | None]]:
    """Requests per (method, workspace) of the last run."""
    return Counter((r.method, team_of(r)) for r in emu.requests if r.method in METHODS)


def boundaries(made: int, method: str) -> int:
    """Window boundaries ``made`` requests of ``method`` cross in one bucket."""
    return max(0, math.ceil(made / METHODS[method].allowance) - 1)


def timed(config: dict[str, t.Any]) -> tuple[SyncResult, float]:
    started = time.perf_counter()
    result = sync(config, catalog=CATALOG)
    return result, time.perf_counter() - started


def test_every_method_and_workspace_is_read_side_by_side(
    emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    emu = emulator_factory(ORG)
    teams = emu.workspace.team_ids
    # the reference: no rate limits, one stream and one workspace after another
    sequential = sync(
        org_config(emu, tmp_path / "seq", page_size=PAGE, concurrent_fetch=False), catalog=CATALOG
    )
    assert sequential.exit_code == 0, sequential.stderr[-2000:]
    made = buckets(emu)
    users_waits = sum(boundaries(made["users.list", team], "users.list") for team in teams)
    assert users_waits >= 2 * len(teams)  # users.list needs 3 windows in every workspace
    busiest = max(boundaries(count, method) for (method, _), count in made.items())
    assert busiest <= 2  # and no bucket more
    forced = sum(boundaries(count, method) for (method, _), count in made.items())

    emu.minute_seconds = MINUTE
    emu.reset_stats()
    one_each, one_each_wall = timed(
        org_config(emu, tmp_path / "one", page_size=PAGE, max_concurrent_workspaces=1)
    )
    assert one_each.exit_code == 0, one_each.stderr[-2000:]
    # one worker per stream reads users.list's workspaces one after another: it waits them all
    assert one_each_wall >= users_waits * MINUTE

    emu.reset_stats()
    # one forced 429 in a worker, whatever the machine's speed
    emu.add_fault(Fault("users.list", "http_429", on_call=5))
    side_by_side, wall = timed(org_config(emu, tmp_path / "all", page_size=PAGE))
    assert side_by_side.exit_code == 0, side_by_side.stderr[-2000:]
    # only workspaces read side by side can beat the sum of one method's per-workspace waits
    assert wall < users_waits * MINUTE, (wall, one_each_wall)
    # every workspace's users.list was under way before any workspace's was done
    users_order = [team_of(r) for r in emu.requests if r.method == "users.list"]
    first_done = min(max(i for i, team in enumerate(users_order) if team == done) for done in teams)
    assert set(users_order[:first_done]) == set(teams)

    for run in (one_each, side_by_side):
        assert run.records == sequential.records
        assert message_order(run) == message_order(sequential)
        assert bookmarks(run.state) == bookmarks(sequential.state)
        assert checkpoints(run) == checkpoints(sequential)
    # no duplicate keys: a member once, whichever workspace's worker fetched it first
    ids = [r["id"] for r in side_by_side.records["users"]]
    assert len(ids) == len(set(ids))
    # Retry-After is honoured in every worker: at most about one 429 per window boundary and
    # bucket (how many depends on the machine's speed: a slow or busy one may fill no window;
    # the forced one is counted too), and every 429 was asked again: no page lost or doubled
    assert 1 <= emu.rate_limited.total() <= forced + len(made) + 1
    users_made = sum(count for (method, _), count in made.items() if method == "users.list")
    users_now = sum(1 for r in emu.requests if r.method == "users.list")
    assert users_now == users_made + emu.rate_limited["users.list"] >= users_made + 1
