"""Section 2b, Enterprise Grid workspaces side by side: an org-level token reading a Grid org of
several workspaces under the emulator's per-(method, workspace) rate-limit buckets, against
the busiest bucket's own minimum.

Slack counts rate limits per method, per workspace and per app. The per-workspace streams
(users, team, billable_info, integration_logs) run once per workspace; read side by side
(``max_concurrent_workspaces``, the default) a sync waits about as long as its busiest
(method, workspace) bucket; read one workspace after another by one worker per stream
(``max_concurrent_workspaces: 1``, the tap before it had the setting) it waits the sum of a
method's buckets; read one stream after another (``concurrent_fetch: false``), the sum of
every bucket.
"""

from __future__ import annotations

import math
import typing as t

from benchmarks.harness import TapRun, catalog_for, median, run_tap, start_emulator, workdir
from benchmarks.report import Report, table
from benchmarks.sections.common import INFO, TIER, fresh_config
from tap_slack_snow_emulator.config import WorkspaceConfig

STREAMS = ("users", "team", "billable_info", "integration_logs", "billing")
MODES = {
    "side by side (default)": {},
    "one worker per stream (max_concurrent_workspaces: 1)": {"max_concurrent_workspaces": 1},
    "sequential (concurrent_fetch: false)": {"concurrent_fetch": False},
}


def org(quick: bool) -> WorkspaceConfig:
    """Six workspaces; with pages of 5, users.list needs 3.6 windows in every workspace
    (Tier 2: 20 a window), team.billableInfo 3.2, team.integrationLogs up to 3.6."""
    return WorkspaceConfig(
        seed=29,
        users=700 if quick else 1_950,
        plan="enterprise",
        enterprise=True,
        workspaces=6,
        integration_logs=250 if quick else 700,
        now=None,
    )


def bucket_minimums(stats: dict[str, t.Any], minute: float) -> dict[tuple[str, str], float]:
    """Each (method, workspace) bucket's own minimum: its requests / allowance x window."""
    return {
        (b["method"], b["workspace"] or "(org)"): b["allowed"] / TIER.get(b["method"], 600) * minute
        for b in stats["buckets"]
    }


def forced_waits(stats: dict[str, t.Any], minute: float) -> dict[str, float]:
    """Per method, the sum over its buckets of (windows - 1) x window: the waits a run that
    reads the method's workspaces one after another cannot avoid."""
    sums: dict[str, float] = {}
    for b in stats["buckets"]:
        windows = math.ceil(b["allowed"] / TIER.get(b["method"], 600))
        sums[b["method"]] = sums.get(b["method"], 0.0) + max(0, windows - 1) * minute
    return sums


def windows(result: dict[str, t.Any]) -> str:
    """Windows each per-workspace method needs in its workspaces, e.g. "users.list 3.6-3.7
    windows per workspace"."""
    per_method: dict[str, list[float]] = {}
    for (method, workspace), seconds in result["buckets"].items():
        if workspace != "(org)":
            per_method.setdefault(method, []).append(seconds / result["minute"])
    return ", ".join(
        f"{method} {min(counts):.1f}"
        + (f"-{max(counts):.1f}" if f"{max(counts):.1f}" != f"{min(counts):.1f}" else "")
        + " windows per workspace"
        for method, counts in sorted(per_method.items())
        if max(counts) > 1
    )


def measure(run: TapRun, stats: dict[str, t.Any], minute: float) -> dict[str, t.Any]:
    """One run's figures against its own buckets."""
    buckets = bucket_minimums(stats, minute)
    busiest = max(buckets, key=lambda key: buckets[key])
    waits = forced_waits(stats, minute)
    slowest = max(waits, key=lambda key: waits[key])
    return {
        "wall": run.seconds,
        "busiest": busiest,
        "busiest_min": buckets[busiest],
        "method_waits": waits[slowest],
        "slowest_method": slowest,
        "all_waits": sum(waits.values()),
        "n429": sum(stats["rate_limited"].values()),
        "rss": run.peak_rss_mib,
        "records": {stream: run.records(stream) for stream in STREAMS},
        "requests": sum(stats["calls"].values()),
        "buckets": buckets,
        "minute": minute,
    }


