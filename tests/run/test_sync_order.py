"""The order a run writes its streams in (``tap_slack_snow/streams/order.py``): the shortest
expected fetch first, so streams whose pages are already fetched are not written after one
Slack's rate limits still hold back.

Black-box, over HTTP against the emulator with a scaled rate-limit minute: the SCHEMA and
RECORD messages come in the documented order, the same with and without ``concurrent_fetch``,
and a run's fast streams are all written while the slow stream is still being fetched. The
one check of timing is of the kind a slow machine cannot break: while the fast streams are
written, the slow stream's method cannot have finished its forced rate-limit windows.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from tap_slack_snow_devkit.emulators import EmulatorFactory
from tap_slack_snow_emulator import WorkspaceConfig
from tap_slack_snow_emulator.api import METHODS
from tests._support import SyncResult, bookmarks, org_config, parse_messages, run_cli, sync

NOW = float(int(time.time()))
START = (
    datetime.fromtimestamp(NOW, tz=timezone.utc).date() - timedelta(days=30)
).isoformat() + "T00:00:00Z"
MINUTE = 1.0
#: access_logs needs ~150 pages of 10 (8 windows of Tier 2); every other method at most 2.
SLOW_ACCESS_LOGS = WorkspaceConfig(
    seed=41,
    users=60,
    plan="enterprise",
    enterprise=True,
    access_logs=9000,  # over 180 days: ~1,500 in the 30 days read
    integration_logs=60,
    analytics_rows_per_day=2,
    analytics_lag_days=2,
    now=NOW,
)
#: A first run (no state): one-answer methods and member lists (1 request expected) by tier,
#: then the date-ranged streams (30 days each), the logs last.
FIRST_RUN_ORDER = [
    "admin_users",  # 1 request at Tier 4
    "team",  # 1 at Tier 3
    "billing",
    "users",  # 1 at Tier 2 (no size known yet)
    "billable_info",
    "scim_users",
    "member_analytics",  # 30 days at Tier 2
    "integration_logs",
    "access_logs",
]


def schema_order(result: SyncResult) -> list[str]:
    return [m["stream"] for m in result.messages if m["type"] == "SCHEMA"]


def record_blocks(result: SyncResult) -> list[str]:
    """The streams of the RECORD messages, runs of one stream collapsed."""
    streams = [m["stream"] for m in result.messages if m["type"] == "RECORD"]
    return [s for i, s in enumerate(streams) if i == 0 or s != streams[i - 1]]


def test_a_first_run_writes_the_streams_in_the_documented_order_with_or_without_prefetch(
    emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    emu = emulator_factory(SLOW_ACCESS_LOGS)
    runs = {}
    for concurrent in (True, False):
        config = org_config(emu, tmp_path / str(concurrent), START, page_size=10)
        runs[concurrent] = run_cli({**config, "concurrent_fetch": concurrent}, tmp_path)
        assert runs[concurrent].exit_code == 0, runs[concurrent].stderr[-2000:]
        assert schema_order(runs[concurrent]) == FIRST_RUN_ORDER, concurrent
        assert record_blocks(runs[concurrent]) == FIRST_RUN_ORDER, concurrent
        selected = next(line for line in runs[concurrent].stderr.splitlines() if "Selected" in line)
        assert selected.endswith("Selected streams: " + ", ".join(FIRST_RUN_ORDER))
    assert runs[True].records == runs[False].records
    assert bookmarks(runs[True].state) == bookmarks(runs[False].state)
    # --discover still lists the streams by name
    discovered = subprocess.run(
        [sys.executable, "-m", "tap_slack_snow", "--discover"], capture_output=True, check=True
    )
    names = [entry["tap_stream_id"] for entry in json.loads(discovered.stdout)["streams"]]
    assert names == sorted(FIRST_RUN_ORDER)


def test_the_state_of_the_previous_run_moves_the_long_member_lists_last(
    emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    """After a first run the state knows the member lists' sizes (about 6 pages of 10 each)
    and the date-ranged streams' bookmarks: access_logs now expects one request (its
    bookmark is today), member_analytics two (two days late), the member lists six."""
    emu = emulator_factory(SLOW_ACCESS_LOGS)
    first = sync(org_config(emu, tmp_path / "first", START, page_size=10))
    assert first.exit_code == 0
    assert first.state is not None
    second = run_cli(
        org_config(emu, tmp_path / "second", START, page_size=10), tmp_path, state=first.state
    )
    assert second.exit_code == 0, second.stderr[-2000:]
    order = schema_order(second)
    assert order[:5] == [
        "team",  # 1 request at Tier 3
        "billing",
        "access_logs",  # 1 day at Tier 2: 1/20 of a minute
        "admin_users",  # 59 members: 6 pages at Tier 4, 6/100
        "member_analytics",  # 2 days at Tier 2
    ]
    # 6 pages at Tier 2 each; integration_logs' bookmark is 5 or 6 days old (its newest entry)
    assert set(order[5:]) == {"users", "billable_info", "scim_users", "integration_logs"}
    assert order.index("users") < order.index("billable_info")
    assert record_blocks(second) == [s for s in order if second.records.get(s)]


def test_the_fast_streams_are_written_while_the_slow_one_is_still_fetched(
    emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    """access_logs is the slowest method (eight rate-limit windows) and the run's last stream:
    every other stream's records are written before its first, while its worker is still
    waiting on Slack's windows; then the run writes the same records as a sequential run."""
    emu = emulator_factory(SLOW_ACCESS_LOGS, minute_seconds=MINUTE)
    sequential = sync(
        org_config(emu, tmp_path / "sequential", START, page_size=10, concurrent_fetch=False)
    )
    assert sequential.exit_code == 0
    pages = emu.calls["team.accessLogs"] - emu.rate_limited.get("team.accessLogs", 0)
    assert pages > 4 * METHODS["team.accessLogs"].allowance  # at least 4 window boundaries
    emu.reset_stats()
    (tmp_path / "run").mkdir()
    config_path = tmp_path / "run" / "config.json"
    config_path.write_text(json.dumps(org_config(emu, tmp_path / "run", START, page_size=10)))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tap_slack_snow", "--config", str(config_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    lines: list[bytes] = []
    fetched_when_reached: int | None = None
    for line in proc.stdout:
        if fetched_when_reached is None and line.startswith(b'{"type":"SCHEMA","stream":"access'):
            # every other stream is written: how far has access_logs' fetch gone?
            fetched_when_reached = emu.calls["team.accessLogs"]
        lines.append(line)
    assert proc.wait(timeout=120) == 0
    assert fetched_when_reached is not None
    # not held back by the slow stream: written before its fetch was half done (it needs
    # four more window boundaries, 4 s, by then)
    assert fetched_when_reached < pages / 2, (fetched_when_reached, pages)
    concurrent = SyncResult(parse_messages(b"".join(lines).decode()))
    assert record_blocks(concurrent)[-1] == "access_logs"
    assert concurrent.records == sequential.records
    assert bookmarks(concurrent.state) == bookmarks(sequential.state)
