"""Fault injection: every stream under network, HTTP, Slack and OAuth faults, a killed process
and malformed answers. Each faulted sync must end like the fault-free one: the same records
(exact counts, no duplicate keys) and the same bookmarks, or fail with one clear line.

Fast on purpose: small workspaces, fixed emulator clock, ``retry_initial_wait`` 0.01 s.
"""

from __future__ import annotations

import copy
import gzip
import json
import os
import random
import signal
import subprocess
import sys
import time
import typing as t
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jsonschema
import pytest

from tap_slack_snow.streams import STREAM_TYPES
from tap_slack_snow.tap import TapSlackSnow
from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_emulator import ENTERPRISE_USER_SCOPES, Fault, SlackEmulator, WorkspaceConfig
from tap_slack_snow_emulator.api import Reply
from tests._support import (
    SyncResult,
    bookmarks,
    oauth_config,
    org_config,
    parse_messages,
    run_cli,
    stored_chain,
    sync,
    sync_catching,
)

NOW = float(int(time.time()))
TODAY = datetime.fromtimestamp(NOW, tz=timezone.utc).date()
START = (TODAY - timedelta(days=8)).isoformat() + "T00:00:00Z"

#: An Enterprise org where every stream has data and several pages at page_size 50.
GRID = WorkspaceConfig(
    seed=21,
    users=130,
    plan="enterprise",
    enterprise=True,
    access_logs=3000,
    integration_logs=400,
    analytics_rows_per_day=40,
    analytics_lag_days=2,
    now=NOW,
)
STREAM_METHODS = {stream.name: stream.slack_method for stream in STREAM_TYPES}
FULL_TABLE = ("users", "team", "billing", "billable_info", "admin_users")
SCHEMAS = {
    stream.name: stream.schema
    for stream in TapSlackSnow(
        config={"access_token": "xoxp-schemas"}, validate_config=False
    ).streams.values()
}
PRIMARY_KEYS = {
    stream.name: tuple(stream.primary_keys or ())
    for stream in TapSlackSnow(
        config={"access_token": "xoxp-keys"}, validate_config=False
    ).streams.values()
}


def grid_config(emu: SlackEmulator, tmp_path: Path, **extra: t.Any) -> dict[str, t.Any]:
    """Org-level token, team_id set, start_date 8 days back, pages of 50."""
    return org_config(emu, tmp_path, START, page_size=50, **extra)


def keys_of(result: SyncResult, stream: str) -> list[tuple[t.Any, ...]]:
    return [tuple(r[k] for k in PRIMARY_KEYS[stream]) for r in result.records.get(stream, [])]


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> SyncResult:
    """The fault-free sync every faulted one is compared with."""
    emu = SlackEmulator(GRID).start()
    try:
        result = sync(grid_config(emu, tmp_path_factory.mktemp("clean")))
    finally:
        emu.stop()
    assert result.exit_code == 0
    for stream in STREAM_METHODS:
        assert result.count(stream) > 0, stream
    assert emu.calls["users.list"] >= 3 and emu.calls["team.accessLogs"] >= 3
    return result


def assert_same_as_clean(result: SyncResult, clean: SyncResult) -> None:
    """Exact counts, the same keys, no duplicates in full-table streams, same bookmarks."""
    assert result.exit_code == 0
    for stream in STREAM_METHODS:
        got, want = keys_of(result, stream), keys_of(clean, stream)
        assert len(got) == len(want), stream
        assert set(got) == set(want), stream
        if stream in FULL_TABLE:
            assert len(set(got)) == len(got), f"duplicate keys in {stream}"
    assert bookmarks(result.state) == bookmarks(clean.state)


# --------------------------------------------------------------------------------------
# faults the tap recovers from: the run ends exactly like the fault-free one

