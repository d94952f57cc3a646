"""A Grid org's per-workspace partitions fetched ahead of their turn (org-level token).

users, team, billable_info and integration_logs run once per workspace; with
``concurrent_fetch`` (the default) their partitions are fetched side by side (up to
``max_concurrent_workspaces`` workers per stream), while the SDK emits the streams and their
partitions one after another. The streams share each
workspace's first answer, so a workspace Slack refuses is still asked once per run, and the
output (records, message order, STATE) is that of a ``concurrent_fetch: false`` run.

The one timing assertion is of the kind a noisy machine cannot break: a run that reads the
per-workspace methods one after another cannot beat the sum of their forced rate-limit waits,
so a run that does must have read them side by side.
"""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import time
import typing as t
from collections import Counter
from pathlib import Path

from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_devkit.emulators import EmulatorFactory
from tap_slack_snow_emulator import ENTERPRISE_USER_SCOPES, Fault, SlackEmulator, WorkspaceConfig
from tap_slack_snow_emulator.api import METHODS
from tests._support import SyncResult, bookmarks, oauth_config, parse_messages, run_cli, sync
from tests.run.test_workspaces import GRID, START_DATE

#: The streams whose Slack method is per workspace on an org-level token, with the org-wide
#: ones the SDK syncs between them (admin_users) and before them (billing).
CATALOG = select_only(
    "users", "team", "billable_info", "integration_logs", "billing", "admin_users"
)
DENIED = WorkspaceConfig(**{**GRID.__dict__, "denied_workspaces": (2,)})
MINUTE = 1.0  # seconds of a rate-limit window
#: Two workspaces; with pages of 10, users.list and team.billableInfo need 3 windows per
#: workspace and team.integrationLogs 1 and 4 (per method and workspace, as Slack counts).
LIMITED = WorkspaceConfig(
    seed=21,
    users=1100,
    plan="enterprise",
    enterprise=True,
    workspaces=2,
    integration_logs=800,
    access_logs=200,
    now=float(int(time.time())),
)
PER_WORKSPACE_METHODS = ("users.list", "team.billableInfo", "team.integrationLogs")


def org_config(emu: SlackEmulator, tmp_path: Path, **extra: t.Any) -> dict[str, t.Any]:
    return oauth_config(
        emu,
        tmp_path,
        scopes=ENTERPRISE_USER_SCOPES,
        org_level=True,
        start_date=START_DATE,
        **extra,
    )


def team_of(request: t.Any) -> str | None:
    """The workspace a request names (team.info names it ``team``)."""
    arguments = {**request.query, **request.form}
    team = arguments.get("team_id") or arguments.get("team")
    return str(team) if team else None


def skip_lines(result: SyncResult, team: str) -> list[str]:
    """The log lines about skipping ``team``, without the log line's prefix."""
    return [
        line[line.index("Skipping") :]
        for line in result.stderr.splitlines()
        if team in line and "Skipping" in line
    ]


def message_order(result: SyncResult) -> list[tuple[str, str]]:
    """(type, stream) of every SCHEMA and RECORD message, runs of equal pairs collapsed."""
    pairs = [(m["type"], m["stream"]) for m in result.messages if m["type"] in {"SCHEMA", "RECORD"}]
    return [pair for i, pair in enumerate(pairs) if i == 0 or pair != pairs[i - 1]]


def last_line(result: SyncResult) -> str:
    return result.stderr.strip().splitlines()[-1].split("Run failed: ", 1)[-1]


