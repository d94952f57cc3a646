"""member_analytics with the SDK's batch_config: one BATCH message per file, files per day.

The rows in the files are exactly the records a RECORD run emits, the bookmark is the same and
passes a day only in the STATE after the day's last file, the other streams keep RECORD
messages, and a file that breaks mid-day gets no BATCH message.
"""

from __future__ import annotations

import gzip
import json
import logging
import tempfile
import time
import typing as t
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_devkit.emulators import EmulatorFactory
from tap_slack_snow_emulator import Fault, SlackEmulator, WorkspaceConfig
from tests._support import (
    SyncResult,
    change_answers,
    change_gzip_rows,
    org_config,
    sync,
    sync_catching,
)
from tests.replay import ReplayServer, load

NOW = float(int(time.time()))
TODAY = datetime.fromtimestamp(NOW, tz=timezone.utc).date()
START = (TODAY - timedelta(days=6)).isoformat() + "T00:00:00Z"
GRID = WorkspaceConfig(
    seed=41,
    users=200,
    plan="enterprise",
    enterprise=True,
    analytics_rows_per_day=150,
    analytics_lag_days=2,
    now=NOW,
)


def config(emu: SlackEmulator, tmp_path: Path, **extra: t.Any) -> dict[str, t.Any]:
    return org_config(emu, tmp_path, START, **extra)


def batch_config(root: Path) -> dict[str, t.Any]:
    root.mkdir(parents=True, exist_ok=True)
    return {
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "storage": {"root": root.as_uri(), "prefix": "analytics-"},
    }


def batch_rows(result: SyncResult) -> list[list[dict[str, t.Any]]]:
    """The rows of each BATCH message's files, in message order."""
    files = []
    for message in result.messages:
        if message["type"] == "BATCH":
            assert message["stream"] == "member_analytics"
            assert message["encoding"] == {"format": "jsonl", "compression": "gzip"}
            rows: list[dict[str, t.Any]] = []
            for url in message["manifest"]:
                with gzip.open(Path(url.removeprefix("file://")), "rt") as lines:
                    rows += [json.loads(line) for line in lines]
            files.append(rows)
    return files


def bookmarks_after_batches(result: SyncResult) -> list[str | None]:
    """member_analytics' bookmark (its progress marker while the stream runs) in effect after
    each BATCH message: the SDK writes a STATE after each one only when the state changed."""
    marks: list[str | None] = []
    current = None
    for message in result.messages:
        if message["type"] == "STATE":
            mark = message["value"].get("bookmarks", {}).get("member_analytics", {})
            current = (mark.get("progress_markers") or mark).get("replication_key_value")
            if marks:
                marks[-1] = current
        elif message["type"] == "BATCH":
            marks.append(current)
    return marks


