"""Section 5b, loading into PostgreSQL: the pipeline a user runs, as meltano.yml ships it.

Workloads: member_analytics, one day of 200,000 rows (500,000 too in a full run) as RECORD
messages (shipped) and as BATCH messages (``batch_config``, the opt-in); users, 100,000
members. For each, three runs of every path, interleaved (run 1 of each path, then run 2 ...),
each load into a fresh database of one embedded PostgreSQL:

* **tap alone**: ``python -m tap_slack_snow``, stdout to /dev/null;
* **target-postgres alone**: the project's target-postgres reading a file of the tap's
  output (written once per workload, its batch files kept), no tap running: the loader's own
  pace, the most a pipeline with any tap can reach;
* **tap | target-postgres**: the tap piped into the project's target-postgres (from
  ``.meltano/``) with the config Meltano gives it from meltano.yml (the locked definition's
  defaults, the project's settings); the target's peak RSS (``VmHWM``) is read as it runs;
* **meltano run**: ``meltano run tap-slack-snow target-postgres`` in this checkout's project
  (Meltano's start-up, the tap's discovery and the state included);
* **target's defaults**: tap | target-postgres with ``use_copy: false`` and
  ``validate_records: true``, meltano.yml's settings before issue 22 (200,000-row
  member_analytics and users only: it is the slow path);
* **COPY FROM STDIN**: PostgreSQL alone loading the same rows (exported from the loaded table
  with ``COPY TO``) into an empty copy of the table: *append* is one ``COPY``; *merge* is
  ``COPY`` into a temporary table, then ``INSERT ... ON CONFLICT DO UPDATE``, in one
  transaction; timed in this process, so it is the database's share of the work.

Skipped without the project's target-postgres (``meltano install``).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import subprocess
import time
import typing as t
from pathlib import Path

from benchmarks.harness import (
    PYTHON,
    ROOT,
    EmulatorProcess,
    catalog_for,
    children_cpu,
    compile_bytecode,
    run_tap,
    start_emulator,
    vm_hwm_kib,
    workdir,
)
from benchmarks.report import Report
from benchmarks.sections.common import (
    analytics_workspace,
    batch_settings,
    fresh_config,
    today_utc,
    warm_analytics,
)
from benchmarks.sections.loading_floor import copy_floor, rows_in
from benchmarks.sections.loading_report import (
    DEFAULTS,
    MELTANO,
    PIPE,
    SCHEMA,
    TAP,
    TARGET_ALONE,
    Workload,
    report_loading,
)
from tap_slack_snow_emulator.config import WorkspaceConfig

if t.TYPE_CHECKING:
    from tap_slack_snow_devkit.pg import Postgres

TARGET_POSTGRES = (
    ROOT / ".meltano" / "loaders" / "target-postgres" / "venv" / "bin" / "target-postgres"
)
#: target-postgres' own defaults for the settings meltano.yml changes.
TARGET_DEFAULTS = {"use_copy": False, "validate_records": True}


def shipped_target_config() -> dict[str, t.Any]:
    """target-postgres' config as Meltano builds it from meltano.yml: the locked definition's
    default values, then the project's ``config`` (connection settings left out)."""
    import yaml  # noqa: PLC0415

    project = yaml.safe_load((ROOT / "meltano.yml").read_text(encoding="utf-8"))
    loader = next(p for p in project["plugins"]["loaders"] if p["name"] == "target-postgres")
    lock = ROOT / "plugins" / "loaders" / f"target-postgres--{loader['variant']}.lock"
    definition = json.loads(lock.read_text(encoding="utf-8"))
    config = {s["name"]: s["value"] for s in definition["settings"] if "value" in s}
    config.update(loader.get("config") or {})
    for name in ("host", "port", "user", "password", "database"):
        config.pop(name, None)
    config["default_target_schema"] = SCHEMA  # $MELTANO_EXTRACT__LOAD_SCHEMA
    return config


