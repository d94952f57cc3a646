"""Many Slack orgs, as docs/many-orgs.md sets them up (examples/many-orgs/orgs.meltano.yml,
included by meltano.yml): three orgs' ``meltano run`` at the same time, against three Slack
emulators, into one embedded PostgreSQL that also holds Meltano's system database (its
state) and the token chains (``token_store_url``).

Proves: each org's rows exact in its own schema; one refresh per chain per round; three
chains in the shared table; three state IDs, each with its own org's bookmarks; a second
round incremental from each org's own state, with each chain's rotated token.
"""

from __future__ import annotations

import json
import subprocess
import typing as t
from datetime import datetime
from pathlib import Path

import pytest

from tap_slack_snow_devkit import pg
from tap_slack_snow_devkit.meltano import Meltano, stop_group
from tap_slack_snow_emulator import SlackEmulator, WorkspaceConfig
from tests.e2e.conftest import PRIMARY_KEYS, SCOPES, START_DATE, Pipeline

pytestmark = pytest.mark.e2e

ORGS = {"acme": 11, "globex": 12, "initech": 13}  # org -> emulator seed


def job(org: str) -> tuple[str, ...]:
    """The documented command for one org (its job in orgs.meltano.yml)."""
    return ("run", f"slack-{org}")


def state_id(org: str) -> str:
    return f"dev:tap-slack-snow-{org}-to-target-postgres-{org}"


def run_side_by_side(meltano: Meltano) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every org's job at the same time; wait for all."""
    started = {
        org: meltano.popen(*job(org), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for org in ORGS
    }
    done = {}
    try:
        for org, process in started.items():
            stdout, stderr = process.communicate(timeout=900)
            done[org] = subprocess.CompletedProcess(
                process.args, process.returncode, stdout, stderr
            )
    finally:
        for process in started.values():
            stop_group(process)
    for org, result in done.items():
        assert result.returncode == 0, f"{org}: " + "\n".join(result.stderr.splitlines()[-40:])
    return done


def expected_counts(emu: SlackEmulator) -> dict[str, int]:
    """The conftest's expected rows of a Business+ workspace, for this org's emulator."""
    shell = Pipeline(
        emu, t.cast("Meltano", None), {}, t.cast("pg.Postgres", None), "", "", Path(), ""
    )
    return shell.expected_counts()


def max_extracted_at(conn: t.Any, schema: str, table: str) -> datetime:
    row = conn.execute(f'SELECT max(_sdc_extracted_at) FROM "{schema}"."{table}"').fetchone()
    return t.cast("datetime", row[0])


def test_three_orgs_side_by_side_into_one_postgres(
    meltano_session: dict[str, t.Any], postgres: pg.Postgres, tmp_path: Path
) -> None:
    database = postgres.create_database("e2e_many_orgs")
    url = postgres.sqlalchemy_url(database)
    emulators = {
        org: SlackEmulator(
            WorkspaceConfig(
                seed=seed, users=60 + seed, plan="plus", access_logs=200, integration_logs=40
            )
        )
        for org, seed in ORGS.items()
    }
    for emu in emulators.values():
        emu.start()
    try:
        refresh = {org: emu.issue_refresh_token(scopes=SCOPES) for org, emu in emulators.items()}
        env = {
            **meltano_session["env"],
            "MELTANO_DATABASE_URI": url,  # Meltano's state, in the same PostgreSQL
            "SLACK_TOKEN_STORE_URL": url,
            "TARGET_POSTGRES_SQLALCHEMY_URL": url,
        }
        for org, emu in emulators.items():
            prefix = f"TAP_SLACK_SNOW_{org.upper()}_"
            env |= {
                prefix + "API_URL": emu.url,
                prefix + "SCIM_URL": emu.scim_url,
                prefix + "CLIENT_ID": emu.client_id,
                prefix + "CLIENT_SECRET": emu.client_secret,
                prefix + "REFRESH_TOKEN": refresh[org],
                prefix + "START_DATE": START_DATE,
            }
        meltano = Meltano(meltano_session["bin"], env=env, env_file=meltano_session["env_file"])
        # Once, before the jobs start together: Meltano creates its system tables.
        meltano.run("state", "list")

        first = run_side_by_side(meltano)
        for org, emu in emulators.items():
            assert emu.refreshes == 1, org  # one refresh per chain
            # Each log names its own org's plugin and nothing of another org's settings.
            others = [o for o in ORGS if o != org]
            for other in others:
                assert refresh[other] not in first[org].stderr
                assert emulators[other].client_secret not in first[org].stderr
        with postgres.connect(database) as conn:
            for org, emu in emulators.items():
                assert pg.row_counts(conn, schema=f"slack_{org}") == expected_counts(emu), org
                for table, key in PRIMARY_KEYS.items():
                    if key and table in pg.tables(conn, schema=f"slack_{org}"):
                        assert pg.duplicate_keys(conn, table, key, schema=f"slack_{org}") == 0
            teams = {
                org: conn.execute(f"SELECT id FROM slack_{org}.team").fetchall() for org in ORGS
            }
            chains = conn.execute(
                "SELECT count(*) FROM slack_tokens.tap_slack_snow_token_chains"
            ).fetchone()
            round1 = {org: max_extracted_at(conn, f"slack_{org}", "access_logs") for org in ORGS}
        assert {org: [(emulators[org].workspace.primary_team.id,)] for org in ORGS} == teams
        assert chains == (3,)  # three chains, one table

        states = {}
        for org in ORGS:
            got = meltano.run("state", "get", state_id(org)).stdout.strip()
            states[org] = json.loads(got)["singer_state"]["bookmarks"]
        listed = meltano.run("state", "list").stdout
        assert all(state_id(org) in listed for org in ORGS)
        with postgres.connect(database) as conn:
            for org in ORGS:
                row = conn.execute(
                    f"SELECT max(date_last_unix) FROM slack_{org}.access_logs"
                ).fetchone()
                bookmark = states[org]["access_logs"]["replication_key_value"]
                assert int(datetime.fromisoformat(bookmark).timestamp()) == row[0], org
        assert len({json.dumps(states[org]["access_logs"]) for org in ORGS}) == 3

        # Round 2, 12 hours later: every access token expired, a few new log entries per org.
        added = {}
        for org, emu in emulators.items():
            emu.advance(12 * 3600 + 60)
            emu.expire_access_tokens()
            added[org] = emu.workspace.add_access_logs(3 + ORGS[org] % 3)
        run_side_by_side(meltano)
        with postgres.connect(database) as conn:
            for org, emu in emulators.items():
                # the rotated token of round 1 was found in the shared store: one more refresh
                assert emu.refreshes == 2, org
                assert pg.row_counts(conn, schema=f"slack_{org}") == expected_counts(emu), org
                again = conn.execute(
                    f"SELECT count(*) FROM slack_{org}.access_logs WHERE _sdc_extracted_at > %s",
                    (round1[org],),
                ).fetchone()[0]
                # incremental from this org's own bookmark: the new entries and the bookmark's
                # own second, not the 200 of a full read
                assert len(added[org]) <= again < 50, org
    finally:
        for emu in emulators.values():
            emu.stop()