RECOVERABLE: dict[str, tuple[list[Fault], dict[str, t.Any]]] = {
    "http_500_bursts": (
        [
            Fault("users.list", "http_500", on_call=2, times=3),
            Fault("team.accessLogs", "http_500", on_call=1, times=2),
            Fault("admin.analytics.getFile", "http_500", on_call=3, times=3),
        ],
        {},
    ),
    "http_503_bursts": (
        [
            Fault("team.billableInfo", "http_503", on_call=1, times=3),
            Fault("admin.users.list", "http_503", on_call=2, times=3),
            Fault("team.integrationLogs", "http_503", on_call=1, times=2),
            Fault("team.info", "http_503", on_call=1),
        ],
        {},
    ),
    "connection_reset_mid_body": (
        [
            Fault("users.list", "reset", on_call=2),
            Fault("team.accessLogs", "reset", on_call=3, rst=True),
            Fault("admin.users.list", "reset", on_call=4),
            Fault("admin.analytics.getFile", "reset", on_call=2),
            Fault("auth.test", "reset", on_call=1),
        ],
        {},
    ),
    "read_timeout": (
        [Fault("users.list", "timeout", on_call=2, seconds=3)],
        {"request_timeout": 1},
    ),
    "ok_false_internal_and_fatal_error": (
        [
            Fault("team.billableInfo", "error", error="internal_error", on_call=2, times=2),
            Fault("admin.users.list", "error", error="fatal_error", on_call=3),
            Fault("team.accessLogs", "error", error="fatal_error", on_call=2),
            Fault("admin.analytics.getFile", "error", error="internal_error", on_call=1),
        ],
        {},
    ),
    "token_expired_mid_pagination": (
        [
            Fault("users.list", "token_expired", on_call=2),
            Fault("team.accessLogs", "token_expired", on_call=3),
            Fault("admin.analytics.getFile", "token_expired", on_call=2),
        ],
        {},
    ),
    "truncated_and_corrupt_gzip": (
        [
            Fault("admin.analytics.getFile", "truncated_gzip", on_call=2),
            Fault("admin.analytics.getFile", "corrupt_gzip", on_call=4),
        ],
        {},
    ),
}


@pytest.mark.parametrize("name", sorted(RECOVERABLE))
def test_fault_recovers_to_the_clean_result(
    name: str, emulator_factory, tmp_path: Path, clean_run: SyncResult
) -> None:
    faults, extra = RECOVERABLE[name]
    emu = emulator_factory(GRID)
    for fault in faults:
        emu.add_fault(copy.deepcopy(fault))
    result = sync(grid_config(emu, tmp_path, **extra))
    assert_same_as_clean(result, clean_run)
    for fault in faults:  # every fault really fired
        assert emu.calls[fault.method] >= fault.on_call + (fault.times or 1) - 1, fault


def test_429_storm_on_several_methods_at_once(
    emulator_factory, tmp_path: Path, clean_run: SyncResult
) -> None:
    # a scaled minute: tiers are enforced too, and Retry-After 6 "seconds" is 0.05 s
    emu = emulator_factory(GRID, minute_seconds=0.5)
    methods = ["users.list", "team.accessLogs", "admin.users.list", "admin.analytics.getFile"]
    for method in methods:
        emu.add_fault(Fault(method, "http_429", on_call=2, times=4, retry_after=6))
    result = sync(grid_config(emu, tmp_path, retry_max_attempts=1))  # 429s never use it up
    assert_same_as_clean(result, clean_run)
    for method in methods:
        assert emu.rate_limited[method] >= 4


def test_refresh_answer_lost_inside_the_grace_window_recovers(
    emulator_factory, tmp_path: Path, clean_run: SyncResult
) -> None:
    """Slack rotated, the answer was lost; replaying the old token inside the grace window
    returns the same new pair, so the run goes on and the store holds the live chain."""
    emu = emulator_factory(GRID)
    emu.add_fault(Fault("oauth.v2.access", "reset", on_call=1))
    config = grid_config(emu, tmp_path)
    result = sync(config)
    assert_same_as_clean(result, clean_run)
    stored = stored_chain(config)
    emu.expire_access_tokens()
    emu.refresh_grace_seconds = 0
    again = sync(config, catalog=select_only("team"))  # rotates with the stored token
    assert again.exit_code == 0 and again.count("team") == 2  # the workspace and the org
    assert stored_chain(config)["refresh_token"] != stored["refresh_token"]


def test_refresh_answer_lost_with_no_grace_window_fails_once_and_clearly(
    emulator_factory, tmp_path: Path
) -> None:
    """Grace window 0: Slack rotated but the answer never arrived, so the only refresh token
    the tap knows is dead. Nothing can revive it: one retry, then one clear line."""
    emu = emulator_factory(GRID)
    emu.refresh_grace_seconds = 0
    emu.add_fault(Fault("oauth.v2.access", "reset", on_call=1))
    result = run_cli(grid_config(emu, tmp_path), tmp_path)
    assert result.exit_code == 1
    assert emu.calls["oauth.v2.access"] == 2  # no loop
    last = result.stderr.strip().splitlines()[-1]
    assert "oauth.v2.access" in last and "invalid_refresh_token" in last
    assert "lost" in last and "re-authorise" in last
    assert "Traceback" not in result.stderr


