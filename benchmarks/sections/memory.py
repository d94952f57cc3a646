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
    # The one structure that grows with the members: the keys sent in this sync (a full-table
    # stream emits each key once). Measured by a run that forgets them.
    workspace = WorkspaceConfig(seed=4, users=sizes_users[1], plan="enterprise", enterprise=True)
    with start_emulator(workspace, folder) as emu:
        run = run_tap(
            emu.config,
            folder,
            catalog=catalog_for("users"),
            env={**INFO, "BENCH_KEYS": "off"},
            module="benchmarks.tap_variant",
        )
    if run.exit_code != 0 or run.records("users") != sizes_users[1]:
        raise RuntimeError("memory benchmark (users, keys off) failed\n" + run.stderr[-3000:])
    peaks[("users without keys", sizes_users[1])] = run.peak_rss_mib
    rows.append(
        [
            "users, the sent keys not kept (`BENCH_KEYS=off`)",
            f"{sizes_users[1]:,} members",
            f"{run.seconds:.1f}",
            f"{run.peak_rss_mib:.0f}",
        ]
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
    growth_users_without_keys = (
        peaks[("users without keys", sizes_users[1])] / peaks[("users", sizes_users[0])] - 1
    )
    keys_mib = peaks[("users", sizes_users[1])] - peaks[("users without keys", sizes_users[1])]
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
        f"`batch_config` **{growth_batches * 100:+.1f} %**); goal < 25 %. The users "
        f"stream's growth is the keys it sent in this sync ({keys_mib:.0f} MiB for "
        f"{sizes_users[1]:,} members, about {keys_mib * 2**20 / sizes_users[1]:.0f} bytes a "
        "member): a full-table stream emits each key once (the first record wins), so it "
        "remembers every key until the stream ends; without them users grows "
        f"{growth_users_without_keys * 100:+.1f} %."
    )
    report.add("4. Memory", body)
    measured.update(
        growth_users=growth_users,
        growth_users_without_keys=growth_users_without_keys,
        sent_keys_mib=keys_mib,
        growth_rows=growth_rows,
        analytics_rows=sizes_rows[1],
        analytics_seconds=measured[f"analytics_seconds_{sizes_rows[1]}"],
    )
    return measured
