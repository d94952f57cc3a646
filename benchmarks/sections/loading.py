"""Section 5b, member_analytics into PostgreSQL: ``tap-slack-snow | target-postgres`` into an
embedded PostgreSQL, RECORD against BATCH messages (skipped without the project's
target-postgres).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import time

from benchmarks.harness import PYTHON, ROOT, catalog_for, start_emulator, workdir
from benchmarks.report import Report, table
from benchmarks.sections.common import (
    analytics_workspace,
    batch_settings,
    fresh_config,
    today_utc,
    warm_analytics,
)

TARGET_POSTGRES = (
    ROOT / ".meltano" / "loaders" / "target-postgres" / "venv" / "bin" / "target-postgres"
)


def bench_analytics_postgres(report: Report, quick: bool) -> None:
    """member_analytics into a real PostgreSQL: tap | target-postgres, RECORD vs BATCH."""
    if not TARGET_POSTGRES.is_file():
        report.add(
            "5b. member_analytics into PostgreSQL",
            f"Skipped: {TARGET_POSTGRES.relative_to(ROOT)} is missing (scripts/test installs it).",
        )
        return
    from tap_slack_snow_devkit.pg import Postgres  # noqa: PLC0415 - embedded PostgreSQL

    count = 20_000 if quick else 200_000
    lag = 2
    workspace = analytics_workspace(count, lag)
    start = (today_utc() - dt.timedelta(days=lag)).isoformat() + "T00:00:00Z"
    folder = workdir()
    rows = []
    with (
        Postgres(folder / "pgdata") as pg,
        start_emulator(workspace, folder, start_date=start) as emu,
    ):
        warm_analytics(emu, start[:10])
        for mode, settings in {
            "RECORD messages (default)": {},
            "BATCH messages (batch_config)": batch_settings(folder / "batches", "a-"),
        }.items():
            database = pg.create_database(f"bench_{len(rows)}")
            target_config = folder / f"target-{len(rows)}.json"
            target_config.write_text(
                json.dumps(
                    {
                        "sqlalchemy_url": pg.sqlalchemy_url(database),
                        "default_target_schema": "tap_slack_snow",
                        "load_method": "upsert",
                        "add_record_metadata": True,
                    }
                )
            )
            tap_config = folder / f"tap-{len(rows)}.json"
            tap_config.write_text(json.dumps({**fresh_config(emu, folder), **settings}))
            catalog_path = folder / f"catalog-{len(rows)}.json"
            catalog_path.write_text(json.dumps(catalog_for("member_analytics")))
            started = time.perf_counter()
            tap = subprocess.Popen(
                [
                    PYTHON,
                    "-m",
                    "tap_slack_snow",
                    "--config",
                    str(tap_config),
                    "--catalog",
                    str(catalog_path),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                cwd=ROOT,
            )
            target = subprocess.run(
                [str(TARGET_POSTGRES), "--config", str(target_config)],
                stdin=tap.stdout,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                check=False,
                text=True,
            )
            tap.wait()
            seconds = time.perf_counter() - started
            if tap.returncode != 0 or target.returncode != 0:
                raise RuntimeError("analytics into PostgreSQL failed\n" + target.stderr[-3000:])
            with pg.connect(database) as connection:
                loaded = connection.execute(
                    "SELECT count(*) FROM tap_slack_snow.member_analytics"
                ).fetchone()
            loaded_rows = int(loaded[0]) if loaded else 0
            rows.append(
                [
                    mode,
                    f"{seconds:.1f}",
                    f"{count / seconds:,.0f}",
                    f"{loaded_rows:,}",
                    "exact" if loaded_rows == count else "WRONG",
                ]
            )
    report.add(
        "5b. member_analytics into PostgreSQL",
        f"One day of {count:,} rows, `tap-slack-snow | target-postgres` (MeltanoLabs, "
        "load_method upsert, from the project's `.meltano/`) into an embedded PostgreSQL; "
        "wall time of the pipeline, one run each.\n\n"
        + table(["messages", "pipeline s", "rows/s", "rows in PostgreSQL", ""], rows),
    )
