"""Concurrent fetching, sequential emission, under the emulator's rate limits (a scaled minute).

The workspace is sized so that four methods (users.list, team.billableInfo, team.accessLogs,
team.integrationLogs) each need several rate-limit windows: a run that reads them one after
another must wait at least the sum of their forced waits; read side by side they overlap.
The only timing assertions are of that kind (a sequential run cannot beat the sum, a concurrent
one must); the figures belong to benchmarks/run.py.
"""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import threading
import time
import typing as t
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tap_slack_snow.run.prefetch import Prefetcher
from tap_slack_snow.run.spool import Spool, SpoolStopped
from tap_slack_snow_devkit.emulators import EmulatorFactory
from tap_slack_snow_emulator import Fault, SlackEmulator, WorkspaceConfig
from tap_slack_snow_emulator.api import METHODS
from tests._support import (
    STREAM_NAMES,
    SyncResult,
    bookmarks,
    org_config,
    parse_messages,
    run_cli,
    sync,
)

NOW = float(int(time.time()))
TODAY = datetime.fromtimestamp(NOW, tz=timezone.utc).date()
START = (TODAY - timedelta(days=30)).isoformat() + "T00:00:00Z"
MINUTE = 1.0  # seconds of a rate-limit window

#: From 30 days back, with pages of 10: users.list 60 pages, team.billableInfo ~54,
#: team.accessLogs ~60, team.integrationLogs ~38, admin.analytics.getFile ~30 (Tier 2: 20 a
#: window), admin.users.list 60 (Tier 4: 100).
WORKSPACE = WorkspaceConfig(
    seed=31,
    users=600,
    plan="enterprise",
    enterprise=True,
    access_logs=3600,
    integration_logs=5000,
    analytics_rows_per_day=30,
    analytics_lag_days=2,
    now=NOW,
)


def grid_config(emu: SlackEmulator, tmp_path: Path, **extra: t.Any) -> dict[str, t.Any]:
    return org_config(emu, tmp_path, START, page_size=10, **extra)


def forced_waits(emu: SlackEmulator) -> tuple[float, dict[str, int]]:
    """Σ over methods of (windows - 1) x window, and the window boundaries per method."""
    total = 0.0
    boundaries: dict[str, int] = {}
    for method, made in emu.calls.items():
        ok = made - emu.rate_limited.get(method, 0)
        windows = math.ceil(ok / METHODS[method].allowance)
        boundaries[method] = max(0, windows - 1)
        total += boundaries[method] * MINUTE
    return total, boundaries


def timed_sync(config: dict[str, t.Any]) -> tuple[SyncResult, float]:
    started = time.perf_counter()
    result = sync(config)
    return result, time.perf_counter() - started


@pytest.fixture
def limited(emulator_factory: EmulatorFactory) -> SlackEmulator:
    return emulator_factory(WORKSPACE, minute_seconds=MINUTE)


def test_concurrent_sync_beats_the_sum_of_waits_with_the_sequential_records_and_state(
    limited: SlackEmulator, tmp_path: Path
) -> None:
    sequential, sequential_wall = timed_sync(
        grid_config(limited, tmp_path / "seq", concurrent_fetch=False)
    )
    assert sequential.exit_code == 0
    waits, _ = forced_waits(limited)
    # four methods need several windows each: reading them one after another waits them all
    assert waits >= 7 * MINUTE
    assert sequential_wall >= waits  # a sequential run cannot beat the sum

    limited.reset_stats()
    concurrent, concurrent_wall = timed_sync(grid_config(limited, tmp_path / "con"))
    assert concurrent.exit_code == 0
    assert concurrent_wall < waits  # only methods read side by side can beat the sum
    for stream in STREAM_NAMES:
        assert concurrent.count(stream) == sequential.count(stream) > 0, stream
        assert concurrent.records[stream] == sequential.records[stream], stream
    assert bookmarks(concurrent.state) == bookmarks(sequential.state)
    # Retry-After is honoured in every worker: about one 429 per window boundary and method
    _, boundaries = forced_waits(limited)
    assert sum(limited.rate_limited.values()) <= sum(boundaries.values()) + len(boundaries)
    # SCHEMA, RECORD and STATE still come one stream after another, in the SDK's order
    order = [m["stream"] for m in concurrent.messages if m["type"] == "SCHEMA"]
    assert order == [m["stream"] for m in sequential.messages if m["type"] == "SCHEMA"]
    streams_of_records = [m["stream"] for m in concurrent.messages if m["type"] == "RECORD"]
    changes = [
        s for i, s in enumerate(streams_of_records) if i == 0 or s != streams_of_records[i - 1]
    ]
    assert len(changes) == len(set(changes))  # each stream's records in one block