class Loader:
    """The database server, the emulator, Meltano and the files of one workload group."""

    #: Database numbers, unique in the benchmark run (the logs are named after them).
    numbers = itertools.count(1)

    def __init__(self, pg: Postgres, emu: EmulatorProcess, folder: Path) -> None:
        self.pg = pg
        self.emu = emu
        self.folder = folder

    # --- databases ---------------------------------------------------------------------

    def fresh_database(self) -> str:
        return self.pg.create_database(f"bench_load_{next(self.numbers)}")

    def drop(self, database: str) -> None:
        with self.pg.connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}"')

    def count(self, database: str, table: str) -> int:
        with self.pg.connect(database) as conn:
            return rows_in(conn, table)

    def dead_per_row(self, database: str, table: str) -> float:
        """Dead row versions per live row of ``table`` (PostgreSQL's statistics, flushed when
        the target's connections closed), a second after the load: before autovacuum, which
        wakes once a minute, has reclaimed them, so they are what the load left."""
        time.sleep(1.0)  # statistics reach the shared counters within a second
        with self.pg.connect(database) as conn:
            live, dead = conn.execute(
                "SELECT n_live_tup, n_dead_tup FROM pg_stat_user_tables "
                "WHERE schemaname = %s AND relname = %s",
                (SCHEMA, table),
            ).fetchone()
        return float(dead) / max(1, int(live))

    # --- the tap's files -----------------------------------------------------------------

    def tap_files(self, work: Workload) -> tuple[Path, Path]:
        stamp = time.monotonic_ns()
        config = self.folder / f"tap-{stamp}.json"
        config.write_text(json.dumps({**fresh_config(self.emu, self.folder), **work.tap_settings}))
        catalog = self.folder / f"catalog-{stamp}.json"
        catalog.write_text(json.dumps(catalog_for(work.stream)))
        return config, catalog

    def clear_batches(self, work: Workload) -> int:
        """Delete the batch files a run left behind; their total size."""
        if work.batch_root is None:
            return 0
        size = 0
        for path in work.batch_root.iterdir():
            size += path.stat().st_size
            path.unlink()
        return size

    def record_replay(self, work: Workload) -> None:
        """The tap's output, written once to a file for the target-alone path; a BATCH run's
        files go to a folder of their own, kept until :meth:`forget_replay`."""
        settings = work.tap_settings
        if work.batch_root is not None:
            settings = batch_settings(self.replay_root(work), "replay-")
        config = {**fresh_config(self.emu, self.folder), **settings}
        run = run_tap(config, self.folder, catalog=catalog_for(work.stream), keep_stdout=True)
        if run.exit_code != 0 or run.stdout_path is None:
            raise RuntimeError("tap failed\n" + run.stderr[-3000:])
        work.replay = run.stdout_path

    def replay_root(self, work: Workload) -> Path:
        return self.folder / f"replay-{work.stream}-{work.rows}"

    def forget_replay(self, work: Workload) -> None:
        if work.replay is not None:
            work.replay.unlink()
        root = self.replay_root(work)
        if root.is_dir():
            for path in root.iterdir():
                path.unlink()
            root.rmdir()

    def target_config(self, database: str, overrides: dict[str, t.Any]) -> Path:
        """The target's config file: the shipped one, ``overrides``, into ``database``."""
        path = self.folder / f"target-{database}.json"
        url = self.pg.sqlalchemy_url(database)
        path.write_text(json.dumps({**shipped_target_config(), **overrides, "sqlalchemy_url": url}))
        return path

    # --- the paths -----------------------------------------------------------------------

    def target_alone(self, work: Workload) -> None:
        """target-postgres reading the recorded output into a fresh database."""
        assert work.replay is not None
        database = self.fresh_database()
        config = self.target_config(database, {})
        log = self.folder / f"target-{database}.log"
        cpu = children_cpu()
        started = time.perf_counter()
        with open(work.replay, "rb") as stdin, open(log, "wb") as stderr:
            done = subprocess.run(
                [str(TARGET_POSTGRES), "--config", str(config)],
                stdin=stdin,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                check=False,
            )
        seconds = time.perf_counter() - started
        cpu = children_cpu() - cpu
        if done.returncode:
            raise RuntimeError(f"{TARGET_ALONE} failed\n{log.read_text()[-3000:]}")
        work.note(TARGET_ALONE, seconds, self.count(database, work.stream), cpu)
        self.drop(database)

    def tap_alone(self, work: Workload) -> None:
        config = {**fresh_config(self.emu, self.folder), **work.tap_settings}
        cpu = children_cpu()
        run = run_tap(config, self.folder, catalog=catalog_for(work.stream))
        cpu = children_cpu() - cpu
        if run.exit_code != 0:
            raise RuntimeError("tap failed\n" + run.stderr[-3000:])
        work.note(TAP, run.seconds, cpu=cpu)
        self.clear_batches(work)

    def pipeline(self, work: Workload, path: str, overrides: dict[str, t.Any]) -> str:
        """tap | target-postgres into a fresh database (returned, still there)."""
        database = self.fresh_database()
        target_config = self.target_config(database, overrides)
        tap_config, catalog = self.tap_files(work)
        tap_log = self.folder / f"tap-{database}.log"
        target_log = self.folder / f"target-{database}.log"
        with open(tap_log, "wb") as tap_err, open(target_log, "wb") as target_err:
            started = time.perf_counter()
            tap = subprocess.Popen(
                tap_command(tap_config, catalog),
                stdout=subprocess.PIPE,
                stderr=tap_err,
                cwd=ROOT,
            )
            target = subprocess.Popen(
                [str(TARGET_POSTGRES), "--config", str(target_config)],
                stdin=tap.stdout,
                stdout=subprocess.DEVNULL,
                stderr=target_err,
            )
            assert tap.stdout is not None
            tap.stdout.close()  # the target holds the pipe's only read end
            peak = 0
            while True:  # the target's own peak RSS and CPU time (wait4 reaps it)
                pid, status, usage = os.wait4(target.pid, os.WNOHANG)
                if pid:
                    break
                peak = max(peak, vm_hwm_kib(target.pid) or 0)
                time.sleep(0.05)
            target.returncode = os.waitstatus_to_exitcode(status)
            target_cpu = usage.ru_utime + usage.ru_stime
            _, tap_status, tap_usage = os.wait4(tap.pid, 0)
            tap.returncode = os.waitstatus_to_exitcode(tap_status)
            seconds = time.perf_counter() - started
        if tap.returncode or target.returncode:
            raise RuntimeError(
                f"{path} failed\n{tap_log.read_text()[-2000:]}\n{target_log.read_text()[-3000:]}"
            )
        cpu = target_cpu + tap_usage.ru_utime + tap_usage.ru_stime
        work.note(path, seconds, self.count(database, work.stream), cpu)
        if path == PIPE:
            work.dead_per_row.append(self.dead_per_row(database, work.stream))
            work.target_rss.append(peak / 1024)
            work.target_cpu.append(target_cpu)
            work.batch_bytes.append(self.clear_batches(work))
        else:
            self.clear_batches(work)
        return database

    def meltano_run(self, work: Workload, meltano: t.Any) -> None:
        """``meltano run tap-slack-snow target-postgres`` in this checkout's project."""
        database = self.fresh_database()
        config = {**fresh_config(self.emu, self.folder), **work.tap_settings}
        from tap_slack_snow_devkit.meltano import tap_env  # noqa: PLC0415

        env = {
            **tap_env(config),
            "TAP_SLACK_SNOW__SELECT": json.dumps([f"{work.stream}.*"]),
            "TARGET_POSTGRES_SQLALCHEMY_URL": self.pg.sqlalchemy_url(database),
        }
        cpu = children_cpu()
        started = time.perf_counter()
        meltano.run(
            "run", "--state-id-suffix", database, "tap-slack-snow", "target-postgres", env=env
        )
        seconds = time.perf_counter() - started
        cpu = children_cpu() - cpu  # Meltano, the tap and the target (Meltano reaps them)
        work.note(MELTANO, seconds, self.count(database, work.stream), cpu)
        self.clear_batches(work)
        self.drop(database)


