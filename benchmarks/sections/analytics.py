"""Section 5, member_analytics throughput: rows per second with RECORD and with BATCH messages,
and whether the tap or Slack bounds a first sync of a 500,000-member org.
"""

from __future__ import annotations

import datetime as dt
import typing as t

from benchmarks.harness import catalog_for, median, run_tap, start_emulator, workdir
from benchmarks.report import Report, human, table
from benchmarks.sections.common import (
    INFO,
    TIER,
    analytics_workspace,
    batch_settings,
    fresh_config,
    method_time,
    today_utc,
    warm_analytics,
)


def bench_analytics(report: Report, quick: bool) -> dict[str, float]:
    """member_analytics rows per second with RECORD and with BATCH messages, and whether the
    tap or Slack bounds a first sync of a 500,000-member org."""
    count = 50_000 if quick else 500_000
    lag = 2
    days_back_to_back = 3
    workspace = analytics_workspace(count, lag)
    last_day = today_utc() - dt.timedelta(days=lag)
    first_day = last_day - dt.timedelta(days=days_back_to_back - 1)
    folder = workdir()
    batches = batch_settings(folder / "batches", "analytics-")
    # (settings, first day): one day, or several back to back (the next day's download
    # overlaps this day's rows, as in a first sync)
    modes: dict[str, tuple[dict[str, t.Any], dt.date]] = {
        "RECORD messages (default), one day": ({}, last_day),
        "BATCH messages (batch_config), one day": (batches, last_day),
        f"BATCH messages, {days_back_to_back} days back to back": (batches, first_day),
    }
    times: dict[str, list[float]] = {mode: [] for mode in modes}
    with start_emulator(workspace, folder) as emu:
        for offset in range(days_back_to_back):
            warm_analytics(emu, (first_day + dt.timedelta(days=offset)).isoformat())
        for _ in range(1 if quick else 3):
            for mode, (settings, first) in modes.items():
                days = (last_day - first).days + 1
                run = run_tap(
                    {
                        **fresh_config(emu, folder),
                        **settings,
                        "start_date": first.isoformat() + "T00:00:00Z",
                    },
                    folder,
                    catalog=catalog_for("member_analytics"),
                    env=INFO,
                )
                if run.exit_code != 0 or run.records("member_analytics") != count * days:
                    raise RuntimeError("analytics benchmark failed\n" + run.stderr[-3000:])
                times[mode].append(run.summaries["member_analytics"]["seconds"] / days)
    members, days = 500_000, 395  # 13 months of published days (+1 unpublished answer)
    slack_bound = method_time(days + 1, TIER["admin.analytics.getFile"], 0.0)
    rows = []
    rates: dict[str, float] = {}
    for mode, values in times.items():
        rate = rates[mode] = count / median(values)
        tap_bound = days * members / rate
        rows.append(
            [
                mode,
                " / ".join(f"{v:.1f}" for v in values),
                f"**{rate:,.0f}**",
                f"{1e6 / rate:.1f}",
                human(tap_bound),
                "the tap" if tap_bound > slack_bound else "Slack",
            ]
        )
    body = (
        f"Days of {count:,} rows: download, gzip check, parse, post-process and schema "
        "check, then RECORD messages to /dev/null, or gzip JSON Lines batch files of "
        "10,000 rows (the SDK's default batch_size), then BATCH messages; the stream's own "
        "time (its summary line) per day, 3 runs each, median. One day includes waiting "
        "for its download; back to back, the next day downloads while this one is written. "
        f"'500,000-member first sync': {days} days x {members:,} rows at that rate, against "
        f"Slack's limit for {days + 1} files at 20 per minute ({human(slack_bound)}).\n\n"
        + table(
            [
                "messages",
                "s per day (runs)",
                "rows/s",
                "µs per row",
                "500,000-member first sync (tap's work)",
                "bottleneck",
            ],
            rows,
        )
    )
    report.add("5. member_analytics throughput", body)
    return {
        "record_rate": rates["RECORD messages (default), one day"],
        "batch_rate": rates["BATCH messages (batch_config), one day"],
        "slack_bound": slack_bound,
    }
