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
import time
import typing as t
from pathlib import Path

import pytest

from tap_slack_snow.run.prefetch import Prefetcher
from tap_slack_snow_devkit.emulators import EmulatorFactory
from tap_slack_snow_emulator import Fault, SlackEmulator
from tap_slack_snow_emulator.api import METHODS
from tests._support import STREAM_NAMES, SyncResult, bookmarks, parse_messages, run_cli, sync
from tests.run.grid_org import MINUTE, WORKSPACE, grid_config


def forced_waits(emu: SlackEmulator) -> tuple[float, dict[str, int]]:
    """Σ over methods of (windows - 1) x window, and the window boundaries per method."""
    total = 0.0
    boundaries: dict[str, int] = {}
    for method, made in emu.calls.items():
        ok = made - emu.rate_limited.get(method, 0)
        spec = METHODS.get(method)  # SCIM's reads have their own allowance for the org
        allowance = spec.allowance if spec is not None else emu.scim_reads_per_minute
        windows = math.ceil(ok / allowance)
        boundaries[method] = max(0, windows - 1)
        total += boundaries[method] * MINUTE
    return total, boundaries


def timed_sync(config: dict[str, t.Any]) -> tuple[SyncResult, float]:
    started = time.perf_counter()
    result = sync(config)
    return result, time.perf_counter() - started


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
    # SCHEMA, RECORD and STATE still come one stream after another, as in the sequential run
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
        # access_logs is the run's last stream (the longest expected): the run stops there,
        # after every other stream's records, as the skipping run wrote them
        assert failed.records == skipped.records
    assert lines[True] == lines[False]
    assert "paid_only" in lines[True] and "team.accessLogs" in lines[True]


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
    """Killed in the run's fourth stream (users) while the other workers have fetched ahead
    (and are waiting on rate limits): the resumed run, from the last STATE, completes every
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
    users = 0
    for line in proc.stdout:  # the run's order: admin_users, team, billing, users, ...
        lines.append(line)
        if line.startswith(b'{"type":"RECORD","stream":"users"'):
            users += 1
            if users >= 300:
                proc.send_signal(signal.SIGKILL)
                break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the tap finished before it could be killed"
    first = SyncResult(parse_messages(b"".join(lines).decode(errors="replace").rsplit("\n", 1)[0]))
    for stream in ("admin_users", "team", "billing"):
        assert first.count(stream) == clean.count(stream), stream
    assert 0 < first.count("users") < clean.count("users")
    assert "access_logs" not in first.records  # fetched ahead, never emitted

    resumed = run_cli(config, tmp_path / "killed", state=first.state)
    assert resumed.exit_code == 0, resumed.stderr[-2000:]
    for stream, fields in KEYS.items():
        union = keys(first, stream, fields) | keys(resumed, stream, fields)
        assert union == keys(clean, stream, fields), stream
    assert bookmarks(resumed.state) == bookmarks(clean.state)