def test_member_analytics_batches_hold_the_records_of_a_record_run(
    emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    emu = emulator_factory(GRID)
    catalog = select_only("member_analytics", "users")
    records = sync(config(emu, tmp_path / "records"), catalog=catalog)
    assert records.exit_code == 0
    batched = sync(
        config(emu, tmp_path / "batch", batch_config=batch_config(tmp_path / "files")),
        catalog=catalog,
    )
    assert batched.exit_code == 0
    files = batch_rows(batched)
    days = sorted({row["date"] for row in records.records["member_analytics"]})
    assert len(files) == len(days) >= 3  # one file (and BATCH message) per day
    assert [file[0]["date"] for file in files] == days
    assert [row for file in files for row in file] == records.records["member_analytics"]
    assert "member_analytics" not in batched.records  # no RECORD for it
    assert batched.records["users"] == records.records["users"]  # the others keep RECORDs
    assert batched.state is not None and records.state is not None
    assert batched.state["bookmarks"] == records.state["bookmarks"]
    # a STATE follows every BATCH message
    kinds = [m["type"] for m in batched.messages if m["type"] in {"BATCH", "STATE"}]
    assert all(kinds[i + 1] == "STATE" for i, kind in enumerate(kinds) if kind == "BATCH")


def test_batch_size_caps_the_rows_of_each_file_of_a_day(
    emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    """A target reads a whole batch file into memory: ``batch_config.batch_size`` caps the rows
    per file. Each file is its own BATCH message, sent as soon as it is whole (the target
    loads it while the tap writes the next); the STATE after a file passes its day only
    when the file is the day's last."""
    emu = emulator_factory(GRID)
    catalog = select_only("member_analytics")
    records = sync(config(emu, tmp_path / "records"), catalog=catalog)
    assert records.exit_code == 0
    settings = {**batch_config(tmp_path / "files"), "batch_size": 40}
    batched = sync(config(emu, tmp_path / "batch", batch_config=settings), catalog=catalog)
    assert batched.exit_code == 0
    manifests = [m["manifest"] for m in batched.messages if m["type"] == "BATCH"]
    assert all(len(manifest) == 1 for manifest in manifests)  # a BATCH message per file
    files = batch_rows(batched)
    days = sorted({row["date"] for row in records.records["member_analytics"]})
    assert len(days) >= 3 and len(files) >= len(days) * (150 // 40)  # 150 rows a day
    assert max(len(file) for file in files) <= 40
    assert [row for file in files for row in file] == records.records["member_analytics"]
    assert all(len({row["date"] for row in file}) == 1 for file in files)  # one day a file
    # the bookmark in the STATE after each file passes the file's day only after its last file
    file_days = [file[0]["date"] for file in files]
    after_each_file = bookmarks_after_batches(batched)
    assert len(after_each_file) == len(files)
    for i, day in enumerate(file_days):
        days_last_file = i == len(files) - 1 or file_days[i + 1] != day
        if days_last_file:
            assert after_each_file[i] is not None and after_each_file[i] >= day
        else:
            assert after_each_file[i] is None or after_each_file[i] < day
    assert batched.state is not None and records.state is not None
    assert batched.state["bookmarks"] == records.state["bookmarks"]


def test_a_day_that_fails_gets_no_batch_message(
    emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    emu = emulator_factory(GRID)
    catalog = select_only("member_analytics")
    clean = sync(config(emu, tmp_path / "clean"), catalog=catalog)
    emu.reset_stats()
    # the third day's file stays corrupt: the run fails naming the date; the days before it
    # are whole files (a day's BATCH goes out when the next day's first row arrives)
    emu.add_fault(Fault("admin.analytics.getFile", "corrupt_gzip", on_call=3, times=None))
    result = sync(
        config(
            emu,
            tmp_path / "fail",
            batch_config=batch_config(tmp_path / "files"),
            retry_max_attempts=2,
        ),
        catalog=catalog,
    )
    assert result.exit_code == 1
    files = batch_rows(result)
    assert 1 <= len(files) <= 2
    for file in files:
        day = file[0]["date"]
        assert file == [r for r in clean.records["member_analytics"] if r["date"] == day]
    bookmark = (result.state or {}).get("bookmarks", {}).get("member_analytics", {})
    # the bookmark is not committed before the stream ends (progress only): a rerun reads
    # every day again, nothing is skipped
    assert (
        "replication_key_value" not in bookmark
        or bookmark["replication_key_value"] < (files[-1][0]["date"])
    )


def test_stream_maps_keep_member_analytics_in_record_messages(
    emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    """The SDK maps RECORD messages only: with stream_maps, no batch file may bypass them."""
    emu = emulator_factory(GRID)
    result = sync(
        config(
            emu,
            tmp_path,
            batch_config=batch_config(tmp_path / "files"),
            stream_maps={"member_analytics": {"email_address": "__NULL__"}},
        ),
        catalog=select_only("member_analytics"),
    )
    assert result.exit_code == 0
    assert not [m for m in result.messages if m["type"] == "BATCH"]
    rows = result.records["member_analytics"]
    assert rows and all("email_address" not in row for row in rows)


def deselect(catalog: dict[str, t.Any], stream: str, *properties: str) -> dict[str, t.Any]:
    for entry in catalog["streams"]:
        if entry["tap_stream_id"] == stream:
            for metadata in entry["metadata"]:
                if metadata["breadcrumb"][-1:] and metadata["breadcrumb"][-1] in properties:
                    metadata["metadata"]["selected"] = False
    return catalog


def test_batch_files_leave_out_the_properties_the_catalog_deselects(
    emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    emu = emulator_factory(GRID)
    catalog = deselect(select_only("member_analytics"), "member_analytics", "email_address")
    records = sync(config(emu, tmp_path / "records"), catalog=catalog)
    batched = sync(
        config(emu, tmp_path / "batch", batch_config=batch_config(tmp_path / "files")),
        catalog=catalog,
    )
    assert records.exit_code == batched.exit_code == 0
    rows = [row for file in batch_rows(batched) for row in file]
    assert rows and all("email_address" not in row for row in rows)
    assert rows == records.records["member_analytics"]  # the SDK drops it from RECORDs


def replay_rows(count: int, odd: dict[int, dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    """``count`` analytics lines of Slack's documented shape (no ``date``: the tap adds the
    day asked), with the lines in ``odd`` changed."""
    recorded = dict(load("admin.analytics.getFile", "docs-member-line")[0])
    del recorded["date"]
    rows = []
    for n in range(count):
        row = {**recorded, "user_id": f"W{n:010d}", "date_claimed": 1_584_810_510 + n}
        row.update(odd.get(n, {}))
        rows.append(row)
    return rows


def test_a_file_mixing_clean_and_drifted_rows_batches_what_records_emit(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Chunks of clean rows take the typed path, chunks with a drift go row by row: the
    files hold exactly the RECORD run's rows, and the drift warnings are the same."""
    odd = {
        10_000: {"is_guest": "false", "new_field": {"a": 1}},  # a lossless drift, a new field
        10_001: {"messages_posted_count": "many"},  # unconvertible: null with a warning
        10_002: {"date_claimed": "1584810510"},
    }
    rows = replay_rows(20_000, odd)  # about 12 MB: three chunks of lines, the middle one odd
    catalog = select_only("member_analytics")
    runs = {}
    for mode in ("records", "batch"):
        caplog.clear()
        with (
            tempfile.TemporaryDirectory() as folder,
            ReplayServer(
                {"auth.test": load("auth.test", "docs-user-token"), "admin.analytics.getFile": rows}
            ) as replay,
        ):
            settings: dict[str, t.Any] = {
                "access_token": "xoxp-replay",
                "api_url": replay.url,
                "scim_url": replay.scim_url,
                "edition": "enterprise",
                "start_date": START,
            }
            if mode == "batch":
                settings["batch_config"] = batch_config(Path(folder))
            with caplog.at_level(logging.INFO, logger="tap-slack-snow"):
                result, error = sync_catching(settings, catalog)
            assert not error, error
            emitted = (
                [row for file in batch_rows(result) for row in file]
                if mode == "batch"
                else result.records["member_analytics"]
            )
            warnings = sorted(
                r.getMessage()
                for r in caplog.records
                if r.levelno >= logging.INFO
                and ("member_analytics" in r.getMessage() and "field" in r.getMessage())
            )
            runs[mode] = (emitted, warnings)
    (records, record_warnings), (batched, batch_warnings) = runs["records"], runs["batch"]
    assert len(records) == 20_000
    assert batched == records
    assert batched[10_000]["is_guest"] is False and batched[10_000]["new_field"] == {"a": 1}
    assert batched[10_001]["messages_posted_count"] is None
    assert batched[10_002]["date_claimed_unix"] == 1_584_810_510
    assert record_warnings and batch_warnings == record_warnings


def test_rows_of_another_day_are_batched_under_the_day_asked_for(
    emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    """The typed path refuses a chunk whose rows are of another day and the rows go one by
    one: they are filed under the day the tap asked for, and the bookmark is that day.
    Before: a file of its own for 2030-01-01, and the bookmark 2030-01-01."""
    emu = emulator_factory(GRID)

    def second_day_in_2030(reply: t.Any, call: int) -> None:
        if call == 2:
            change_gzip_rows(reply, lambda row: row.update(date="2030-01-01"))

    change_answers(emu, "admin.analytics.getFile", second_day_in_2030)
    result = sync(
        config(emu, tmp_path, batch_config=batch_config(tmp_path / "files")),
        catalog=select_only("member_analytics"),
    )
    assert result.exit_code == 0
    files = batch_rows(result)
    days = [(TODAY - timedelta(days=6 - i)).isoformat() for i in range(5)]
    assert [file[0]["date"] for file in files] == days
    assert all({row["date"] for row in file} == {file[0]["date"]} for file in files)
    assert [len(file) for file in files] == [150] * 5
    assert result.state is not None
    assert result.state["bookmarks"]["member_analytics"]["replication_key_value"] == days[-1]
