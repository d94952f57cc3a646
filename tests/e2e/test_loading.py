"""The loader settings meltano.yml ships land the same rows as target-postgres' defaults.

meltano.yml sets ``use_copy: true`` and ``validate_records: false`` on target-postgres (about
3x faster, docs/benchmarks.md). Here one Enterprise Grid org (every stream, member_analytics
included, ``emit_activate_version_messages`` on) is loaded by ``meltano run`` twice, into two
databases: with the target's defaults (``use_copy: false``, ``validate_records: true``, the
shipped config until issue 22) and as shipped. Then members leave and logs grow, and both run
again. After each round the two databases must hold the same tables, column types, primary
keys and rows, soft deletes (``_sdc_deleted_at``) included; the ``_sdc_`` times differ by
nature (each run has its own), so they are compared as set or not set.

The shipped database runs with ``timezone = 'America/New_York'``: COPY stores the tap's UTC
date-times as UTC whatever the session's time zone (INSERT statements, the target's default,
convert them to it: docs/meltano.md), so equal rows also show that the shipped path does not
depend on the server's TimeZone.

A third database gets the first round with member_analytics as BATCH messages
(``batch_config``): the same rows, but the ``_sdc_`` columns left NULL by the target, and
the batch files left on disk (docs/meltano.md, "BATCH messages").
"""

from __future__ import annotations

import datetime as dt
import typing as t
from pathlib import Path

import pytest

from tap_slack_snow_devkit import pg
from tap_slack_snow_devkit.meltano import Meltano, tap_env
from tap_slack_snow_emulator import ENTERPRISE_USER_SCOPES, SlackEmulator, WorkspaceConfig
from tests.e2e.conftest import PRIMARY_KEYS

if t.TYPE_CHECKING:
    import psycopg

pytestmark = pytest.mark.e2e

#: A small Grid org: a few published analytics days of 150 rows, every other stream too.
ORG = WorkspaceConfig(
    seed=11,
    users=150,
    plan="enterprise",
    enterprise=True,
    # the logs span months: enough of them that the last days hold some
    access_logs=3000,
    integration_logs=3000,
    analytics_rows_per_day=150,
)
#: target-postgres' own defaults for the two settings meltano.yml changes.
DEFAULTS = {"TARGET_POSTGRES_USE_COPY": "false", "TARGET_POSTGRES_VALIDATE_RECORDS": "true"}
#: _sdc_ columns whose values belong to one run (times, the run's version, a clock).
PER_RUN = (
    "_sdc_extracted_at",
    "_sdc_received_at",
    "_sdc_batched_at",
    "_sdc_sequence",
    "_sdc_sync_started_at",
    "_sdc_table_version",
    "_sdc_deleted_at",
)
#: The full-table streams (an ACTIVATE_VERSION each with emit_activate_version_messages).
FULL_TABLE = {"users", "team", "billing", "billable_info", "admin_users", "scim_users"}
SCHEMA = pg.SCHEMA

Snapshot = dict[str, dict[str, t.Any]]


def snapshot(conn: psycopg.Connection[t.Any]) -> Snapshot:
    """Per table: column types, primary key, and every row by key (the per-run _sdc_
    columns as set / not set)."""
    out: Snapshot = {}
    for table in pg.tables(conn):
        types = pg.column_types(conn, table)
        key = pg.primary_key(conn, table)
        cursor = conn.execute(f'SELECT * FROM {SCHEMA}."{table}"')
        names = [c.name for c in cursor.description or []]
        rows = {}
        for values in cursor.fetchall():
            row = dict(zip(names, values, strict=True))
            for column in PER_RUN:
                if column in row:
                    row[column] = row[column] is not None
            rows[tuple(row[k] for k in key)] = row
        out[table] = {"types": types, "key": key, "rows": rows}
    return out


def assert_same(defaults: Snapshot, shipped: Snapshot) -> None:
    """The same tables, column types, keys and rows; a differing row is named."""
    assert sorted(shipped) == sorted(defaults)
    for table, expected in defaults.items():
        got = shipped[table]
        assert got["types"] == expected["types"], table
        assert got["key"] == expected["key"] == list(PRIMARY_KEYS[table]), table
        assert got["rows"].keys() == expected["rows"].keys(), table
        for key, row in expected["rows"].items():
            assert got["rows"][key] == row, (table, key)


def soft_deleted(snap: Snapshot, table: str) -> set[tuple[t.Any, ...]]:
    return {key for key, row in snap[table]["rows"].items() if row["_sdc_deleted_at"]}


