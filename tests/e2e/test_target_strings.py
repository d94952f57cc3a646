"""Strings PostgreSQL cannot store, through a real target: a NUL character or a lone surrogate
in members' profiles (sent by the emulator as JSON escapes, as Slack would) is loaded by
target-postgres, and both processes exit 0 (before: a NUL made target-postgres fail the
whole load; a lone surrogate made the tap's writer fail).

The tap runs as a process, its stdout piped to the target-postgres that ``meltano install``
put in the project's ``.meltano/`` (the one ``meltano run`` uses), loading into a real
PostgreSQL; Slack is the emulator over HTTP.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest

from tap_slack_snow_devkit import pg
from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_devkit.meltano import REPO
from tap_slack_snow_emulator import SlackEmulator, WorkspaceConfig
from tests._support import ENV_PREFIX, static_config
from tests.tamper import edit_json

pytestmark = pytest.mark.e2e

TARGET = REPO / ".meltano" / "loaders" / "target-postgres" / "venv" / "bin" / "target-postgres"
#: The value each case puts in one member's profile, and what PostgreSQL must then hold.
CASES = {
    "nul": ("title", "Chief\x00 of\x00 Snow", "Chief of Snow"),
    "lone-surrogate": ("real_name", "Zo\ud800e", "Zo\ufffde"),
}


def run_into_postgres(
    emu: SlackEmulator, database: str, postgres: pg.Postgres, tmp_path: Path
) -> tuple[subprocess.CompletedProcess[bytes], int, str]:
    """``tap | target-postgres``: the target's result, the tap's exit code and stderr."""
    tap_config = tmp_path / "tap.json"
    tap_config.write_text(json.dumps(static_config(emu.url, emu.issue_access_token())))
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(select_only("users")))
    target_config = tmp_path / "target.json"
    target_config.write_text(
        json.dumps(
            {
                "sqlalchemy_url": postgres.sqlalchemy_url(database),
                "default_target_schema": "tap_slack_snow",
                "load_method": "upsert",
            }
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    arguments = ["--config", str(tap_config), "--catalog", str(catalog)]
    tap = subprocess.Popen(
        [sys.executable, "-m", "tap_slack_snow", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    assert tap.stdout is not None and tap.stderr is not None
    target = subprocess.run(
        [str(TARGET), "--config", str(target_config)],
        stdin=tap.stdout,
        capture_output=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )
    tap.stdout.close()
    tap_stderr = tap.stderr.read().decode()
    return target, tap.wait(timeout=60), tap_stderr


@pytest.mark.parametrize("case", sorted(CASES))
def test_strings_postgres_cannot_store_are_loaded(
    case: str,
    meltano_session: dict[str, t.Any],  # `meltano install` has put target-postgres there
    postgres: pg.Postgres,
    tmp_path: Path,
) -> None:
    del meltano_session
    field, sent, stored = CASES[case]

    def odd_profile(payload: dict[str, t.Any]) -> None:
        payload["members"][1]["profile"][field] = sent

    database = postgres.create_database(f"e2e_strings_{case.replace('-', '_')}")
    with SlackEmulator(WorkspaceConfig(seed=5, users=60, plan="plus")) as emu:
        edit_json(emu, "users.list", odd_profile)
        target, tap_exit, tap_stderr = run_into_postgres(emu, database, postgres, tmp_path)
        members = emu.workspace.team_member_count(None)
    assert tap_exit == 0, tap_stderr[-3000:]
    assert target.returncode == 0, target.stderr.decode(errors="replace")[-3000:]
    with postgres.connect(database) as conn:
        count = conn.execute("SELECT count(*) FROM tap_slack_snow.users").fetchone()
        found = conn.execute(
            f"SELECT count(*) FROM tap_slack_snow.users WHERE profile->>'{field}' = %s",
            (stored,),
        ).fetchone()
    assert count == (members,)
    assert found == (1,)
