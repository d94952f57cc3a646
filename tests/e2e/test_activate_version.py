"""ACTIVATE_VERSION through target-postgres into PostgreSQL: ``tap | target-postgres``.

The tap runs from this checkout (``python -m tap_slack_snow``: Meltano would run its own
install, it drops ``PYTHONPATH``), piped into the target-postgres Meltano installed, with the
project's loader settings (upsert, record metadata, soft delete). The Slack emulator serves
over HTTP, in this process, so a test can change its answers between runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest

from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_devkit.meltano import REPO
from tap_slack_snow_emulator import Fault
from tests._support import change_answers
from tests.e2e.conftest import START_DATE, Pipeline

pytestmark = pytest.mark.e2e

TARGET = REPO / ".meltano" / "loaders" / "target-postgres" / "venv" / "bin" / "target-postgres"


def tap_into_postgres(
    pipeline: Pipeline, folder: Path, streams: tuple[str, ...], **settings: t.Any
) -> subprocess.CompletedProcess[str]:
    """One run of the tap piped into target-postgres; the tap's exit code and stderr."""
    emu = pipeline.emu
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "tap.json": {
            "api_url": emu.url,
            "scim_url": emu.scim_url,
            "client_id": emu.client_id,
            "client_secret": emu.client_secret,
            "refresh_token": pipeline.refresh_token,
            "token_store_path": str(pipeline.token_store),
            "start_date": START_DATE,
            **settings,
        },
        "catalog.json": select_only(*streams),
        "target.json": {
            "sqlalchemy_url": pipeline.postgres.sqlalchemy_url(pipeline.database),
            "default_target_schema": "tap_slack_snow",
            "load_method": "upsert",
            "add_record_metadata": True,
            "activate_version": True,
            "hard_delete": False,
        },
    }
    for name, content in files.items():
        (folder / name).write_text(json.dumps(content))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_SLACK_SNOW_")}
    log = folder / "tap.log"
    with (
        log.open("w") as tap_log,
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tap_slack_snow",
                *("--config", str(folder / "tap.json")),
                *("--catalog", str(folder / "catalog.json")),
            ],
            stdout=subprocess.PIPE,
            stderr=tap_log,
            env=env,
            cwd=folder,
        ) as tap,
    ):
        target = subprocess.run(
            [str(TARGET), "--config", str(folder / "target.json")],
            stdin=tap.stdout,
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
        tap.wait(timeout=60)
    assert target.returncode == 0, target.stderr[-3000:]
    return subprocess.CompletedProcess(tap.args, tap.returncode, "", log.read_text())


def deleted_seats(pipeline: Pipeline) -> set[str]:
    """billable_info rows the target marked deleted (ACTIVATE_VERSION, soft delete)."""
    with pipeline.connect() as conn:
        rows = conn.execute(
            "SELECT user_id FROM tap_slack_snow.billable_info WHERE _sdc_deleted_at IS NOT NULL"
        ).fetchall()
    return {row[0] for row in rows}


def test_a_failed_run_deletes_no_seat_and_a_finished_one_only_the_gone(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    """``emit_activate_version_messages``: a run that fails half-way in billable_info
    deletes no seat; a finished run deletes exactly the seat Slack stopped listing. Before:
    ACTIVATE_VERSION came before the records, so the failed run left every seat after page 2
    deleted though Slack still listed it."""
    if not TARGET.is_file():
        pytest.skip("target-postgres is not installed (meltano install)")
    emu = pipeline.emu
    settings = {
        "emit_activate_version_messages": True,
        "page_size": 100,
        "retry_max_attempts": 2,
        "retry_initial_wait": 0,
    }
    listed = set(emu.workspace.billable_user_ids())
    assert len(listed) > 300  # several pages of 100
    first = tap_into_postgres(pipeline, tmp_path / "first", ("billable_info",), **settings)
    assert first.returncode == 0, first.stderr[-3000:]
    assert pipeline.counts()["billable_info"] == len(listed)
    assert deleted_seats(pipeline) == set()

    # page 3 and every later request fail: pages 1 and 2 land, then the run fails
    third_page = emu.calls["team.billableInfo"] + 3
    emu.add_fault(Fault("team.billableInfo", "http_500", on_call=third_page, times=None))
    failed = tap_into_postgres(pipeline, tmp_path / "failed", ("billable_info",), **settings)
    assert failed.returncode == 1, failed.stderr[-3000:]
    assert "team.billableInfo" in failed.stderr.strip().splitlines()[-1]
    assert deleted_seats(pipeline) == set(), "seats Slack still lists were deleted"

    emu.clear_faults()
    gone = sorted(listed)[0]
    change_answers(
        emu,
        "team.billableInfo",
        lambda reply, _call: reply.payload["billable_info"].pop(gone, None),
    )
    last = tap_into_postgres(pipeline, tmp_path / "last", ("billable_info",), **settings)
    assert last.returncode == 0, last.stderr[-3000:]
    assert deleted_seats(pipeline) == {gone}
    assert pipeline.counts()["billable_info"] == len(listed)
