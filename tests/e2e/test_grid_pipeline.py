"""``meltano run tap-slack-snow target-postgres`` over an Enterprise Grid org with an
org-level token: every workspace lands in one run, keys stay unique, and a second run reads
each workspace from its own bookmark."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pytest

from tap_slack_snow_devkit import pg
from tap_slack_snow_devkit.meltano import Meltano, tap_env
from tap_slack_snow_emulator import ENTERPRISE_USER_SCOPES, SlackEmulator, WorkspaceConfig
from tests.e2e.conftest import PRIMARY_KEYS, START_DATE, START_TS

pytestmark = pytest.mark.e2e

GRID = WorkspaceConfig(
    seed=9,
    users=400,
    plan="enterprise",
    enterprise=True,
    workspaces=4,
    denied_workspaces=(3,),
    integration_logs=300,
    access_logs=500,
    analytics_rows_per_day=20,
)


def test_grid_org_lands_every_workspace_once(
    meltano_session: dict[str, t.Any], postgres: pg.Postgres, tmp_path: Path
) -> None:
    database = postgres.create_database("e2e_grid_org")
    with SlackEmulator(GRID) as emu:
        ws = emu.workspace
        assert ws.enterprise is not None
        env = {
            **meltano_session["env"],
            **tap_env(
                {
                    "api_url": emu.url,
                    "scim_url": emu.scim_url,
                    "client_id": emu.client_id,
                    "client_secret": emu.client_secret,
                    "refresh_token": emu.issue_refresh_token(
                        scopes=ENTERPRISE_USER_SCOPES, org_level=True
                    ),
                    "token_store_path": str(tmp_path / "tokens.json"),
                    "start_date": START_DATE,
                }
            ),
            "TARGET_POSTGRES_SQLALCHEMY_URL": postgres.sqlalchemy_url(database),
        }
        meltano = Meltano(meltano_session["bin"], env=env, env_file=meltano_session["env_file"])
        suffix = "grid_org"
        run = ("run", "--state-id-suffix", suffix, "tap-slack-snow", "target-postgres")
        first = meltano.run(*run)
        denied = ws.team_ids[3]
        readable = ws.team_ids[:3]
        assert (
            sum(1 for line in first.stderr.splitlines() if denied in line and "kipping" in line)
            == 1
        )

        members = {m["id"] for team in readable for m in ws.members(team)}
        logs = {team: len(ws.integration_log_entries(team_id=team)) for team in readable}
        with postgres.connect(database) as conn:
            counts = pg.row_counts(conn)
            assert counts["users"] == len(members)
            assert counts["billable_info"] == sum(len(ws.billable_user_ids(t)) for t in readable)
            assert counts["integration_logs"] == sum(logs.values())
            assert counts["team"] == len(readable) + 1  # the workspaces read and the org
            assert counts["billing"] == 1
            assert counts["access_logs"] == sum(
                1 for e in ws.access_log_entries() if int(e["date_last"]) >= START_TS
            )
            per_team = dict(
                conn.execute(
                    "SELECT team_id, count(*) FROM tap_slack_snow.integration_logs GROUP BY 1"
                ).fetchall()
            )
            assert per_team == logs
            plan = conn.execute("SELECT team_id, plan FROM tap_slack_snow.billing").fetchone()
            assert plan == (ws.enterprise.id, "enterprise")
            for table in pg.tables(conn):
                assert pg.primary_key(conn, table) == list(PRIMARY_KEYS[table]), table
                assert pg.duplicate_keys(conn, table, PRIMARY_KEYS[table]) == 0, table

        state = json.loads(
            meltano.run(
                "state", "get", f"dev:tap-slack-snow-to-target-postgres:{suffix}"
            ).stdout.strip()
        )
        partitions = state["singer_state"]["bookmarks"]["integration_logs"]["partitions"]
        bookmarked = [p["context"]["team_id"] for p in partitions if p.get("replication_key_value")]
        assert sorted(bookmarked) == sorted(readable)  # the refused workspace has no bookmark

        # Run 2: new app changes in the org; each workspace continues from its bookmark.
        added = ws.add_integration_logs(5)
        meltano.run(*run)
        with postgres.connect(database) as conn:
            counts = pg.row_counts(conn)
            assert counts["integration_logs"] == sum(logs.values()) + sum(
                1
                for team in readable
                for e in ws.integration_log_entries(team_id=team)
                if e in added
            )
            assert counts["users"] == len(members)
