"""``meltano run tap-slack-snow target-postgres`` end to end: real Meltano, real PostgreSQL,
the Slack emulator over HTTP. No mocks: every process is the one a user runs."""

from __future__ import annotations

import json
import typing as t

import pytest
import requests

from tap_slack_snow_devkit import pg
from tap_slack_snow_devkit.meltano import Meltano
from tap_slack_snow_emulator import Fault
from tests._support import stored_chain as conftest_stored_chain
from tests.e2e.conftest import PRIMARY_KEYS, Pipeline

pytestmark = pytest.mark.e2e

#: Expected PostgreSQL types of representative columns (JSON Schema -> target-postgres).
EXPECTED_TYPES = {
    "users": {
        "id": "text",
        "deleted": "boolean",
        "is_admin": "boolean",
        "tz_offset": "bigint",
        "updated": "timestamp without time zone",
        "updated_unix": "bigint",
        "profile": "jsonb",
    },
    "team": {"id": "text", "name": "text", "icon": "jsonb"},
    "billing": {"team_id": "text", "plan": "text"},
    "billable_info": {"team_id": "text", "user_id": "text", "billing_active": "boolean"},
    "access_logs": {
        "user_id": "text",
        "ip": "text",
        "count": "bigint",
        "date_first": "timestamp without time zone",
        "date_last": "timestamp without time zone",
    },
    "integration_logs": {
        "id": "text",
        "date": "timestamp without time zone",
        "rss_feed": "boolean",
    },
}
SDC_COLUMNS = {
    "_sdc_extracted_at": "timestamp without time zone",
    "_sdc_batched_at": "timestamp without time zone",
    "_sdc_deleted_at": "timestamp without time zone",
    "_sdc_table_version": "bigint",
}


def assert_no_duplicate_keys(pipeline: Pipeline) -> None:
    with pipeline.connect() as conn:
        for table in pg.tables(conn):
            key = PRIMARY_KEYS[table]
            assert pg.duplicate_keys(conn, table, key) == 0, f"duplicate {key} in {table}"


def max_extracted_at(pipeline: Pipeline, table: str) -> t.Any:
    with pipeline.connect() as conn:
        row = conn.execute(f"SELECT max(_sdc_extracted_at) FROM tap_slack_snow.{table}").fetchone()
    return row[0] if row else None


def rows_extracted_after(pipeline: Pipeline, table: str, after: t.Any) -> int:
    with pipeline.connect() as conn:
        row = conn.execute(
            f"SELECT count(*) FROM tap_slack_snow.{table} WHERE _sdc_extracted_at > %s",
            (after,),
        ).fetchone()
    return int(row[0]) if row else 0


def max_unix(pipeline: Pipeline, table: str, column: str) -> int:
    with pipeline.connect() as conn:
        row = conn.execute(f"SELECT max({column}_unix) FROM tap_slack_snow.{table}").fetchone()
    assert row is not None
    return int(row[0])


def test_run_lands_every_stream_with_sensible_types(pipeline: Pipeline) -> None:
    """(a) Every selected stream becomes a table in schema tap_slack_snow holding exactly what
    Slack holds, with typed columns and the _sdc_ metadata columns."""
    result = pipeline.run()
    assert "Run completed" in result.stderr

    assert pipeline.counts() == pipeline.expected_counts()
    with pipeline.connect() as conn:
        for table, expected in EXPECTED_TYPES.items():
            types = pg.column_types(conn, table)
            for column, data_type in {**expected, **SDC_COLUMNS}.items():
                assert types.get(column) == data_type, (table, column, types.get(column))
        # Upsert needs a key: target-postgres makes the stream's key the primary key.
        for table in EXPECTED_TYPES:
            assert pg.primary_key(conn, table) == list(PRIMARY_KEYS[table]), table
        # Values are really typed, not strings of JSON.
        row = conn.execute(
            "SELECT profile->>'real_name', pg_typeof(updated)::text "
            "FROM tap_slack_snow.users WHERE updated IS NOT NULL LIMIT 1"
        ).fetchone()
        assert row is not None
        assert row[0]
        assert row[1] == "timestamp without time zone"
        plan = conn.execute("SELECT plan FROM tap_slack_snow.billing").fetchone()
        assert plan == ("plus",)
    assert_no_duplicate_keys(pipeline)
    # The refresh token was spent once and its successor kept in the token store.
    assert pipeline.emu.refreshes == 1
    stored = stored_chain(pipeline)
    assert stored["refresh_token"] != pipeline.refresh_token