# --------------------------------------------------------------------------------------
# the tap killed with SIGKILL mid-sync, then run again from the last STATE it emitted

KILL_WORKSPACE = WorkspaceConfig(
    seed=22,
    users=3000,
    plan="enterprise",
    enterprise=True,
    access_logs=20_000,
    integration_logs=300,
    analytics_rows_per_day=20,
    now=NOW,
)
KILL_STREAMS = ("users", "billable_info", "access_logs", "integration_logs")


def test_sigkill_mid_sync_then_resume_loses_nothing(emulator_factory, tmp_path: Path) -> None:
    emu = emulator_factory(KILL_WORKSPACE)
    catalog = select_only(*KILL_STREAMS)
    start = (TODAY - timedelta(days=400)).isoformat() + "T00:00:00Z"

    def config(name: str) -> dict[str, t.Any]:
        return oauth_config(
            emu,
            tmp_path / name,
            scopes=ENTERPRISE_USER_SCOPES,
            org_level=True,
            team_id=emu.workspace.team_ids[0],
            start_date=start,
            page_size=500,
        )

    clean = sync(config("clean"), catalog=catalog)
    assert clean.exit_code == 0

    (tmp_path / "killed").mkdir()
    killed_config = config("killed")
    config_path = tmp_path / "killed" / "config.json"
    config_path.write_text(json.dumps(killed_config))
    catalog_path = tmp_path / "killed" / "catalog.json"
    catalog_path.write_text(json.dumps(catalog))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tap_slack_snow",
            *("--config", str(config_path), "--catalog", str(catalog_path)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    # the run's order (the shortest expected first): users, billable_info, integration_logs,
    # access_logs; kill in the middle of access_logs, the last one, after the others' STATE
    # went out
    lines: list[bytes] = []
    log_records = 0
    for line in proc.stdout:
        lines.append(line)
        if line.startswith(b'{"type":"RECORD","stream":"access_logs"'):
            log_records += 1
            if log_records >= 5000:
                proc.send_signal(signal.SIGKILL)
                break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the tap finished before it could be killed"
    first = SyncResult(parse_messages(b"".join(lines).decode(errors="replace").rsplit("\n", 1)[0]))
    assert 0 < first.count("access_logs") < clean.count("access_logs")
    for stream in ("users", "billable_info", "integration_logs"):
        assert first.count(stream) == clean.count(stream), stream
    assert first.state is not None
    assert bookmarks(first.state)["integration_logs"] == bookmarks(clean.state)["integration_logs"]

    resumed = run_cli(killed_config, tmp_path / "killed", catalog=catalog, state=first.state)
    assert resumed.exit_code == 0, resumed.stderr[-2000:]
    for stream in KILL_STREAMS:
        union = set(keys_of(first, stream)) | set(keys_of(resumed, stream))
        assert union >= set(keys_of(clean, stream)), stream
    expected_access = {
        (e["user_id"], e["ip"], e["user_agent"])
        for e in emu.workspace.access_log_entries()
        if e["date_last"] >= datetime.fromisoformat(start.replace("Z", "+00:00")).timestamp()
    }
    assert set(keys_of(first, "access_logs")) | set(keys_of(resumed, "access_logs")) >= (
        expected_access
    )
    assert bookmarks(resumed.state) == bookmarks(clean.state)


# --------------------------------------------------------------------------------------
# malformed answers: valid records, or exit 1 with a line naming the method and the problem

FORMAT_CHECKER = jsonschema.FormatChecker()


def check_outcome(result: SyncResult, error: str | None, stream: str, method: str) -> None:
    """Either every record matches its schema, or the run failed naming the method."""
    for name, records in result.records.items():
        validator = jsonschema.Draft7Validator(SCHEMAS[name], format_checker=FORMAT_CHECKER)
        for record in records:
            problems = [e.message for e in validator.iter_errors(record)]
            assert not problems, (name, problems[:3])
    if error is None:
        assert result.exit_code == 0
        return
    assert result.exit_code == 1
    assert method in error, error
    assert len(error.splitlines()) == 1


FUZZ_KINDS = ("non_json", "missing_ok", "wrong_types", "nulls", "huge_string")


@pytest.mark.parametrize("kind", FUZZ_KINDS)
@pytest.mark.parametrize("stream", sorted(STREAM_METHODS))
def test_malformed_answer_kinds(stream: str, kind: str, emulator_factory, tmp_path: Path) -> None:
    method = STREAM_METHODS[stream]
    emu = emulator_factory(GRID)
    # once on a later page, then forever from a later call: recover, or fail clearly
    emu.add_fault(Fault(method, kind, on_call=2, size=200_000))
    emu.add_fault(Fault(method, kind, on_call=4, times=None, size=200_000))
    result, error = sync_catching(grid_config(emu, tmp_path), select_only(stream))
    check_outcome(result, error or None, stream, method)


def random_json(rng: random.Random, depth: int = 0) -> t.Any:
    """A random JSON value (seeded): scalars of every type, odd numbers, nested values."""
    roll = rng.random()
    if depth > 2 or roll < 0.55:
        return rng.choice(
            [
                None,
                True,
                False,
                0,
                -1,
                rng.randint(-(10**6), 10**6),
                10**30,
                -(10**400),
                rng.random() * 1e12,
                1e308,
                -0.0,
                "",
                "x" * rng.randint(1, 40),
                "1700000000",
                "2024-02-30",
                "null",
                "\u0000\u202e\U0001f600",
                str(rng.random()),
            ]
        )
    if roll < 0.8:
        return [random_json(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {
        rng.choice(["id", "ok", "name", "date", "next_cursor", "x"]): random_json(rng, depth + 1)
        for _ in range(rng.randint(0, 3))
    }


def mutate(payload: t.Any, rng: random.Random) -> None:
    """Replace (or delete) one value at a random place of a decoded answer."""
    node = payload
    for _ in range(rng.randint(0, 3)):
        children = (
            [v for v in node.values() if isinstance(v, (dict, list)) and v]
            if isinstance(node, dict)
            else [v for v in node if isinstance(v, (dict, list)) and v]
        )
        if not children:
            break
        node = rng.choice(children)
    if isinstance(node, dict) and node:
        key = rng.choice(sorted(node))
        if rng.random() < 0.15:
            del node[key]
        else:
            node[key] = random_json(rng)
    elif isinstance(node, list) and node:
        node[rng.randrange(len(node))] = random_json(rng)


def install_random_mutation(emu: SlackEmulator, method: str, seed: int) -> None:
    """From the method's second call on, one answer in two gets a random value somewhere
    (JSON answers in place; gzip files line by line)."""
    rng = random.Random(f"{method}:{seed}")
    handle = emu.api.handle

    def mutating(method_name: str, *args: t.Any, **kwargs: t.Any) -> Reply:
        reply = handle(method_name, *args, **kwargs)
        if method_name != method or kwargs.get("call_no", 0) < 2 or rng.random() < 0.5:
            return reply
        if reply.payload is not None:
            mutate(reply.payload, rng)
        elif reply.content_type == "application/gzip":
            rows = gzip.decompress(reply.materialize()).decode().splitlines()
            if rows:
                index = rng.randrange(len(rows))
                if rng.random() < 0.2:
                    rows[index] = json.dumps(random_json(rng))
                else:
                    row = json.loads(rows[index])
                    mutate(row, rng)
                    rows[index] = json.dumps(row)
            reply.body = gzip.compress(("\n".join(rows) + "\n").encode())
            reply.stream = None
        return reply

    emu.api.handle = mutating  # type: ignore[method-assign]


#: More seeds for a deeper search: FAULTS_FUZZ_SEEDS=200 pytest tests/test_faults.py -k random
FUZZ_SEEDS = int(os.environ.get("FAULTS_FUZZ_SEEDS", "6"))


@pytest.mark.parametrize("seed", range(FUZZ_SEEDS))
@pytest.mark.parametrize("stream", sorted(STREAM_METHODS))
def test_random_json_values(stream: str, seed: int, emulator_factory, tmp_path: Path) -> None:
    method = STREAM_METHODS[stream]
    emu = emulator_factory(GRID)
    install_random_mutation(emu, method, seed)
    result, error = sync_catching(grid_config(emu, tmp_path), select_only(stream))
    check_outcome(result, error or None, stream, method)


@pytest.mark.parametrize(
    ("stream", "kind"),
    [("users", "wrong_types"), ("access_logs", "nulls"), ("billable_info", "non_json")],
)
def test_malformed_answer_cli_last_line(stream: str, kind: str, emulator_factory, tmp_path) -> None:
    """Through the real command line: exit code 1, the last stderr line names the method."""
    method = STREAM_METHODS[stream]
    emu = emulator_factory(GRID)
    emu.add_fault(Fault(method, kind, on_call=1, times=None))
    result = run_cli(grid_config(emu, tmp_path), tmp_path, catalog=select_only(stream))
    assert result.exit_code == 1
    last = result.stderr.strip().splitlines()[-1]
    assert method in last
    assert "Traceback" not in result.stderr
