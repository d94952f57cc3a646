"""Section 2, rate-limited wall time: full syncs against the emulator's enforced tiers with a
scaled minute, concurrent and sequential, against the slowest method's minimum and the sum
of every method's.
"""

from __future__ import annotations

import math
import time
import typing as t
from dataclasses import dataclass

from benchmarks.harness import TapRun, iso_days_ago, run_tap, start_emulator, workdir
from benchmarks.report import Report, table
from benchmarks.sections.common import INFO, STREAM_METHODS, TIER, expected, fresh_config
from tap_slack_snow_emulator.config import WorkspaceConfig


@dataclass(frozen=True)
class Scenario:
    """One org, start_date, page size and rate-limit window, timed concurrent and sequential."""

    workspace: WorkspaceConfig
    start: str
    minute: float
    page_size: int
    repeats: int
    #: What the org is sized to show.
    why: str
    #: The goal for wall time / the slowest method's minimum.
    goal: float


def bench_rate_limited(report: Report, quick: bool) -> dict[str, t.Any]:
    """Full syncs against enforced tiers with a scaled minute, concurrent and sequential.

    Two yardsticks: the slowest method's own minimum (its successful requests / allowance x
    window: what a sync that reads every method side by side cannot beat) and the sum of every
    method's minimum (what a sync reading methods one after another cannot beat). The large
    org is sized so that five Tier-2 methods need about the same number of windows (pages of
    100); the small one so that team.accessLogs is the slowest method by far while the other
    streams' ~40,000 records come in a few windows: what the order of the streams decides.
    """
    now = float(int(time.time()))
    repeats = 1 if quick else 3
    large = Scenario(
        workspace=WorkspaceConfig(
            seed=9,
            users=1_400 if quick else 7_000,
            plan="enterprise",
            enterprise=True,
            access_logs=3_600 if quick else 18_000,
            integration_logs=8_000 if quick else 40_000,
            analytics_rows_per_day=100,
            now=now,
        ),
        start=iso_days_ago(now, 14 if quick else 70),
        # Long enough that the run's fixed costs (start-up, emitting what was fetched ahead)
        # are small next to the windows, as with Slack's real one-minute windows.
        minute=1.0 if quick else 10.0,
        page_size=100,
        repeats=repeats,
        why="so users.list, team.billableInfo, team.accessLogs, team.integrationLogs and "
        "admin.analytics.getFile each need several windows",
        goal=1.10,
    )
    small = Scenario(
        workspace=WorkspaceConfig(
            seed=9,
            users=1_400,
            plan="enterprise",
            enterprise=True,
            access_logs=82_000,  # over 180 days: ~6,700 in the 14 days read
            integration_logs=8_000,
            analytics_rows_per_day=3_000,
            now=now,
        ),
        start=iso_days_ago(now, 14),
        minute=2.0,
        page_size=100,
        repeats=repeats,
        why="so team.accessLogs is the slowest method by far (~68 pages, 4 windows) while "
        "the other streams' ~45,000 records (most of them member_analytics) need at most one "
        "window boundary",
        goal=1.20,
    )
    large_body, large_mid = _measure(large)
    small_body, small_mid = _measure(small)
    report.add(
        "2. Rate-limited wall time",
        large_body
        + "\n\n### Small full sync: a slow stream among fast ones\n\n"
        + small_body
        + "\n\nHere the streams' order matters: the SDK writes the streams one after another, "
        "so a stream written before the slowest one would have held back the records the "
        "workers had already fetched for the others. The run writes the streams expected to "
        "take longest last (see [Running](running.md#the-order-of-the-streams)): the fast "
        "streams are written while team.accessLogs is still being fetched.",
    )
    return {
        "ratio_slowest": large_mid["wall"] / large_mid["slowest_min"],
        "ratio_sum": large_mid["wall"] / large_mid["sum_min"],
        "small_ratio_slowest": small_mid["wall"] / small_mid["slowest_min"],
        "minute": large.minute,
    }