def stored_chain(pipeline: Pipeline) -> dict[str, t.Any]:
    """The chain in the pipeline's token store, decrypted as the tap reads it."""
    return conftest_stored_chain(
        {
            "client_id": pipeline.emu.client_id,
            "client_secret": pipeline.emu.client_secret,
            "refresh_token": pipeline.refresh_token,
            "token_store_path": str(pipeline.token_store),
        }
    )


def test_second_run_is_incremental_and_reuses_the_rotated_token(pipeline: Pipeline) -> None:
    """(b) Run 2 starts from Meltano's state: the log streams add only new or changed rows,
    nothing is duplicated, and it authenticates with the rotated refresh token from the token
    store although the configured one was spent by run 1."""
    emu = pipeline.emu
    pipeline.run()
    assert pipeline.counts() == pipeline.expected_counts()
    first_store = stored_chain(pipeline)
    run1 = {table: max_extracted_at(pipeline, table) for table in ("access_logs", "users")}
    access_bookmark = max_unix(pipeline, "access_logs", "date_last")
    integration_bookmark = max_unix(pipeline, "integration_logs", "date")
    state = json.loads(pipeline.meltano.run("state", "get", pipeline.state_id).stdout.strip())
    bookmarks = state["singer_state"]["bookmarks"]
    assert bookmarks["access_logs"]["replication_key"] == "date_last"
    assert bookmarks["integration_logs"]["replication_key"] == "date"

    # Between the runs: 12 hours pass (the access token expires, the configured refresh
    # token's grace window is long gone), users log in again, apps change.
    emu.advance(12 * 3600 + 60)
    emu.expire_access_tokens()
    touched = emu.workspace.touch_access_logs(7)
    added = emu.workspace.add_access_logs(3)
    new_logs = emu.workspace.add_integration_logs(5)
    expected = pipeline.expected_counts()
    assert expected["access_logs"] == 2500 + len(added)

    pipeline.run()
    assert pipeline.counts() == expected
    assert_no_duplicate_keys(pipeline)

    # Incremental: only entries at or after the bookmark were extracted again (the bookmark
    # is inclusive, so entries of the bookmark's own second come again and are upserted).
    at_or_after = sum(
        1 for e in emu.workspace.access_log_entries() if int(e["date_last"]) >= access_bookmark
    )
    assert at_or_after >= len(touched) + len(added)
    assert rows_extracted_after(pipeline, "access_logs", run1["access_logs"]) == at_or_after
    assert at_or_after < 100  # not a full re-read of 2503 entries
    integration_again = sum(
        1 for e in emu.workspace.integration_log_entries() if int(e["date"]) >= integration_bookmark
    )
    assert integration_again >= len(new_logs)
    with pipeline.connect() as conn:
        row = conn.execute(
            "SELECT count(*) FROM tap_slack_snow.integration_logs WHERE date_unix >= %s",
            (integration_bookmark,),
        ).fetchone()
    assert row == (integration_again,)
    # Touched entries were updated in place: new date_last and count, same key.
    with pipeline.connect() as conn:
        for entry in touched:
            row = conn.execute(
                "SELECT date_last_unix, count FROM tap_slack_snow.access_logs "
                "WHERE user_id = %s AND ip = %s AND user_agent = %s",
                (entry["user_id"], entry["ip"], entry["user_agent"]),
            ).fetchone()
            assert row == (int(entry["date_last"]), int(entry["count"]))
    # Full-table streams are read whole and upserted: every user row was rewritten.
    assert rows_extracted_after(pipeline, "users", run1["users"]) == expected["users"]

    # Token rotation across runs: run 2 had to refresh, with the token run 1 stored.
    assert emu.refreshes == 2
    second_store = stored_chain(pipeline)
    assert second_store["refresh_token"] not in {
        pipeline.refresh_token,
        first_store["refresh_token"],
    }
    spent = requests.post(
        f"{emu.url}/oauth.v2.access",
        data={
            "client_id": emu.client_id,
            "client_secret": emu.client_secret,
            "grant_type": "refresh_token",
            "refresh_token": pipeline.refresh_token,
        },
        timeout=10,
    ).json()
    assert spent["ok"] is False, "the configured refresh token should be spent"