def test_shipped_settings_land_the_same_rows_as_the_defaults(
    meltano_session: dict[str, t.Any], postgres: pg.Postgres, tmp_path: Path
) -> None:
    names = {
        name: postgres.create_database(f"e2e_load_{name}")
        for name in ("defaults", "shipped", "batch")
    }
    with postgres.connect(names["shipped"]) as conn:
        conn.execute(f"ALTER DATABASE {names['shipped']} SET timezone TO 'America/New_York'")
    with postgres.connect(names["defaults"]) as conn:
        assert conn.execute("SHOW timezone").fetchone() in {("UTC",), ("Etc/UTC",)}
    batches = tmp_path / "batches"
    batches.mkdir()
    with SlackEmulator(ORG) as emu:
        newest = dt.datetime.now(tz=dt.timezone.utc).date() - dt.timedelta(
            days=ORG.analytics_lag_days
        )
        start = newest - dt.timedelta(days=2)  # three published days of analytics
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
                    "start_date": f"{start.isoformat()}T00:00:00Z",
                    "team_id": emu.workspace.primary_team.id,
                    "emit_activate_version_messages": True,
                }
            ),
        }
        meltano = Meltano(meltano_session["bin"], env=env, env_file=meltano_session["env_file"])

        def load(name: str, extra: dict[str, str] | None = None) -> Snapshot:
            meltano.run(
                "run",
                "--state-id-suffix",
                f"load_{name}",
                "tap-slack-snow",
                "target-postgres",
                env={
                    "TARGET_POSTGRES_SQLALCHEMY_URL": postgres.sqlalchemy_url(names[name]),
                    **(extra or {}),
                },
            )
            with postgres.connect(names[name]) as conn:
                return snapshot(conn)

        # Round 1: a first sync.
        defaults = load("defaults", DEFAULTS)
        shipped = load("shipped")
        assert_same(defaults, shipped)
        counts = {table: len(snap["rows"]) for table, snap in shipped.items()}
        assert counts["member_analytics"] == 3 * ORG.analytics_rows_per_day
        assert counts["users"] > 100
        assert min(counts.values()) > 0, counts
        # The record metadata is set on every row; the table version on the full-table
        # streams' rows (they send ACTIVATE_VERSION); nothing is deleted yet.
        for table, snap in shipped.items():
            for row in snap["rows"].values():
                assert all(row[c] for c in PER_RUN[:5]), table
                assert row["_sdc_table_version"] == (table in FULL_TABLE), table
                assert not row["_sdc_deleted_at"], table
        with postgres.connect(names["shipped"]) as conn:
            assert conn.execute("SHOW timezone").fetchone() == ("America/New_York",)
            # Date-times in UTC: the column equals its Unix seconds read as UTC ...
            off = conn.execute(
                f"SELECT count(*) FROM {SCHEMA}.users WHERE updated IS DISTINCT FROM "
                "to_timestamp(updated_unix) AT TIME ZONE 'UTC'"
            ).fetchone()
            assert off == (0,)
            # ... and so is the time the tap read the rows (minutes ago in UTC, not hours).
            lag = conn.execute(
                f"SELECT extract(epoch FROM (now() AT TIME ZONE 'UTC') - "
                f"max(_sdc_extracted_at)) FROM {SCHEMA}.users"
            ).fetchone()
            assert lag is not None
            assert 0 <= float(lag[0]) < 1800

        # The same first sync, member_analytics as BATCH messages.
        batch = load(
            "batch",
            tap_env(
                {
                    "batch_config": {
                        "encoding": {"format": "jsonl", "compression": "gzip"},
                        "storage": {"root": batches.as_uri(), "prefix": "analytics-"},
                    }
                }
            ),
        )
        files = sorted(batches.iterdir())
        assert len(files) == 3, files  # one per day, left behind by the target
        assert [f.name.startswith("analytics-") for f in files] == [True] * 3
        analytics = batch.pop("member_analytics")
        expected = shipped["member_analytics"]
        assert analytics["types"] == expected["types"]
        assert analytics["key"] == expected["key"]
        assert analytics["rows"].keys() == expected["rows"].keys()
        for key, row in analytics["rows"].items():
            # The target adds no record metadata to a batch file's rows.
            assert not any(row[c] for c in PER_RUN), key
            assert {k: v for k, v in row.items() if k not in PER_RUN} == {
                k: v for k, v in expected["rows"][key].items() if k not in PER_RUN
            }, key
        assert_same({k: v for k, v in shipped.items() if k != "member_analytics"}, batch)

        # Round 2: 12 hours on, the last members are gone from every list (ACTIVATE_VERSION
        # marks their rows deleted), users logged in again, apps changed.
        ws = emu.workspace
        team = ws.primary_team.id
        billable_before = set(ws.billable_user_ids(team))
        emu.advance(12 * 3600)
        ws.user_count -= 5
        left = {ws.user_id(i) for i in range(ws.user_count, ws.user_count + 5)}
        ws.touch_access_logs(7)
        ws.add_access_logs(3)
        ws.add_integration_logs(4)
        defaults = load("defaults", DEFAULTS)
        shipped = load("shipped")
        assert_same(defaults, shipped)
        assert soft_deleted(shipped, "users") == {(user,) for user in left}
        assert soft_deleted(shipped, "billable_info") == {
            (team, user) for user in left & billable_before
        }
        assert len(shipped["access_logs"]["rows"]) >= counts["access_logs"] + 3
        assert len(shipped["integration_logs"]["rows"]) >= counts["integration_logs"] + 4