def _measure(scenario: Scenario) -> tuple[str, dict[str, t.Any]]:
    """Run the scenario (concurrent ``repeats`` times, sequential once): its report text and
    the median concurrent run."""
    workspace, minute, start = scenario.workspace, scenario.minute, scenario.start
    folder = workdir()
    modes = {
        "concurrent (default)": {},
        "sequential (concurrent_fetch: false)": {"concurrent_fetch": False},
    }
    runs: list[tuple[str, TapRun, dict[str, t.Any]]] = []
    with start_emulator(workspace, folder, start_date=start, minute_seconds=minute) as emu:
        for attempt in range(scenario.repeats):
            for mode, settings in modes.items():
                if attempt and mode.startswith("sequential"):
                    continue  # one sequential run is enough for the comparison
                emu.reset_stats()
                config = {**fresh_config(emu, folder), "page_size": scenario.page_size, **settings}
                run = run_tap(config, folder, env=INFO)
                if run.exit_code != 0:
                    raise RuntimeError("rate-limit benchmark: tap failed\n" + run.stderr[-3000:])
                runs.append((mode, run, emu.stats()))
        want = expected(emu, start)
    results = [_result(mode, run, stats, minute, want) for mode, run, stats in runs]
    rows = [
        [
            r["mode"],
            f"{r['wall']:.2f}",
            f"{r['slowest_min']:.2f} ({r['slowest']})",
            f"{r['sum_min']:.2f}",
            f"**{r['wall'] / r['slowest_min']:.3f}**",
            f"{r['wall'] / r['sum_min']:.3f}",
            f"{r['n429']} (one per window boundary: {r['min429']})"
            + (f"; more on {', '.join(r['over429'])}" if r["over429"] else ""),
            f"{r['waited']:.2f}",
            r["retried"],
            "WRONG: " + ", ".join(r["records_off"]) if r["records_off"] else "exact",
        ]
        for r in results
    ]
    concurrent = [r for r in results if r["mode"].startswith("concurrent")]
    concurrent.sort(key=lambda r: r["wall"])
    mid = concurrent[len(concurrent) // 2]
    sequential = next(r for r in results if r["mode"].startswith("sequential"))
    stats = mid["stats"]
    per_method_rows = []
    for method in sorted(stats["calls"]):
        made = stats["calls"][method]
        n429 = stats["rate_limited"].get(method, 0)
        allowance = TIER.get(method, 600)
        per_method_rows.append(
            [method, allowance, made - n429, n429, f"{(made - n429) / allowance * minute:.2f}"]
        )
    body = (
        f"Enterprise Grid org, {workspace.users:,} members, {workspace.access_logs:,} access-log "
        f"entries, {workspace.integration_logs:,} integration-log entries, analytics "
        f"{workspace.analytics_rows_per_day:,} rows/day, start_date {start[:10]}, page_size "
        f"{scenario.page_size} ({scenario.why}); the emulator enforces every method's tier with a "
        f"minute of {minute:g} s (fixed windows, Retry-After = time to the window's end). "
        "A method's minimum = its successful requests / allowance x window. 'slowest method' is "
        "what a sync reading every method side by side cannot beat; 'Σ methods' is what a sync "
        "reading them one after another cannot beat. 429s: what the tap got vs one per window "
        "boundary and method.\n\n"
        + table(
            [
                "mode",
                "wall s",
                "slowest method's minimum s",
                "Σ methods' minimums s",
                "wall / slowest",
                "wall / Σ",
                "429s",
                "waited s (Σ streams)",
                "faults retried",
                "records",
            ],
            rows,
        )
        + f"\n\nConcurrent (median of {len(concurrent)}): wall / slowest method "
        f"**{mid['wall'] / mid['slowest_min']:.3f}** (goal ≤ {scenario.goal:.2f}), wall / Σ "
        f"**{mid['wall'] / mid['sum_min']:.3f}**; sequential: wall / Σ "
        f"{sequential['wall'] / sequential['sum_min']:.3f}. Concurrent fetching is "
        f"{sequential['wall'] / mid['wall']:.2f}x faster here. The concurrent run's time "
        f"beyond the slowest method's forced waits ({mid['slowest_forced']:.0f} s) is "
        f"{mid['wall'] - mid['slowest_forced']:.1f} s: process start-up, the token refresh "
        "and auth.test, the slowest method's last partial window, and writing what is left "
        "after its last page; it does not grow with the window.\n\n"
        + "Requests per method (the median concurrent run):\n\n"
        + table(["method", "allowance / window", "requests", "429s", "min s"], per_method_rows)
    )
    return body, mid


def _result(
    mode: str,
    run: TapRun,
    stats: dict[str, t.Any],
    minute: float,
    want: dict[str, tuple[int, int, str]],
) -> dict[str, t.Any]:
    """One run's figures: wall time against the slowest method's and every method's minimum."""
    calls = stats["calls"]
    limited = stats["rate_limited"]
    per_method: dict[str, float] = {}
    forced: dict[str, float] = {}
    min_429 = 0
    over_429: list[str] = []
    for method, made in calls.items():
        ok = made - limited.get(method, 0)
        allowance = TIER.get(method, 600)
        per_method[method] = ok / allowance * minute
        boundaries = max(0, math.ceil(ok / allowance) - 1)
        forced[method] = boundaries * minute
        min_429 += boundaries
        if limited.get(method, 0) > boundaries:
            over_429.append(method)
    slowest = max(per_method, key=lambda m: per_method[m])
    return {
        "mode": mode,
        "wall": run.seconds,
        "slowest": slowest,
        "slowest_min": per_method[slowest],
        "slowest_forced": forced[slowest],
        "sum_min": sum(per_method.values()),
        "n429": sum(limited.values()),
        "min429": min_429,
        "over429": over_429,
        "waited": sum(v.get("wait_s", 0.0) for v in run.summaries.values()),
        "retried": sum(int(v.get("retried", 0)) for v in run.summaries.values()),
        "records_off": [
            f"{s} {run.records(s)} vs {want[s][0]}"
            for s in STREAM_METHODS
            if run.records(s) != want[s][0]
        ],
        "stats": stats,
    }
