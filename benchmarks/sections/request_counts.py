"""Section 1, requests per stream: every stream of a 100,000-member Grid org read once, one
stream after another, the requests the emulator counted against the minimum the API allows
(and the records against what the workspace holds).
"""

from __future__ import annotations

import time
import typing as t

from benchmarks.harness import iso_days_ago, run_tap, start_emulator, workdir
from benchmarks.report import Report, table
from benchmarks.sections.common import EMULATOR_METHODS, INFO, STREAM_METHODS, expected
from tap_slack_snow_emulator.config import WorkspaceConfig


def bench_requests(report: Report, quick: bool) -> dict[str, t.Any]:
    """HTTP requests per stream against the minimum the API allows."""
    now = float(int(time.time()))
    users = 5_000 if quick else 100_000
    workspace = WorkspaceConfig(
        seed=7,
        users=users,
        plan="enterprise",
        enterprise=True,
        access_logs=12_500 if quick else 250_000,
        integration_logs=500 if quick else 5_000,
        analytics_rows_per_day=100,
        now=now,
    )
    start = iso_days_ago(now, 30 if quick else 730)
    folder = workdir()
    with start_emulator(workspace, folder, start_date=start) as emu:
        # Sequential, so each stream's "s in all" is its own cost (section 6 builds on it).
        run = run_tap({**emu.config, "concurrent_fetch": False}, folder, env=INFO)
        stats = emu.stats()
        want = expected(emu, start)
    if run.exit_code != 0:
        raise RuntimeError("requests benchmark: tap failed\n" + run.stderr[-3000:])
    rows = []
    total_tap = total_min = 0
    for stream, method in STREAM_METHODS.items():
        records, minimum, how = want[stream]
        made = int(stats["calls"].get(EMULATOR_METHODS[stream], 0))
        got = run.records(stream)
        total_tap += made
        total_min += minimum
        verdict = "equal" if made == minimum else f"{made - minimum:+d}"
        rows.append([stream, method, f"{got:,}", f"{records:,}", made, minimum, verdict, how])
    extra = {m: int(n) for m, n in stats["calls"].items() if m not in EMULATOR_METHODS.values()}
    # an org-level token lists the org's workspaces once (auth.teams.list, one page here)
    run_minimum = 3
    rows.append(
        [
            "(run)",
            ", ".join(sorted(extra)),
            "",
            "",
            sum(extra.values()),
            run_minimum,
            "equal" if sum(extra.values()) <= run_minimum else "more",
            "auth.test once + auth.teams.list once (org-level token) + at most one token refresh",
        ]
    )
    total_tap += sum(extra.values())
    total_min += run_minimum
    rows.append(["**all**", "", "", "", f"**{total_tap}**", f"**{total_min}**", "", ""])
    body = (
        f"Enterprise Grid org, team_id set, {users:,} members, "
        f"{workspace.access_logs:,} access-log entries, {workspace.integration_logs:,} "
        f"integration-log entries, member analytics with 100 rows/day, start_date {start[:10]}"
        + (" (analytics clamped to Slack's 13 months)" if not quick else "")
        + "; no rate limits; streams read one after another (`concurrent_fetch: false`), so "
        "each stream's time is its own. Requests are counted by the "
        "emulator (every HTTP request it received).\n\n"
        + table(
            [
                "stream",
                "method",
                "records",
                "expected records",
                "requests",
                "minimum",
                "vs minimum",
                "minimum counted as",
            ],
            rows,
        )
        + f"\n\nWall time of the whole run: {run.seconds:.1f} s; "
        f"peak RSS {run.peak_rss_mib:.0f} MiB."
    )
    report.add("1. Requests per stream (100,000-member org)" if not quick else "1. Requests", body)
    mismatched = [r[0] for r in rows[: len(STREAM_METHODS)] if r[2] != r[3]]
    if mismatched:
        raise RuntimeError(f"record counts differ from the emulator's for {mismatched}")
    return {
        "run": run,
        "users": users,
        "stream_seconds": {s: v["seconds"] for s, v in run.summaries.items()},
        "requests": {s: int(stats["calls"].get(EMULATOR_METHODS[s], 0)) for s in STREAM_METHODS},
        "records": {s: run.records(s) for s in STREAM_METHODS},
    }
