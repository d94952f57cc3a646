"""Section 2, rate-limited wall time: full syncs against the emulator's enforced tiers with a
scaled minute, concurrent and sequential, against the slowest method's minimum and the sum
of every method's.
"""

from __future__ import annotations

import math
import time
import typing as t

from benchmarks.harness import TapRun, iso_days_ago, run_tap, start_emulator, workdir
from benchmarks.report import Report, table
from benchmarks.sections.common import INFO, STREAM_METHODS, TIER, expected, fresh_config
from tap_slack_snow_emulator.config import WorkspaceConfig


def bench_rate_limited(report: Report, quick: bool) -> dict[str, t.Any]:
    """A full sync against enforced tiers with a scaled minute, concurrent and sequential.

    Two yardsticks: the slowest method's own minimum (its successful requests / allowance x
    window: what a sync that reads every method side by side cannot beat) and the sum of every
    method's minimum (what a sync reading methods one after another cannot beat). The org is
    sized so that five Tier-2 methods need about the same number of windows (pages of 100).
    """
    now = float(int(time.time()))
    # Long enough that the run's fixed costs (start-up, emitting what was fetched ahead)
    # are small next to the windows, as with Slack's real one-minute windows.
    minute = 1.0 if quick else 10.0
    workspace = WorkspaceConfig(
        seed=9,
        users=1_400 if quick else 7_000,
        plan="enterprise",
        enterprise=True,
        access_logs=3_600 if quick else 18_000,
        integration_logs=8_000 if quick else 40_000,
        analytics_rows_per_day=100,
        now=now,
    )
    start = iso_days_ago(now, 14 if quick else 70)
    folder = workdir()
    modes = {
        "concurrent (default)": {},
        "sequential (concurrent_fetch: false)": {"concurrent_fetch": False},
    }
    repeats = 1 if quick else 3
    runs: list[tuple[str, TapRun, dict[str, t.Any]]] = []
    with start_emulator(workspace, folder, start_date=start, minute_seconds=minute) as emu:
        for attempt in range(repeats):
            for mode, settings in modes.items():
                if attempt and mode.startswith("sequential"):
                    continue  # one sequential run is enough for the comparison
                emu.reset_stats()
                config = {**fresh_config(emu, folder), "page_size": 100, **settings}
                run = run_tap(config, folder, env=INFO)
                if run.exit_code != 0:
                    raise RuntimeError("rate-limit benchmark: tap failed\n" + run.stderr[-3000:])
                runs.append((mode, run, emu.stats()))
        want = expected(emu, start)
    results = []
    for mode, run, stats in runs:
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
        results.append(
            {
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
        )
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
        f"entries, {workspace.integration_logs:,} integration-log entries, analytics 100 "
        f"rows/day, start_date {start[:10]}, page_size 100 (so users.list, team.billableInfo, "
        "team.accessLogs, team.integrationLogs and admin.analytics.getFile each need several "
        "windows); the emulator enforces every method's tier with a "
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
        f"**{mid['wall'] / mid['slowest_min']:.3f}** (goal ≤ 1.10), wall / Σ "
        f"**{mid['wall'] / mid['sum_min']:.3f}**; sequential: wall / Σ "
        f"{sequential['wall'] / sequential['sum_min']:.3f}. Concurrent fetching is "
        f"{sequential['wall'] / mid['wall']:.2f}x faster here. The concurrent run's time "
        f"beyond the slowest method's forced waits ({mid['slowest_forced']:.0f} s) is "
        f"{mid['wall'] - mid['slowest_forced']:.1f} s: process start-up, the token refresh "
        "and auth.test, the slowest method's last partial window, and emitting the streams "
        "that come after it in the SDK's order; it does not grow with the window.\n\n"
        + "Requests per method (the median concurrent run):\n\n"
        + table(["method", "allowance / window", "requests", "429s", "min s"], per_method_rows)
    )
    report.add("2. Rate-limited wall time", body)
    return {
        "ratio_slowest": mid["wall"] / mid["slowest_min"],
        "ratio_sum": mid["wall"] / mid["sum_min"],
        "sequential_ratio_sum": sequential["wall"] / sequential["sum_min"],
        "minute": minute,
    }
