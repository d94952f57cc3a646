"""Section 5b's floor: PostgreSQL alone loading the rows the target loaded.

The rows are exported from the loaded table with ``COPY TO`` (once per workload) and loaded
into empty copies of the table: *append* is one ``COPY``; *merge* is ``COPY`` into a temporary
table, then ``INSERT ... ON CONFLICT DO UPDATE``, in one transaction. Timed in this process, so
it is the database's share of the work, the pace no loader can beat.
"""

from __future__ import annotations

import time
import typing as t

from benchmarks.sections.loading_report import APPEND, MERGE, SCHEMA, Workload

if t.TYPE_CHECKING:
    from pathlib import Path

    from tap_slack_snow_devkit.pg import Postgres


def copy_floor(pg: Postgres, folder: Path, work: Workload, database: str) -> None:
    """PostgreSQL alone: the loaded rows COPYed into empty copies of the table."""
    from psycopg import sql  # noqa: PLC0415

    source = sql.Identifier(SCHEMA, work.stream)
    stage = sql.Identifier("floor_stage")
    with pg.connect(database) as conn:
        if work.export is None:
            work.export = folder / f"{work.stream}-{work.rows}-{time.monotonic_ns()}.copy"
            with (
                open(work.export, "wb") as out,
                conn.cursor().copy(sql.SQL("COPY {} TO STDOUT").format(source)) as copy,
            ):
                for chunk in copy:
                    out.write(chunk)
        columns = [
            row[0]
            for row in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s "
                "AND table_name = %s ORDER BY ordinal_position",
                (SCHEMA, work.stream),
            ).fetchall()
        ]
        keys = sql.SQL(", ").join(map(sql.Identifier, work.key))
        updates = sql.SQL(", ").join(
            sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c))
            for c in columns
            if c not in work.key
        )
        for path, name in ((APPEND, "floor_append"), (MERGE, "floor_merge")):
            table = sql.Identifier(SCHEMA, name)
            conn.execute(sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(table, source))
            started = time.perf_counter()
            with conn.transaction():
                into = table
                if path == MERGE:
                    conn.execute(
                        sql.SQL(
                            "CREATE TEMP TABLE {} (LIKE {} INCLUDING DEFAULTS) ON COMMIT DROP"
                        ).format(stage, source)
                    )
                    into = stage
                with (
                    conn.cursor().copy(sql.SQL("COPY {} FROM STDIN").format(into)) as copy,
                    open(work.export, "rb") as data,
                ):
                    while chunk := data.read(1 << 20):
                        copy.write(chunk)
                if path == MERGE:
                    conn.execute(
                        sql.SQL(
                            "INSERT INTO {} SELECT * FROM {} ON CONFLICT ({}) DO UPDATE SET {}"
                        ).format(table, stage, keys, updates)
                    )
            seconds = time.perf_counter() - started
            work.note(path, seconds, rows_in(conn, name))
            conn.execute(sql.SQL("DROP TABLE {}").format(table))


def rows_in(conn: t.Any, table: str) -> int:
    """Rows of ``tap_slack_snow.<table>``."""
    from psycopg import sql  # noqa: PLC0415

    query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(SCHEMA, table))
    row = conn.execute(query).fetchone()
    return int(row[0]) if row else 0