@pytest.mark.parametrize(
    ("fault", "page_size", "message"),
    [
        # Slack revokes the token in the middle of the first stream (access_logs, page 3
        # of 5): a fatal error, the run stops at once.
        (Fault("team.accessLogs", "error", on_call=3, error="invalid_auth"), 500, "invalid_auth"),
        # Slack keeps failing in the last stream (users, page 2 of 3) after the others
        # finished; the retries (two, no wait) run out.
        (
            Fault("users.list", "http_500", on_call=2, times=None),
            200,
            "users.list failed 2 times in a row",
        ),
    ],
    ids=["invalid_auth_midway", "http_500_in_last_stream"],
)
def test_failed_run_exits_nonzero_and_next_run_loses_nothing(
    pipeline: Pipeline, fault: Fault, page_size: int, message: str
) -> None:
    """(c) A tap failure midway fails `meltano run`; the next run completes the tables."""
    emu = pipeline.emu
    settings = {
        "TAP_SLACK_SNOW_PAGE_SIZE": str(page_size),
        "TAP_SLACK_SNOW_RETRY_MAX_ATTEMPTS": "2",
        "TAP_SLACK_SNOW_RETRY_INITIAL_WAIT": "0",
    }
    emu.add_fault(fault)
    failed = pipeline.run(check=False, env=settings)
    assert failed.returncode != 0, failed.stderr[-3000:]
    assert message in failed.stderr
    assert "Extractor failed" in failed.stderr
    partial = pipeline.counts()
    assert partial.get("users", 0) < pipeline.expected_counts()["users"] or (
        partial.get("access_logs", 0) < pipeline.expected_counts()["access_logs"]
    )

    emu.clear_faults()
    pipeline.run(env=settings)
    assert pipeline.counts() == pipeline.expected_counts()
    assert_no_duplicate_keys(pipeline)


def test_discover_config_test_and_select(pipeline: Pipeline, tmp_path: t.Any) -> None:
    """(d) The commands a user runs while setting the extractor up, with settings from a
    .env file (no TAP_SLACK_SNOW_* variables in the environment)."""
    env_file = tmp_path / "project.env"
    tap_settings = {k: v for k, v in pipeline.env.items() if k.startswith("TAP_SLACK_SNOW_")}
    env_file.write_text("".join(f"{k}={v}\n" for k, v in tap_settings.items()))
    other = {k: v for k, v in pipeline.env.items() if k not in tap_settings}
    meltano = Meltano(pipeline.meltano.executable, env=other, env_file=env_file)

    discovered = meltano.run("invoke", "tap-slack-snow", "--discover")
    catalog = json.loads(discovered.stdout[discovered.stdout.index("{") :])
    names = {entry["tap_stream_id"] for entry in catalog["streams"]}
    assert names == set(PRIMARY_KEYS)

    listed = meltano.run("config", "list", "tap-slack-snow").stdout
    assert "from the TAP_SLACK_SNOW_REFRESH_TOKEN variable in `.env`" in listed
    assert pipeline.refresh_token not in listed  # sensitive: redacted

    tested = meltano.run("config", "test", "tap-slack-snow")
    assert "Plugin configuration is valid" in tested.stdout, tested.stderr[-2000:]
    assert pipeline.emu.refreshes == 1

    selected = meltano.run("select", "tap-slack-snow", "--list").stdout
    for stream in PRIMARY_KEYS:
        assert f"{stream}." in selected

    # The database-free loader of meltano.yml works too.
    out = tmp_path / "jsonl"
    meltano.run(
        "run",
        "--state-id-suffix",
        pipeline.state_suffix + "_jsonl",
        "tap-slack-snow",
        "target-jsonl",
        env={"TARGET_JSONL_DESTINATION_PATH": str(out)},
    )
    users = (out / "users.jsonl").read_text().splitlines()
    assert len(users) == pipeline.expected_counts()["users"]