def tap_command(config: Path, catalog: Path) -> list[str]:
    """``python -m tap_slack_snow --config C --catalog K``."""
    return [PYTHON, "-m", "tap_slack_snow", "--config", str(config), "--catalog", str(catalog)]


def run_workloads(loader: Loader, works: list[Workload], repeats: int, meltano: t.Any) -> None:
    """Every path of every workload, ``repeats`` times, interleaved."""
    for work in works:
        loader.record_replay(work)
    for _ in range(repeats):
        for work in works:
            loader.tap_alone(work)
            loader.target_alone(work)
            database = loader.pipeline(work, PIPE, {})
            copy_floor(loader.pg, loader.folder, work, database)
            loader.drop(database)
            loader.meltano_run(work, meltano)
            if work.reference:
                loader.drop(loader.pipeline(work, DEFAULTS, TARGET_DEFAULTS))
    for work in works:
        loader.forget_replay(work)


def bench_loading(report: Report, quick: bool) -> dict[str, float]:
    """The loading paths of member_analytics (RECORD and BATCH) and users, as shipped."""
    title = "5b. Loading into PostgreSQL"
    if not TARGET_POSTGRES.is_file():
        report.add(
            title, f"Skipped: {TARGET_POSTGRES.relative_to(ROOT)} is missing (meltano install)."
        )
        return {}
    from tap_slack_snow_devkit.meltano import Meltano, meltano_executable  # noqa: PLC0415
    from tap_slack_snow_devkit.pg import Postgres  # noqa: PLC0415

    executable = meltano_executable()
    if executable is None:
        report.add(title, "Skipped: Meltano is not installed (.venv-meltano, or MELTANO_BIN).")
        return {}
    compile_bytecode()
    repeats = 1 if quick else 3
    days = (200_000, 500_000) if not quick else (20_000,)
    members = 10_000 if quick else 100_000
    lag = 2
    folder = workdir()
    env_file = folder / "empty.env"
    env_file.write_text("")
    meltano = Meltano(
        executable,
        env={
            "MELTANO_DATABASE_URI": f"sqlite:///{folder / 'meltano.db'}",
            "MELTANO_HUB_URL": "http://127.0.0.1:9",  # the locked definitions only
        },
        env_file=env_file,
        project_root=ROOT,
    )
    day = (today_utc() - dt.timedelta(days=lag)).isoformat()
    start = day + "T00:00:00Z"
    groups: list[list[Workload]] = []
    with Postgres(folder / "pgdata") as pg:
        for count in days:
            root = folder / f"batches-{count}"
            works = [
                Workload(
                    f"member_analytics, one day of {count:,} rows, RECORD messages (shipped)",
                    "member_analytics",
                    count,
                    ("date", "user_id"),
                    reference=count == days[0],
                ),
                Workload(
                    f"member_analytics, one day of {count:,} rows, BATCH messages (batch_config)",
                    "member_analytics",
                    count,
                    ("date", "user_id"),
                    tap_settings=batch_settings(root, "analytics-"),
                    batch_root=root,
                ),
            ]
            with start_emulator(analytics_workspace(count, lag), folder, start_date=start) as emu:
                warm_analytics(emu, day)
                run_workloads(Loader(pg, emu, folder), works, repeats, meltano)
            groups.append(works)
            for work in works:
                if work.export is not None:
                    work.export.unlink()
        workspace = WorkspaceConfig(seed=3, users=members, plan="enterprise", enterprise=True)
        # The emulator's page cache: a server that is not the bottleneck (as in section 3).
        with start_emulator(workspace, folder, cache_pages=True) as emu:
            members_listed = emu.local_workspace().team_member_count(emu.config["team_id"])
            users = Workload(
                f"users, {members_listed:,} members",
                "users",
                members_listed,
                ("id",),
                reference=True,
            )
            loader = Loader(pg, emu, folder)
            run_tap(fresh_config(emu, folder), folder, catalog=catalog_for("users"))  # warm
            run_workloads(loader, [users], repeats, meltano)
            if users.export is not None:
                users.export.unlink()
    return report_loading(report, title, groups, users, quick=quick, target=TARGET_POSTGRES)