def test_two_workers_and_a_tiny_disk_budget_give_the_same_output(
    emulator_factory: EmulatorFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fewer workers than streams and spools that fill at once (workers wait for their
    stream's turn): no deadlock, and the output of a sequential run."""
    emu = emulator_factory(WORKSPACE)
    sequential = sync(grid_config(emu, tmp_path / "seq", concurrent_fetch=False))
    monkeypatch.setattr(Prefetcher, "SPOOL_LIMIT_BYTES", 1024)
    bounded = sync(grid_config(emu, tmp_path / "bounded", max_concurrent_streams=2))
    assert bounded.exit_code == sequential.exit_code == 0
    assert bounded.records == sequential.records
    assert bookmarks(bounded.state) == bookmarks(sequential.state)


def test_faults_in_one_stream_do_not_disturb_the_others(
    emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    emu = emulator_factory(WORKSPACE)
    clean = sync(grid_config(emu, tmp_path / "clean"))
    assert clean.exit_code == 0
    refreshes_before = emu.refreshes
    emu.reset_stats()  # faults count calls from here
    # a 5xx burst in one stream; token_expired in two streams fetched at the same time
    emu.add_fault(Fault("users.list", "http_500", on_call=3, times=3))
    emu.add_fault(Fault("team.accessLogs", "token_expired", on_call=2))
    emu.add_fault(Fault("admin.users.list", "token_expired", on_call=2))
    emu.add_fault(Fault("admin.analytics.getFile", "http_503", on_call=2, times=2))
    faulted = sync(grid_config(emu, tmp_path / "faulted"))
    assert faulted.exit_code == 0
    for stream in STREAM_NAMES:
        assert faulted.records.get(stream) == clean.records.get(stream), stream
    assert bookmarks(faulted.state) == bookmarks(clean.state)
    # the run's first refresh, and one rotation for both token_expired answers
    assert emu.refreshes - refreshes_before == 2
    assert emu.rate_limited.total() == 0
    assert emu.calls["users.list"] == 60 + 3  # every page once, plus the three 500s


def test_an_unavailable_stream_is_skipped_or_fails_as_in_a_sequential_run(
    emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    emu = emulator_factory(WORKSPACE)
    clean = sync(grid_config(emu, tmp_path / "clean"))
    emu.reset_stats()
    emu.add_fault(Fault("team.accessLogs", "error", on_call=1, times=None, error="paid_only"))
    skipped = sync(grid_config(emu, tmp_path / "skip"))
    assert skipped.exit_code == 0
    assert "access_logs" not in skipped.records
    for stream in set(STREAM_NAMES) - {"access_logs"}:
        assert skipped.records.get(stream) == clean.records.get(stream), stream
    skipped_marks = bookmarks(skipped.state)
    assert "access_logs" not in skipped_marks or not skipped_marks["access_logs"].get(
        "replication_key_value"
    )

    lines = {}
    for mode in (True, False):
        config = grid_config(emu, tmp_path / f"fail-{mode}", on_unavailable="fail")
        config["concurrent_fetch"] = mode
        failed = run_cli(config, tmp_path)
        assert failed.exit_code == 1
        assert "Traceback" not in failed.stderr
        lines[mode] = failed.stderr.strip().splitlines()[-1].split("Run failed: ", 1)[-1]
        # access_logs is the SDK's first stream (it syncs by name): the run stops there and
        # nothing fetched ahead for the other streams is emitted
        assert failed.records == {}
    assert lines[True] == lines[False]
    assert "paid_only" in lines[True] and "team.accessLogs" in lines[True]


def test_progress_lines_on_long_streams(limited: SlackEmulator, tmp_path: Path) -> None:
    config = grid_config(limited, tmp_path)
    result = run_cli(config, tmp_path, env={"TAP_SLACK_SNOW_PROGRESS_SECONDS": "0"})
    assert result.exit_code == 0, result.stderr[-2000:]
    progress = [line for line in result.stderr.splitlines() if " in progress: " in line]
    by_stream = {line.split("Stream ", 1)[1].split(" ", 1)[0] for line in progress}
    assert {"users", "access_logs", "member_analytics", "admin_users"} <= by_stream
    analytics = [line for line in progress if "Stream member_analytics" in line]
    assert any(" left" in line for line in analytics)  # it knows its days
    assert any("waiting on rate limits" in line for line in progress)
    # the final summary line stays
    assert any(
        "Stream users done: " in line and " 600 records" in line
        for line in result.stderr.splitlines()
    )
    # the member lists know no total on a first run; the next run knows the last run's size
    assert all("time left unknown" in line for line in progress if "Stream users " in line)
    assert result.state is not None
    users_state = result.state["bookmarks"]["users"]
    # one partition per workspace with an org-level token, else the stream's own state
    counts = [part.get("records_last_sync") for part in users_state.get("partitions", [])]
    assert counts == [600] or users_state.get("records_last_sync") == 600
    again = run_cli(
        config, tmp_path, state=result.state, env={"TAP_SLACK_SNOW_PROGRESS_SECONDS": "0"}
    )
    assert again.exit_code == 0
    users = [line for line in again.stderr.splitlines() if "Stream users in progress" in line]
    assert users and all(" left" in line for line in users)


def test_progress_lines_are_rate_limited_by_default(limited: SlackEmulator, tmp_path: Path) -> None:
    result = run_cli(grid_config(limited, tmp_path), tmp_path)
    assert result.exit_code == 0
    # a run of a few seconds is shorter than the 30 s interval
    assert " in progress: " not in result.stderr


def keys(result: SyncResult, stream: str, fields: tuple[str, ...]) -> set[tuple[t.Any, ...]]:
    return {tuple(r[f] for f in fields) for r in result.records.get(stream, [])}


KEYS = {
    "users": ("id",),
    "team": ("id",),
    "billing": ("team_id",),
    "billable_info": ("team_id", "user_id"),
    "access_logs": ("user_id", "ip", "user_agent"),
    "integration_logs": ("id",),
    "admin_users": ("id",),
    "member_analytics": ("date", "user_id"),
}


def test_sigkill_while_workers_are_ahead_then_resume_loses_nothing(
    limited: SlackEmulator, tmp_path: Path
) -> None:
    """Killed in the SDK's second stream while the other workers have fetched ahead (and
    are waiting on rate limits): the resumed run, from the last STATE, completes every
    stream, and the two runs together hold every record of an uninterrupted run."""
    clean = sync(grid_config(limited, tmp_path / "clean"))
    assert clean.exit_code == 0
    (tmp_path / "killed").mkdir()
    config = grid_config(limited, tmp_path / "killed")
    config_path = tmp_path / "killed" / "config.json"
    config_path.write_text(json.dumps(config))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tap_slack_snow", "--config", str(config_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    lines: list[bytes] = []
    admin_records = 0
    for line in proc.stdout:  # the SDK's order: access_logs, admin_users, billable_info, ...
        lines.append(line)
        if line.startswith(b'{"type":"RECORD","stream":"admin_users"'):
            admin_records += 1
            if admin_records >= 300:
                proc.send_signal(signal.SIGKILL)
                break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the tap finished before it could be killed"
    first = SyncResult(parse_messages(b"".join(lines).decode(errors="replace").rsplit("\n", 1)[0]))
    assert first.count("access_logs") == clean.count("access_logs")
    assert 0 < first.count("admin_users") < clean.count("admin_users")
    assert "users" not in first.records  # fetched ahead, never emitted

    resumed = run_cli(config, tmp_path / "killed", state=first.state)
    assert resumed.exit_code == 0, resumed.stderr[-2000:]
    for stream, fields in KEYS.items():
        union = keys(first, stream, fields) | keys(resumed, stream, fields)
        assert union == keys(clean, stream, fields), stream
    assert bookmarks(resumed.state) == bookmarks(clean.state)


# --------------------------------------------------------------------------------------
# the spool itself


def test_spool_keeps_order_across_disk_and_memory_and_bounds_the_disk() -> None:
    spool: Spool[list[int]] = Spool(encode=bytes, decode=list, max_bytes=40, live_pages=2)
    high_water = 0
    written = threading.Event()

    def writer() -> None:
        nonlocal high_water
        for n in range(200):
            spool.put([n % 256] * 10)
            high_water = max(high_water, spool._disk_bytes)
        written.set()
        spool.finish()

    worker = threading.Thread(target=writer)
    worker.start()
    time.sleep(0.2)  # the writer runs ahead until the disk budget is used up, then waits
    assert not written.is_set()
    pages = list(spool.read())
    worker.join()
    assert pages == [[n % 256] * 10 for n in range(200)]
    assert high_water <= 40 + 10  # the budget, plus at most the frame that crossed it
    spool.close()


def test_spool_raises_the_writers_error_after_its_pages_and_stops_the_writer() -> None:
    spool: Spool[list[int]] = Spool(encode=bytes, decode=list)
    spool.put([1])
    spool.put([2])
    spool.finish(RuntimeError("Slack method users.list failed 4 times in a row"))
    reader = spool.read()
    assert next(reader) == [1]
    assert next(reader) == [2]
    with pytest.raises(RuntimeError, match=r"users\.list"):
        next(reader)
    spool.close()

    stopped: Spool[list[int]] = Spool(encode=bytes, decode=list, max_bytes=0)
    stopped.put([1])  # over the budget now: the next put waits
    raised: list[BaseException] = []

    def blocked_writer() -> None:
        try:
            stopped.put([2])
        except SpoolStopped as exc:
            raised.append(exc)

    thread = threading.Thread(target=blocked_writer)
    thread.start()
    stopped.close()
    thread.join(timeout=5)
    assert not thread.is_alive() and raised
