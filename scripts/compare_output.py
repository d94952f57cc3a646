"""Is a change a pure move? The tap's output of two checkouts, against one emulator, hashed.

    .venv/bin/python scripts/compare_output.py --before ../old-checkout --after .

Each set-up (a standard Business+ workspace, an org-level token on a Grid org of three
workspaces, and a rate-limited org with pages of 100) starts one emulator (the ``--before``
checkout's, at a fixed time, so both runs read the same data), then runs each checkout's tap
with a refresh token of its own and every stream selected. The output is compared after
removing what depends on the wall clock only: ``time_extracted`` and the SDK's
``replication_key_signpost`` (the run's start time). Prints one line per set-up with both
SHA-256 hashes; exits 1 when any differs (the files stay in ``--workdir`` for a diff).

Each checkout's code is put first on ``PYTHONPATH`` (the runs start in the work folder, never
in a checkout); its dependencies come from this interpreter's environment.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

#: A fixed emulator clock (Unix seconds), so both runs see the same days and log entries.
NOW = 1_796_000_000
START_DATE = "2026-11-01T00:00:00Z"
SETUPS: dict[str, tuple[list[str], dict[str, object]]] = {
    "standard": (
        ["--plan", "plus", "--users", "1200", "--access-logs", "3000", "--integration-logs", "400"],
        {},
    ),
    "grid-org-level": (
        [
            *("--plan", "enterprise", "--enterprise", "--workspaces", "3", "--users", "900"),
            *("--access-logs", "2000", "--integration-logs", "300"),
            *("--analytics-rows-per-day", "20"),
        ],
        {},
    ),
    "rate-limited": (
        [
            *("--plan", "enterprise", "--enterprise", "--users", "4500", "--access-logs", "1500"),
            *("--integration-logs", "300", "--analytics-rows-per-day", "10"),
            *("--minute-seconds", "1"),
        ],
        {"page_size": 100},
    ),
}


def free_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def issue_refresh_token(port: int, *, org_level: bool) -> str:
    """A new refresh token from the emulator's control API."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/_emulator/issue-refresh-token",
        data=json.dumps({"org_level": org_level}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        return str(json.load(answer)["refresh_token"])


def normalised(output: bytes) -> bytes:
    """The Singer messages without what only the wall clock decides, keys sorted."""
    lines = []
    for line in output.decode().splitlines():
        message = json.loads(line)
        message.pop("time_extracted", None)
        if message.get("type") == "STATE":
            for bookmark in message["value"].get("bookmarks", {}).values():
                bookmark.pop("replication_key_signpost", None)
        lines.append(json.dumps(message, sort_keys=True))
    return "\n".join(lines).encode()


def wait_for(path: Path, seconds: float = 30) -> None:
    """Until the emulator wrote its config."""
    deadline = time.monotonic() + seconds
    while not (path.is_file() and path.stat().st_size):
        if time.monotonic() > deadline:
            raise SystemExit(f"the emulator wrote no {path} in {seconds:.0f} s")
        time.sleep(0.1)


def run_tap(checkout: Path, config: Path, out: Path) -> tuple[int, str, int]:
    """Exit code, hash of the normalised output and its line count."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    with out.open("wb") as stdout, out.with_suffix(".log").open("wb") as stderr:
        code = subprocess.run(
            [sys.executable, "-m", "tap_slack_snow", "--config", str(config)],
            env=env,
            cwd=out.parent,  # not a checkout: ``-m`` puts the working folder first on sys.path
            stdout=stdout,
            stderr=stderr,
            check=False,
        ).returncode
    text = normalised(out.read_bytes())
    out.with_suffix(".normalised.jsonl").write_bytes(text)
    return code, hashlib.sha256(text).hexdigest(), text.count(b"\n") + 1


def compare(name: str, before: Path, after: Path, workdir: Path) -> bool:
    """One set-up: both taps against one emulator; True when the outputs are the same."""
    flags, settings = SETUPS[name]
    folder = workdir / name
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base_config = folder / "emulator-config.json"
    emulator = subprocess.Popen(
        [
            *(sys.executable, "-m", "tap_slack_snow_emulator", "--port", str(port)),
            *("--seed", "7", "--now", str(NOW), "--start-date", START_DATE),
            *("--write-config", str(base_config), *flags),
        ],
        env={**os.environ, "PYTHONPATH": str(before / "emulator")},
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=(folder / "emulator.log").open("wb"),
    )
    try:
        wait_for(base_config)
        results = {}
        for label, checkout in (("before", before), ("after", after)):
            config = folder / f"config-{label}.json"
            token = issue_refresh_token(port, org_level="--enterprise" in flags)
            config.write_text(
                json.dumps(
                    {
                        **json.loads(base_config.read_text()),
                        **settings,
                        "refresh_token": token,
                        "token_store_path": str(folder / f"tokens-{label}.json"),
                    }
                )
            )
            results[label] = run_tap(checkout, config, folder / f"{label}.jsonl")
    finally:
        emulator.terminate()
        emulator.wait()
    same = results["before"] == results["after"] and results["before"][0] == 0
    print(
        f"{name}: {'IDENTICAL' if same else 'DIFFERENT'}; "
        + "; ".join(
            f"{label} exit {code}, {lines} lines, sha256 {digest}"
            for label, (code, digest, lines) in results.items()
        ),
        flush=True,
    )
    return same


def main() -> int:
    """Compare every set-up; 1 when any output differs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="the checkout before")
    parser.add_argument("--after", type=Path, default=Path(), help="the checkout after")
    parser.add_argument("--workdir", type=Path, help="where outputs stay (default: a new one)")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="compare-output-"))
    print(f"outputs in {workdir}", flush=True)
    before, after = args.before.resolve(), args.after.resolve()
    same = [compare(name, before, after, workdir) for name in SETUPS]
    return 0 if all(same) else 1


if __name__ == "__main__":
    raise SystemExit(main())