def bench_grid(report: Report, quick: bool) -> dict[str, t.Any]:
    """A Grid org's per-workspace streams under per-(method, workspace) buckets, three ways."""
    workspace = org(quick)
    minute = 1.0 if quick else 4.0
    repeats = 1 if quick else 3
    folder = workdir()
    results: dict[str, list[dict[str, t.Any]]] = {mode: [] for mode in MODES}
    with start_emulator(workspace, folder, minute_seconds=minute, team_id=False) as emu:
        for attempt in range(repeats):
            for mode, settings in MODES.items():
                if attempt and mode.startswith("sequential"):
                    continue  # one sequential run is enough for the comparison
                emu.reset_stats()
                config = {**fresh_config(emu, folder), "page_size": 5, **settings}
                run = run_tap(config, folder, catalog=catalog_for(*STREAMS), env=INFO)
                if run.exit_code != 0:
                    raise RuntimeError("grid benchmark: tap failed\n" + run.stderr[-3000:])
                results[mode].append(measure(run, emu.stats(), minute))
        local = emu.local_workspace()
        members = sum(map(local.team_member_count, local.team_ids)) / len(local.team_ids)
    reference = results["sequential (concurrent_fetch: false)"][0]["records"]
    rows = []
    medians: dict[str, dict[str, t.Any]] = {}
    for mode, runs in results.items():
        ordered = sorted(runs, key=lambda r: r["wall"])
        medians[mode] = mid = ordered[len(ordered) // 2]
        rows.append(
            [
                mode,
                ", ".join(f"{r['wall']:.2f}" for r in runs),
                f"{mid['busiest_min']:.2f} ({mid['busiest'][0]} {mid['busiest'][1]})",
                f"{mid['method_waits']:.0f} ({mid['slowest_method']})",
                f"{mid['all_waits']:.0f}",
                f"**{mid['wall'] / mid['busiest_min']:.3f}**",
                mid["n429"],
                f"{median(r['rss'] for r in runs):.0f}",
                "exact" if all(r["records"] == reference for r in runs) else "DIFFERENT",
            ]
        )
    after, before = (medians[mode] for mode in list(MODES)[:2])
    sequential = medians["sequential (concurrent_fetch: false)"]
    body = (
        f"Enterprise Grid org of {workspace.workspaces} workspaces read with an org-level token "
        f"(no team_id), {workspace.users:,} members (about {members:,.0f} per workspace, "
        f"members in several), {workspace.integration_logs:,} "
        "integration-log entries, streams users, team, billable_info, integration_logs and "
        f"billing, page_size 5 (so {windows(sequential)}); the emulator counts each (method, "
        "workspace) in its own bucket, as Slack "
        f"does, with a minute of {minute:g} s. A bucket's minimum = its requests / allowance x "
        "window (its last window counted in part, so a run can come in under it): the busiest "
        "bucket's is about what a sync that reads every (method, workspace) side by side "
        "takes. A bucket's forced waits = (its windows - 1) x window; one method's (summed over "
        "its workspaces, the method with the most) are what one worker per stream cannot beat, "
        "all of them together what a sequential run cannot beat. Medians of "
        f"{repeats} (the sequential run once); records compared with the sequential run's.\n\n"
        + table(
            [
                "mode",
                "wall s (each run)",
                "busiest bucket's minimum s",
                "one method's forced waits s",
                "all forced waits s",
                "wall / busiest bucket",
                "429s",
                "peak RSS MiB",
                "records",
            ],
            rows,
        )
        + f"\n\nSide by side: wall / busiest bucket **{after['wall'] / after['busiest_min']:.3f}**"
        f" (goal ≤ 1.25); one worker per stream: "
        f"{before['wall'] / before['busiest_min']:.3f}; sequential: "
        f"{sequential['wall'] / sequential['busiest_min']:.3f}. Reading the workspaces side "
        f"by side is {before['wall'] / after['wall']:.2f}x faster than one worker per stream "
        f"and {sequential['wall'] / after['wall']:.2f}x faster than the sequential run, with "
        f"{after['requests']} requests each ({before['requests']} and "
        f"{sequential['requests']}).\n"
    )
    report.add("2b. Enterprise Grid: workspaces side by side", body)
    return {
        "ratio_busiest": after["wall"] / after["busiest_min"],
        "before_ratio_busiest": before["wall"] / before["busiest_min"],
        "sequential_ratio_busiest": sequential["wall"] / sequential["busiest_min"],
        "minute": minute,
    }
