"""tap-slack-snow benchmarks: requests, rate-limited wall time, CPU, memory, scale on paper.

One command: ``.venv/bin/python benchmarks/run.py [--quick]``. Prints markdown tables and
writes them to ``benchmarks/results.md`` (``--out`` to change). ``--quick`` is a smoke run
(under two minutes) on small workspaces; its figures prove the harness works, not the goals.

Every tap run is its own process (``python -m tap_slack_snow``, stdout to /dev/null) against
the emulator in another process (``python -m tap_slack_snow_emulator``), so wall times
include process start-up and the peak RSS (``VmHWM``, see ``harness.run_tap``) is the tap's alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import pstats
import subprocess
import sys
import time
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import (
    PYTHON,
    ROOT,
    EmulatorProcess,
    TapRun,
    catalog_for,
    iso_days_ago,
    machine,
    median,
    run_tap,
    start_emulator,
    workdir,
)
from tap_slack_snow.streams import STREAM_TYPES
from tap_slack_snow_emulator.api import METHODS
from tap_slack_snow_emulator.config import ENTERPRISE_USER_SCOPES, WorkspaceConfig

#: Stream -> Slack method (the tap's streams, in STREAM_TYPES order).
STREAM_METHODS = {stream.name: stream.slack_method for stream in STREAM_TYPES}
#: Slack's real per-minute allowance of each method (Tier 2: 20, Tier 3: 50, Tier 4: 100).
TIER = {method: spec.allowance for method, spec in METHODS.items()}
INFO = {"LOGLEVEL": "INFO"}


@dataclass
class Report:
    """Markdown sections collected while the benchmarks run."""

    quick: bool
    sections: list[str] = field(default_factory=list)
    figures: dict[str, t.Any] = field(default_factory=dict)

    def add(self, title: str, body: str) -> None:
        """Add a section and print it at once."""
        text = f"## {title}\n\n{body.strip()}\n"
        self.sections.append(text)
        print(text, flush=True)


def table(header: list[str], rows: list[list[t.Any]]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def today_utc() -> dt.date:
    """Today (UTC), as the tap and the emulator see it."""
    return dt.datetime.now(tz=dt.timezone.utc).date()


def analytics_days(start: str, lag: int) -> int:
    """Published days the tap fetches from ``start`` (clamped to 13 months)."""
    from tap_slack_snow.streams.enterprise import months_before  # noqa: PLC0415

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
    }


# --------------------------------------------------------------------------------------
# 1. requests


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
        made = int(stats["calls"].get(method, 0))
        got = run.records(stream)
        total_tap += made
        total_min += minimum
        verdict = "equal" if made == minimum else f"{made - minimum:+d}"
        rows.append([stream, method, f"{got:,}", f"{records:,}", made, minimum, verdict, how])
    extra = {m: int(n) for m, n in stats["calls"].items() if m not in STREAM_METHODS.values()}
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
        "requests": {s: int(stats["calls"].get(m, 0)) for s, m in STREAM_METHODS.items()},
        "records": {s: run.records(s) for s in STREAM_METHODS},
    }


# --------------------------------------------------------------------------------------
# 2. rate limits


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


# --------------------------------------------------------------------------------------
# 3. CPU


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


def run_floor(emu: EmulatorProcess, folder: Path, *, fetch_only: bool = False) -> float:
    """Wall time of the floor pipeline process (stdout to /dev/null)."""
    token = emu.control(
        "issue-refresh-token", {"org_level": True, "scopes": ENTERPRISE_USER_SCOPES}
    )["refresh_token"]
    path = folder / f"floor-{time.monotonic_ns()}.json"
    path.write_text(json.dumps({**emu.config, "refresh_token": token}))
    started = time.perf_counter()
    subprocess.run(
        [PYTHON, str(ROOT / "benchmarks" / "floor.py"), str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
        cwd=ROOT,
        env={**os.environ, **({"FLOOR_FETCH_ONLY": "1"} if fetch_only else {})},
    )
    return time.perf_counter() - started


def bench_cpu(report: Report, quick: bool) -> dict[str, t.Any]:
    """users stream, no rate limits: tap vs floor, and what each speed choice is worth."""
    users = 10_000 if quick else 100_000
    repeats = 1 if quick else 3
    workspace = WorkspaceConfig(seed=3, users=users, plan="enterprise", enterprise=True)
    folder = workdir()
    catalog = catalog_for("users")
    variants = {
        "tap as shipped (msgspec writer, schema check)": {},
        "standard SDK writer instead of msgspec": {"BENCH_WRITER": "standard"},
        "standard writer + SDK type conformance (before the fix)": {
            "BENCH_WRITER": "standard",
            "BENCH_CONFORM": "recursive",
        },
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    times["floor pipeline"] = []
    times["fetch only (emulator + HTTP, no parsing)"] = []
    rss: list[float] = []
    # The fast server: every page is built once (the warm-up run) and then served from the
    # emulator's page cache, so neither pipeline waits for the emulator to build pages.
    with start_emulator(workspace, folder, cache_pages=True) as emu:
        run_floor(emu, folder)  # warm the page cache once
        for _ in range(repeats):
            times["floor pipeline"].append(run_floor(emu, folder))
            times["fetch only (emulator + HTTP, no parsing)"].append(
                run_floor(emu, folder, fetch_only=True)
            )
            for name, env in variants.items():
                config = fresh_config(emu, folder)
                run = run_tap(
                    config,
                    folder,
                    catalog=catalog,
                    env={**INFO, **env},
                    module="benchmarks.tap_variant",
                )
                if run.exit_code != 0 or run.records("users") != users:
                    raise RuntimeError("cpu benchmark: tap failed\n" + run.stderr[-3000:])
                times[name].append(run.seconds)
                if not env:
                    rss.append(run.peak_rss_mib)
        profile_path = folder / "users.prof"
        run_tap(
            fresh_config(emu, folder),
            folder,
            catalog=catalog,
            python_args=["-m", "cProfile", "-o", str(profile_path)],
        )
    floor = median(times["floor pipeline"])
    rows = []
    for name, values in times.items():
        med = median(values)
        rows.append(
            [
                name,
                " / ".join(f"{v:.2f}" for v in values),
                f"{med:.2f}",
                f"{users / med:,.0f}",
                f"{med / floor:.2f}x",
            ]
        )
    stats = pstats.Stats(str(profile_path))
    total = stats.total_tt  # type: ignore[attr-defined]
    entries = sorted(
        stats.stats.items(),  # type: ignore[attr-defined]
        key=lambda item: item[1][2],
        reverse=True,
    )[:8]
    prof_rows = [
        [
            f"`{Path(func[0]).name}:{func[1]}({func[2]})`",
            owner_of(func),
            f"{item[2]:.2f}",
            f"{100 * item[2] / total:.0f} %",
        ]
        for func, item in entries
    ]
    owners: dict[str, float] = {}
    for func, item in stats.stats.items():  # type: ignore[attr-defined]
        owners[owner_of(func)] = owners.get(owner_of(func), 0.0) + item[2]
    owner_rows = [
        [owner, f"{seconds:.2f}", f"{100 * seconds / total:.0f} %"]
        for owner, seconds in sorted(owners.items(), key=lambda kv: kv[1], reverse=True)
    ]
    shipped = median(times["tap as shipped (msgspec writer, schema check)"])
    fetch = median(times["fetch only (emulator + HTTP, no parsing)"])
    body = (
        f"users stream, {users:,} members (pages of 1000), no rate limits; process wall time, "
        f"stdout to /dev/null; {repeats} runs each, interleaved, median shown. The floor fetches "
        "the same pages with requests, json.loads them and writes one RECORD line per member "
        "with json.dumps. The emulator serves every page from its page cache (a fast server: "
        "the emulator built each page once, before the timed runs), so the figures measure the "
        "clients, not the server.\n\n"
        + table(["pipeline", "runs (s)", "median s", "records/s", "/ floor"], rows)
        + f"\n\nTap / floor: **{shipped / floor:.2f}x** (goal ≤ 1.5x). Without the time both "
        f"spend waiting for pages (fetch only), the tap's own work is "
        f"{(shipped - fetch) / max(floor - fetch, 1e-9):.2f}x the floor's. Peak RSS of the tap: "
        f"{median(rss):.0f} MiB.\n\n"
        "Where the shipped tap's time goes (cProfile, self time, whole run), by owner:\n\n"
        + table(["code", "self s", "share"], owner_rows)
        + "\n\nThe largest functions:\n\n"
        + table(["function", "code", "self s", "share"], prof_rows)
    )
    report.add("3. CPU throughput (users stream)", body)
    return {"tap": shipped, "floor": floor, "users": users}


def owner_of(func: tuple[str, int, str]) -> str:
    """Whose code a profiled function is: the tap's, the SDK's, HTTP, or a library's.

    Built-ins have no file (``~``); their name says whose they are (``recv_into`` of a socket,
    ``encode_into`` of msgspec).
    """
    filename = func[0] if func[0] != "~" else func[2]
    if "tap_slack_snow" in filename:
        return "tap (tap_slack_snow)"
    if "singer_sdk" in filename:
        return "SDK (singer_sdk)"
    if any(part in filename for part in ("requests", "urllib3", "http", "socket", "ssl")):
        return "HTTP (requests, urllib3, socket)"
    if any(part in filename for part in ("json", "msgspec", "jsonschema")):
        return "JSON (json, msgspec, jsonschema-rs)"
    return "other (interpreter, start-up)"


# --------------------------------------------------------------------------------------
# 4. memory


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


# --------------------------------------------------------------------------------------
# 5. scale on paper


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
        "check, then RECORD messages to /dev/null, or one gzip JSON Lines batch file and one "
        "BATCH message per day; the stream's own time (its summary line) per day, 3 runs "
        "each, median. One day includes waiting for its download; back to back, the next "
        "day downloads while this one is written. "
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


TARGET_POSTGRES = (
    ROOT / ".meltano" / "loaders" / "target-postgres" / "venv" / "bin" / "target-postgres"
)


def bench_analytics_postgres(report: Report, quick: bool) -> None:
    """member_analytics into a real PostgreSQL: tap | target-postgres, RECORD vs BATCH."""
    if not TARGET_POSTGRES.is_file():
        report.add(
            "5b. member_analytics into PostgreSQL",
            f"Skipped: {TARGET_POSTGRES.relative_to(ROOT)} is missing (scripts/test installs it).",
        )
        return
    from tap_slack_snow_devkit.pg import Postgres  # noqa: PLC0415 - embedded PostgreSQL

    count = 20_000 if quick else 200_000
    lag = 2
    workspace = analytics_workspace(count, lag)
    start = (today_utc() - dt.timedelta(days=lag)).isoformat() + "T00:00:00Z"
    folder = workdir()
    rows = []
    with (
        Postgres(folder / "pgdata") as pg,
        start_emulator(workspace, folder, start_date=start) as emu,
    ):
        warm_analytics(emu, start[:10])
        for mode, settings in {
            "RECORD messages (default)": {},
            "BATCH messages (batch_config)": batch_settings(folder / "batches", "a-"),
        }.items():
            database = pg.create_database(f"bench_{len(rows)}")
            target_config = folder / f"target-{len(rows)}.json"
            target_config.write_text(
                json.dumps(
                    {
                        "sqlalchemy_url": pg.sqlalchemy_url(database),
                        "default_target_schema": "tap_slack_snow",
                        "load_method": "upsert",
                        "add_record_metadata": True,
                    }
                )
            )
            tap_config = folder / f"tap-{len(rows)}.json"
            tap_config.write_text(json.dumps({**fresh_config(emu, folder), **settings}))
            catalog_path = folder / f"catalog-{len(rows)}.json"
            catalog_path.write_text(json.dumps(catalog_for("member_analytics")))
            started = time.perf_counter()
            tap = subprocess.Popen(
                [
                    PYTHON,
                    "-m",
                    "tap_slack_snow",
                    "--config",
                    str(tap_config),
                    "--catalog",
                    str(catalog_path),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                cwd=ROOT,
            )
            target = subprocess.run(
                [str(TARGET_POSTGRES), "--config", str(target_config)],
                stdin=tap.stdout,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                check=False,
                text=True,
            )
            tap.wait()
            seconds = time.perf_counter() - started
            if tap.returncode != 0 or target.returncode != 0:
                raise RuntimeError("analytics into PostgreSQL failed\n" + target.stderr[-3000:])
            with pg.connect(database) as connection:
                loaded = connection.execute(
                    "SELECT count(*) FROM tap_slack_snow.member_analytics"
                ).fetchone()
            loaded_rows = int(loaded[0]) if loaded else 0
            rows.append(
                [
                    mode,
                    f"{seconds:.1f}",
                    f"{count / seconds:,.0f}",
                    f"{loaded_rows:,}",
                    "exact" if loaded_rows == count else "WRONG",
                ]
            )
    report.add(
        "5b. member_analytics into PostgreSQL",
        f"One day of {count:,} rows, `tap-slack-snow | target-postgres` (MeltanoLabs, "
        "load_method upsert, from the project's `.meltano/`) into an embedded PostgreSQL; "
        "wall time of the pipeline, one run each.\n\n"
        + table(["messages", "pipeline s", "rows/s", "rows in PostgreSQL", ""], rows),
    )


def method_time(requests: int, allowance: int, cost: float, window: float = 60.0) -> float:
    """Seconds for ``requests`` calls at ``cost`` s each under fixed windows of ``allowance``."""
    if requests <= 0:
        return 0.0
    windows = math.ceil(requests / allowance)
    last = requests - (windows - 1) * allowance
    return max(requests * cost, (windows - 1) * window + last * cost)


def bench_scale(
    report: Report,
    first: dict[str, t.Any],
    memory: dict[str, t.Any],
    analytics: dict[str, float] | None = None,
) -> None:
    """First and daily sync times on Slack's real limits, from the measured costs (and, with
    section 5, member_analytics through BATCH messages)."""
    seconds, requests, records = first["stream_seconds"], first["requests"], first["records"]

    def per_request(stream: str) -> float:
        return seconds.get(stream, 0.0) / max(1, requests.get(stream, 1))

    per_row = memory["analytics_seconds"] / memory["analytics_rows"]
    bench_users = first["users"]
    access_per_member = records["access_logs"] / bench_users
    billable_share = records["billable_info"] / bench_users
    small = max(per_request("team"), per_request("billing"), 0.01)
    analytics_overhead = max(0.0, per_request("member_analytics") - 100 * per_row)

    batch_per_row = 1 / analytics["batch_rate"] if analytics else None

    def plan(
        members: int, daily: bool, row_cost: float = per_row
    ) -> tuple[float, int, dict[str, float], float]:
        access = 0.8 * members if daily else access_per_member * members
        calls = {
            "users.list": (math.ceil(members / 1000), per_request("users")),
            "team.info": (1, small),
            "team.billing.info": (1, small),
            "team.billableInfo": (
                math.ceil(billable_share * members / 1000),
                per_request("billable_info"),
            ),
            "team.accessLogs": (
                math.ceil(access / 1000) + int(access // 100_000),
                per_request("access_logs"),
            ),
            "team.integrationLogs": (1 if daily else 5, per_request("integration_logs")),
            "admin.users.list": (math.ceil(members / 100) + 1, per_request("admin_users")),
            "admin.analytics.getFile": (
                2 if daily else 396,
                analytics_overhead + row_cost * members * (0.5 if daily else 395 / 396),
            ),
        }
        parts = {method: method_time(n, TIER[method], cost) for method, (n, cost) in calls.items()}
        # Side by side: the slowest method, unless the one thread that emits every record
        # (the sum of the per-request costs) is slower still.
        emitting = sum(n * cost for n, cost in calls.values())
        concurrent = max(*parts.values(), emitting)
        return sum(parts.values()), sum(n for n, _ in calls.values()), parts, concurrent

    rows = []
    cases: list[tuple[int, bool, float, str]] = []
    for members in (1_000, 100_000, 500_000):
        for daily in (False, True):
            label = "daily incremental" if daily else "first full sync"
            cases.append((members, daily, per_row, label))
            if batch_per_row is not None and members >= 100_000:
                cases.append((members, daily, batch_per_row, label + ", `batch_config`"))
    for members, daily, row_cost, label in cases:
        total, n, parts, concurrent = plan(members, daily, row_cost)
        top = sorted(parts.items(), key=lambda kv: kv[1], reverse=True)[:2]
        rows.append(
            [
                f"{members:,}",
                label,
                f"{n:,}",
                f"**{human(concurrent)}**",
                human(total),
                ", ".join(f"{m} {human(s)}" for m, s in top),
            ]
        )
    costs = [
        [stream, requests.get(stream, 0), f"{per_request(stream) * 1000:.0f} ms"]
        for stream in STREAM_METHODS
    ]
    body = (
        "Estimated from the costs measured in section 1 (seconds per request of each stream at "
        "full pages, no rate limits) and section 4 (member_analytics seconds per row), on "
        "Slack's real limits: Tier 2 (users.list, team.billableInfo, team.accessLogs, "
        "team.integrationLogs, admin.analytics.getFile) 20/min, Tier 3 (team.info, "
        "team.billing.info) 50/min, Tier 4 (admin.users.list) 100/min, modelled as fixed "
        "one-minute windows. Concurrent (the default): every method is read side by side, so a "
        "sync takes as long as its slowest method, or as the one thread that emits every record "
        "if that is slower (the sum of the measured per-request costs, which include fetching, "
        "so an upper bound); sequential (`concurrent_fetch: false`): the sum. Assumptions: "
        f"{access_per_member:.1f} access-log entries per member (as in section 1) for a first "
        "sync and 0.8 per member per day incrementally (each active member's entry moves); 5,000 "
        "integration-log entries; 13 months (396 requests) of member analytics on a first sync and "
        "2 requests a day after; one analytics row per member per day; "
        f"{billable_share * 100:.0f} % of members billable. A daily run re-reads users, "
        "billable_info and admin_users in full (full-table streams).\n\n"
        + table(
            ["members", "sync", "requests", "concurrent", "sequential", "slowest methods"], rows
        )
        + "\n\nMeasured cost per request (section 1):\n\n"
        + table(["stream", "requests", "cost / request"], costs)
        + f"\n\nmember_analytics: {per_row * 1e6:.1f} µs per row (RECORD messages, section 4)"
        + (
            f"; {batch_per_row * 1e6:.1f} µs per row with `batch_config` (section 5)."
            if batch_per_row is not None
            else "."
        )
    )
    report.add("6. Scale on paper (Slack's real limits)", body)


def human(seconds: float) -> str:
    """``1 h 05 min``, ``12 min``, ``40 s``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = seconds / 60
    if minutes < 90:
        return f"{minutes:.0f} min"
    return f"{int(minutes // 60)} h {int(minutes % 60):02d} min"


