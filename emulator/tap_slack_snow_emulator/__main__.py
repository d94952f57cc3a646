"""Command line: run an emulator until SIGTERM/SIGINT and write a tap config for it.

``python -m tap_slack_snow_emulator --port 0 --users 500 --plan plus [--enterprise]
[--seed 1] [--minute-seconds X] --write-config PATH`` starts the server, writes
``{"api_url", "scim_url", "client_id", "client_secret", "refresh_token", "start_date"}``
(a freshly issued refresh token; org-level on Enterprise Grid unless ``--org-level no``) to
PATH, prints ``emulator listening on http://127.0.0.1:PORT/api`` and serves until stopped.
``--enterprise`` implies ``--plan enterprise``. ``start_date`` defaults to 30 days before the
emulator clock.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from .config import PLANS, WorkspaceConfig
from .server import SlackEmulator


def build_parser() -> argparse.ArgumentParser:
    """The argument parser."""
    p = argparse.ArgumentParser(
        prog="python -m tap_slack_snow_emulator", description="Slack Web API emulator"
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 = a free port")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--users", type=int, default=250)
    p.add_argument("--plan", choices=PLANS, default="plus")
    p.add_argument("--enterprise", action="store_true", help="Enterprise Grid organisation")
    p.add_argument("--workspaces", type=int, default=1)
    p.add_argument("--access-logs", type=int, default=2500)
    p.add_argument("--access-log-tie-size", type=int, default=0)
    p.add_argument("--integration-logs", type=int, default=120)
    p.add_argument("--analytics-rows-per-day", type=int, default=None)
    p.add_argument("--analytics-lag-days", type=int, default=2)
    p.add_argument("--now", type=float, default=None, help="fixed emulator time (Unix seconds)")
    p.add_argument("--short-pages", action="store_true")
    p.add_argument("--minute-seconds", type=float, default=None, help="enable rate limits")
    p.add_argument(
        "--cache-pages",
        action="store_true",
        help="serve each rendered answer again from memory (a fast server for benchmarks)",
    )
    p.add_argument("--refresh-grace-seconds", type=float, default=30.0)
    p.add_argument("--access-token-ttl", type=int, default=43200)
    p.add_argument("--start-date", default=None, help="start_date for the config (ISO 8601)")
    p.add_argument(
        "--org-level",
        choices=("auto", "yes", "no"),
        default="auto",
        help="issue an org-level refresh token (auto: when --enterprise)",
    )
    p.add_argument("--write-config", type=Path, default=None)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = build_parser().parse_args(argv)
    plan = args.plan
    if args.enterprise and plan not in ("enterprise",):
        plan = "enterprise"
    config = WorkspaceConfig(
        seed=args.seed,
        users=args.users,
        plan=plan,
        enterprise=args.enterprise,
        workspaces=args.workspaces,
        access_logs=args.access_logs,
        access_log_tie_size=args.access_log_tie_size,
        integration_logs=args.integration_logs,
        analytics_rows_per_day=args.analytics_rows_per_day,
        analytics_lag_days=args.analytics_lag_days,
        now=args.now,
        short_pages=args.short_pages,
    )
    emu = SlackEmulator(
        config,
        minute_seconds=args.minute_seconds,
        refresh_grace_seconds=args.refresh_grace_seconds,
        access_token_ttl=args.access_token_ttl,
        cache_pages=args.cache_pages,
        host=args.host,
        port=args.port,
    )
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    emu.start()
    try:
        if args.write_config is not None:
            org_level = args.org_level == "yes" or (args.org_level == "auto" and args.enterprise)
            start = args.start_date or (
                dt.datetime.fromtimestamp(emu.now(), tz=dt.timezone.utc) - dt.timedelta(days=30)
            ).strftime("%Y-%m-%dT00:00:00Z")
            cfg = {
                "api_url": emu.url,
                "scim_url": emu.scim_url,
                "client_id": emu.client_id,
                "client_secret": emu.client_secret,
                "refresh_token": emu.issue_refresh_token(org_level=org_level),
                "start_date": start,
            }
            args.write_config.write_text(json.dumps(cfg, indent=2) + "\n")
        print(f"emulator listening on {emu.url}", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
