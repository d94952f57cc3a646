"""Section 4, memory: the tap's peak RSS for small and large users and member_analytics days
(RECORD and BATCH messages), and how much it grows.
"""

from __future__ import annotations

import datetime as dt
import typing as t

from benchmarks.harness import catalog_for, run_tap, start_emulator, workdir
from benchmarks.report import Report, table
from benchmarks.sections.common import (
    INFO,
    analytics_workspace,
    batch_settings,
    today_utc,
    warm_analytics,
)
from tap_slack_snow_emulator.config import WorkspaceConfig


def bench_memory(report: Report, quick: bool) -> dict[str, t.Any]:
    """Peak RSS of the tap for small vs large users and member_analytics days."""
    folder = workdir()
    sizes_users = (2_000, 20_000) if quick else (10_000, 200_000)
    sizes_rows = (2_000, 50_000) if quick else (10_000, 500_000)
    rows = []
    measured: dict[str, t.Any] = {}
    peaks: dict[tuple[str, int], float] = {}
    for users in sizes_users:
        workspace = WorkspaceConfig(seed=4, users=users, plan="enterprise", enterprise=True)
        with start_emulator(workspace, folder) as emu:
            run = run_tap(emu.config, folder, catalog=catalog_for("users"), env=INFO)
        if run.exit_code != 0 or run.records("users") != users:
            raise RuntimeError("memory benchmark (users) failed\n" + run.stderr[-3000:])
        peaks[("users", users)] = run.peak_rss_mib
        rows.append(
            ["users", f"{users:,} members", f"{run.seconds:.1f}", f"{run.peak_rss_mib:.0f}"]
        )
    lag = 2
    for count in sizes_rows:
        workspace = analytics_workspace(count, lag)
        start = (today_utc() - dt.timedelta(days=lag)).isoformat() + "T00:00:00Z"
        batches = batch_settings(folder / "batches", "m-")
        with start_emulator(workspace, folder, start_date=start) as emu:
            warm_analytics(emu, start[:10])
            for stream, settings in (("member_analytics", {}), ("batch_config", batches)):
                run = run_tap(
                    {**emu.config, **settings},
                    folder,
                    catalog=catalog_for("member_analytics"),
                    env=INFO,
                )
                if run.exit_code != 0 or run.records("member_analytics") != count:
                    raise RuntimeError("memory benchmark (analytics) failed\n" + run.stderr[-3000:])
                peaks[(stream, count)] = run.peak_rss_mib
                if not settings:
                    measured[f"analytics_seconds_{count}"] = run.summaries["member_analytics"][
                        "seconds"
                    ]
                rows.append(
                    [
                        "member_analytics" + (", `batch_config`" if settings else ""),
                        f"one day of {count:,} rows",
                        f"{run.seconds:.1f}",
                        f"{run.peak_rss_mib:.0f}",
                    ]
                )
    growth_users = peaks[("users", sizes_users[1])] / peaks[("users", sizes_users[0])] - 1
    growth_rows = (
        peaks[("member_analytics", sizes_rows[1])] / peaks[("member_analytics", sizes_rows[0])] - 1
    )
    growth_batches = (
        peaks[("batch_config", sizes_rows[1])] / peaks[("batch_config", sizes_rows[0])] - 1
    )
    body = (
        "Peak RSS of the tap process (its own VmHWM, read while it runs; not wait4's "
        "ru_maxrss, which includes the benchmark process's peak), the emulator runs in "
        "another process.\n\n"
        + table(["stream", "size", "wall s", "peak RSS MiB"], rows)
        + f"\n\nGrowth small → large: users **{growth_users * 100:+.1f} %** "
        f"({sizes_users[1] // sizes_users[0]}x the members), member_analytics "
        f"**{growth_rows * 100:+.1f} %** ({sizes_rows[1] // sizes_rows[0]}x the rows; with "
        f"`batch_config` **{growth_batches * 100:+.1f} %**); goal < 25 %."
    )
    report.add("4. Memory", body)
    measured.update(
        growth_users=growth_users,
        growth_rows=growth_rows,
        analytics_rows=sizes_rows[1],
        analytics_seconds=measured[f"analytics_seconds_{sizes_rows[1]}"],
    )
    return measured