def main(argv: list[str] | None = None) -> int:
    """Run every benchmark and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short smoke run (< 2 min)")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results.md", help="markdown output"
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated sections to run (1-6; 6 needs 1 and 4, and uses 5 when it runs)",
    )
    args = parser.parse_args(argv)
    only = set(filter(None, args.only.split(",")))
    started = time.perf_counter()
    report = Report(quick=args.quick)
    stamp = dt.datetime.now(tz=dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    command = ".venv/bin/python benchmarks/run.py" + (" --quick" if args.quick else "")
    header = (
        "# tap-slack-snow benchmark results\n\n"
        f"- date: {stamp}\n- machine: {machine()} (shared with other developers' test runs)\n"
        f"- command: `{command}`\n"
        "- tap and emulator each in their own process; figures of noisy runs are medians of 3\n"
    )
    print(header, flush=True)
    first = memory = None
    if not only or "1" in only or "6" in only:
        first = bench_requests(report, args.quick)
    if not only or "2" in only:
        bench_rate_limited(report, args.quick)
    if not only or "3" in only:
        bench_cpu(report, args.quick)
    if not only or "4" in only or "6" in only:
        memory = bench_memory(report, args.quick)
    analytics = None
    if not only or "5" in only:
        analytics = bench_analytics(report, args.quick)
        bench_analytics_postgres(report, args.quick)
    if first is not None and memory is not None:
        bench_scale(report, first, memory, analytics)
    footer = f"\nTotal benchmark time: {time.perf_counter() - started:.0f} s.\n"
    print(footer)
    args.out.write_text(header + "\n" + "\n".join(report.sections) + footer, encoding="utf-8")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