def test_refused_workspace_is_asked_once_while_partitions_are_fetched_ahead(
    emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    emu = emulator_factory(DENIED)
    teams = emu.workspace.team_ids
    denied = teams[2]
    runs: dict[bool, SyncResult] = {}
    for concurrent in (False, True):
        emu.reset_stats()
        config = org_config(emu, tmp_path, page_size=50, concurrent_fetch=concurrent)
        runs[concurrent] = result = run_cli(config, tmp_path, catalog=CATALOG)
        assert result.exit_code == 0, result.stderr[-2000:]
        # asked once in the whole run, whichever stream's worker asked first
        assert sum(1 for r in emu.requests if team_of(r) == denied) == 1, concurrent
        # one warning, logged when the SDK reaches the first partition of that workspace
        (warning,) = skip_lines(result, denied)
        assert "team_access_not_granted" in warning
    sequential, concurrent_run = runs[False], runs[True]
    # the same warning line (it names the SDK's first stream to reach the workspace)
    assert skip_lines(concurrent_run, denied) == skip_lines(sequential, denied)
    assert "team.info" in skip_lines(sequential, denied)[0]  # team: the first per-workspace stream
    # exact records, in the same order, the same messages order and bookmarks
    readable = [team for team in teams if team != denied]
    for stream in ("billable_info", "integration_logs"):
        assert {r["team_id"] for r in concurrent_run.records[stream]} == set(readable), stream
    assert len(concurrent_run.records["integration_logs"]) == sum(
        len(emu.workspace.integration_log_entries(team_id=team)) for team in readable
    )
    assert concurrent_run.records == sequential.records
    assert message_order(concurrent_run) == message_order(sequential)
    assert bookmarks(concurrent_run.state) == bookmarks(sequential.state)
    # per workspace: integration_logs bookmarks, records_last_sync of the full-table streams,
    # nothing for the refused workspace
    assert concurrent_run.state is not None
    marks = concurrent_run.state["bookmarks"]
    logs = {p["context"]["team_id"]: p for p in marks["integration_logs"]["partitions"]}
    assert all(logs[team].get("replication_key_value") for team in readable)
    assert not logs.get(denied, {}).get("replication_key_value")
    users = {p["context"]["team_id"]: p for p in marks["users"]["partitions"]}
    assert sum(users[team]["records_last_sync"] for team in readable) == len(
        concurrent_run.records["users"]
    )
    assert "records_last_sync" not in users.get(denied, {})
    # the STATE messages say the same about what is done, in the same steps (a STATE before
    # each workspace after the first); those of a prefetch also hold the starting values of
    # partitions still to come, written before the workers start
    assert checkpoints(concurrent_run) == checkpoints(sequential)


def checkpoints(result: SyncResult) -> list[dict[str, t.Any]]:
    """What each STATE message says is done (bookmarks and record counts per partition),
    repeats collapsed."""
    done: list[dict[str, t.Any]] = []
    for state in result.states:
        marks = {}
        for stream, mark in state.get("bookmarks", {}).items():
            parts = [
                part
                for part in mark.get("partitions", [mark])
                if "replication_key_value" in part or "records_last_sync" in part
            ]
            if parts:
                marks[stream] = parts
        if not done or marks != done[-1]:
            done.append(marks)
    return done


def test_refused_workspace_fails_by_policy_as_in_a_sequential_run(
    emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    emu = emulator_factory(DENIED)
    denied = emu.workspace.team_ids[2]
    lines = {}
    for concurrent in (False, True):
        config = org_config(emu, tmp_path, on_unavailable="fail", concurrent_fetch=concurrent)
        failed = run_cli(config, tmp_path, catalog=CATALOG)
        assert failed.exit_code == 1
        assert "Traceback" not in failed.stderr
        lines[concurrent] = last_line(failed)
        assert denied in lines[concurrent] and "team_access_not_granted" in lines[concurrent]
    assert lines[True] == lines[False]


def test_a_refusal_after_records_were_emitted_still_fails(
    emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    emu = emulator_factory(GRID)
    first = emu.workspace.team_ids[0]
    lines = {}
    for concurrent in (False, True):
        emu.clear_faults()
        emu.reset_stats()
        # users.list's second page of the first workspace: records of it were emitted
        emu.add_fault(
            Fault(
                "users.list", "error", on_call=2, workspace=first, error="team_access_not_granted"
            )
        )
        config = org_config(emu, tmp_path, page_size=20, concurrent_fetch=concurrent)
        failed = run_cli(config, tmp_path, catalog=CATALOG)
        assert failed.exit_code == 1, failed.stderr[-2000:]
        assert "Traceback" not in failed.stderr
        assert failed.count("users") > 0
        lines[concurrent] = last_line(failed)
        assert first in lines[concurrent] and "team_access_not_granted" in lines[concurrent]
    assert lines[True] == lines[False]


def test_faults_in_one_partition_do_not_disturb_the_others(
    emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    emu = emulator_factory(GRID)
    teams = emu.workspace.team_ids
    clean = sync(org_config(emu, tmp_path / "clean", page_size=20), catalog=CATALOG)
    assert clean.exit_code == 0
    emu.reset_stats()
    # 5xx bursts, a token expiry, and one workspace where integration_logs is unavailable
    emu.add_fault(Fault("users.list", "http_500", on_call=4, times=3))
    emu.add_fault(Fault("team.billableInfo", "http_503", on_call=2, times=2))
    emu.add_fault(Fault("team.info", "token_expired", on_call=2))
    emu.add_fault(
        Fault("team.integrationLogs", "error", on_call=1, workspace=teams[2], error="paid_only")
    )
    faulted = run_cli(
        org_config(emu, tmp_path / "faulted", page_size=20), tmp_path, catalog=CATALOG
    )
    assert faulted.exit_code == 0, faulted.stderr[-2000:]
    for stream in ("users", "team", "billable_info", "billing", "admin_users"):
        assert faulted.records[stream] == clean.records[stream], stream
    # integration_logs skips only that workspace (one line), the others are exact
    assert faulted.records["integration_logs"] == [
        r for r in clean.records["integration_logs"] if r["team_id"] != teams[2]
    ]
    (line,) = skip_lines(faulted, teams[2])
    assert line.startswith("Skipping stream integration_logs in workspace") and "paid_only" in line
    # every other stream still read that workspace (paid_only is not a workspace refusal)
    assert {team_of(r) for r in emu.requests if r.method == "team.billableInfo"} == set(teams)


def per_workspace_waits(emu: SlackEmulator) -> tuple[float, int]:
    """Σ over (method, workspace) of (windows - 1) x window for the per-workspace methods,
    from the requests of a run without rate limits; and the number of window boundaries."""
    made = Counter((r.method, team_of(r)) for r in emu.requests if r.method in METHODS)
    boundaries = 0
    for (method, _), count in made.items():
        windows = math.ceil(count / METHODS[method].allowance)
        boundaries += max(0, windows - 1)
    return boundaries * MINUTE, boundaries


def timed_sync(config: dict[str, t.Any]) -> tuple[SyncResult, float]:
    started = time.perf_counter()
    result = sync(config, catalog=select_only("users", "team", "billable_info", "integration_logs"))
    return result, time.perf_counter() - started


def test_per_workspace_methods_are_read_side_by_side_under_rate_limits(
    emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    emu = emulator_factory(LIMITED)
    clean, _ = timed_sync(org_config(emu, tmp_path / "clean", page_size=10))
    assert clean.exit_code == 0
    waits, boundaries = per_workspace_waits(emu)
    assert waits >= 8 * MINUTE  # each method needs several windows in some workspace

    emu.minute_seconds = MINUTE
    emu.reset_stats()
    sequential, sequential_wall = timed_sync(
        org_config(emu, tmp_path / "seq", page_size=10, concurrent_fetch=False)
    )
    assert sequential.exit_code == 0
    assert sequential_wall >= waits  # reading one method after another waits them all

    emu.reset_stats()
    concurrent, concurrent_wall = timed_sync(org_config(emu, tmp_path / "con", page_size=10))
    assert concurrent.exit_code == 0
    assert concurrent_wall < waits  # only methods read side by side can beat the sum
    # while one method waits out its window, the others' requests go on
    methods = [r.method for r in emu.requests if r.method in PER_WORKSPACE_METHODS]
    last_billable = max(i for i, method in enumerate(methods) if method == "team.billableInfo")
    assert methods.index("users.list") < last_billable  # sequential: users after billable
    assert concurrent.records == sequential.records == clean.records
    assert bookmarks(concurrent.state) == bookmarks(sequential.state)
    # Retry-After is honoured in every worker: at most about one 429 per window boundary (how
    # many depends on the machine's speed; test_grid_side_by_side forces one in a worker)
    assert emu.rate_limited.total() <= boundaries + 2 * len(PER_WORKSPACE_METHODS)


def test_sigkill_in_a_workspace_while_partitions_are_fetched_ahead_then_resume(
    emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    """Killed in integration_logs' second workspace (the run's last stream) while the workers
    have fetched its later workspaces ahead, side by side: the run resumed from the last
    STATE reads the first workspace from its bookmark, and the two runs together hold every
    record of an uninterrupted run."""
    emu = emulator_factory(GRID)
    clean = sync(org_config(emu, tmp_path / "clean", page_size=20), catalog=CATALOG)
    assert clean.exit_code == 0
    teams = emu.workspace.team_ids
    in_first = len(emu.workspace.integration_log_entries(team_id=teams[0]))
    emu.reset_stats()
    (tmp_path / "killed").mkdir()
    config = org_config(emu, tmp_path / "killed", page_size=20)
    config_path = tmp_path / "killed" / "config.json"
    config_path.write_text(json.dumps(config))
    catalog_path = tmp_path / "killed" / "catalog.json"
    catalog_path.write_text(json.dumps(CATALOG))
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "tap_slack_snow"),
            *("--config", str(config_path), "--catalog", str(catalog_path)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    lines: list[bytes] = []
    logs = 0
    for line in proc.stdout:  # the run's order: admin_users, team, billing, users, ...
        lines.append(line)
        if line.startswith(b'{"type":"RECORD","stream":"integration_logs"'):
            logs += 1
            if logs >= in_first + 10:
                proc.send_signal(signal.SIGKILL)
                break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the tap finished before it could be killed"
    # killed while the workers were ahead: integration_logs' later workspaces, and users'
    # and team's, were all under way side by side (one worker per workspace and stream)
    for method in ("team.integrationLogs", "users.list", "team.info"):
        assert {team_of(r) for r in emu.requests if r.method == method} >= set(teams), method
    first = SyncResult(parse_messages(b"".join(lines).decode(errors="replace").rsplit("\n", 1)[0]))
    for stream in ("admin_users", "team", "billing", "users", "billable_info"):
        assert first.count(stream) == clean.count(stream), stream  # before integration_logs
    assert first.state is not None
    done = [
        p["context"]["team_id"]
        for p in first.state["bookmarks"]["integration_logs"]["partitions"]
        if p.get("replication_key_value")
    ]
    assert done == [teams[0]]  # the STATE sent before the second workspace

    emu.reset_stats()
    resumed = run_cli(config, tmp_path / "killed", state=first.state, catalog=CATALOG)
    assert resumed.exit_code == 0, resumed.stderr[-2000:]
    # the first workspace is read from its bookmark: one page
    assert (
        sum(
            1 for r in emu.requests if r.method == "team.integrationLogs" and team_of(r) == teams[0]
        )
        == 1
    )
    for stream in ("users", "team", "billable_info", "integration_logs", "admin_users"):
        got = {json.dumps(r, sort_keys=True) for r in first.records.get(stream, [])} | {
            json.dumps(r, sort_keys=True) for r in resumed.records[stream]
        }
        assert got == {json.dumps(r, sort_keys=True) for r in clean.records[stream]}, stream
    assert bookmarks(resumed.state) == bookmarks(clean.state)
