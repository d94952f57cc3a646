"""Section 3, CPU throughput of the users stream: the tap against the floor pipeline
(``benchmarks/floor.py``) on a server that is not the bottleneck, what each speed choice is
worth (``benchmarks/tap_variant.py``), and where the tap's time goes (cProfile).
"""

from __future__ import annotations

import json
import os
import pstats
import subprocess
import time
import typing as t
from pathlib import Path

from benchmarks.harness import (
    PYTHON,
    ROOT,
    EmulatorProcess,
    catalog_for,
    median,
    run_tap,
    start_emulator,
    workdir,
)
from benchmarks.report import Report, table
from benchmarks.sections.common import INFO, fresh_config
from tap_slack_snow_emulator.config import ENTERPRISE_USER_SCOPES, WorkspaceConfig


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
        + f"\n\nTap / floor: **{shipped / floor:.2f}x** (goal ≤ 1.3x). Without the time both "
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
