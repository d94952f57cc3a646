"""SIGTERM / SIGINT: a killed run is never recorded as a success, and never loses the token.

Black-box: the tap runs as a real process against the emulator over HTTP; the test sends
the signal while the tap is provably waiting on Slack (the emulator delays an answer).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
import typing as t
from pathlib import Path

import pytest

from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_emulator import Fault, SlackEmulator, WorkspaceConfig
from tests._support import SyncResult, oauth_config, parse_messages, run_cli
from tests.hostile import wait_until

EXIT_CODES = {signal.SIGTERM: 143, signal.SIGINT: 130}


class TapProcess:
    """The tap as a subprocess; stdout lines collected by a thread, stderr to a file."""

    def __init__(self, config: dict[str, t.Any], tmp_path: Path, *args: str) -> None:
        config_path = tmp_path / "config.json"
        config_path.write_text(json.dumps(config))
        self.stderr_path = tmp_path / "stderr.log"
        self._stderr = self.stderr_path.open("w")
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tap_slack_snow", "--config", str(config_path), *args],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def records(self, stream: str) -> int:
        prefix = f'{{"type":"RECORD","stream":"{stream}"'
        return sum(1 for line in list(self.lines) if line.startswith(prefix))

    def finish(self, timeout: float = 60) -> tuple[int, SyncResult, str]:
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=10)
        self._stderr.close()
        stderr = self.stderr_path.read_text()
        return code, SyncResult(parse_messages("".join(self.lines)), exit_code=code), stderr


def catalog_file(tmp_path: Path, *streams: str) -> str:
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(select_only(*streams)))
    return str(path)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_mid_stream_exits_non_zero_with_state_and_no_done_line(
    emulator_factory: t.Callable[..., SlackEmulator], tmp_path: Path, signum: signal.Signals
) -> None:
    emu = emulator_factory(WorkspaceConfig(seed=4, users=600))
    config = oauth_config(emu, tmp_path, page_size=100)
    # page 3 of users.list is answered only after a minute: the signal lands while waiting
    emu.add_fault(Fault("users.list", "timeout", on_call=3, seconds=60))
    tap = TapProcess(config, tmp_path, "--catalog", catalog_file(tmp_path, "users"))
    assert wait_until(lambda: tap.records("users") >= 200 and emu.calls["users.list"] >= 3)
    tap.proc.send_signal(signum)
    code, result, stderr = tap.finish()

    assert code == EXIT_CODES[signum], stderr[-2000:]
    assert result.count("users") == 200  # nothing past the page in flight
    assert result.messages[-1]["type"] == "STATE"  # the last consistent state, last
    lines = stderr.splitlines()
    interrupted = [line for line in lines if "interrupted" in line.lower()]
    assert len(interrupted) == 1, stderr[-2000:]
    assert signum.name in interrupted[0] and "users" in interrupted[0]
    assert "200 records" in interrupted[0]
    assert not any("Stream users done" in line for line in lines)
    assert "Gracefully shutting down" not in stderr
    assert "Traceback" not in stderr
    assert config["client_secret"] not in stderr


def test_sigterm_during_the_token_refresh_saves_the_new_token_first(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    """The refresh and the save of its answer are one step a signal cannot split."""
    emulator.refresh_grace_seconds = 0  # a spent refresh token is dead at once
    config = oauth_config(emulator, tmp_path)
    # Slack has rotated the token; its answer (the only copy of the new one) is on its way
    emulator.add_fault(Fault("oauth.v2.access", "timeout", seconds=3))
    tap = TapProcess(config, tmp_path, "--catalog", catalog_file(tmp_path, "users"))
    assert wait_until(lambda: emulator.calls["oauth.v2.access"] >= 1)
    assert wait_until(lambda: False, timeout=0.5) is False  # let the tap block on the answer
    tap.proc.send_signal(signal.SIGTERM)
    code, result, stderr = tap.finish()

    assert code == 143, stderr[-2000:]
    assert result.count("users") == 0
    assert "Traceback" not in stderr
    # the rotated token was kept: a later run (forced to refresh again) works
    emulator.clear_faults()
    emulator.expire_access_tokens()
    rerun = run_cli(config, tmp_path, catalog=select_only("users"))
    assert rerun.exit_code == 0, rerun.stderr[-2000:]
    assert rerun.count("users") == emulator.workspace.user_count
    assert emulator.refreshes == 2


THREADED_STEP = """
import os, signal, sys, threading, time
from tap_slack_snow.interrupts import signals_deferred
from tap_slack_snow.tap import TapSlackSnow

tap = TapSlackSnow(config={"access_token": "xoxp-threaded-1"})  # installs the handlers
entered = threading.Event()

def step() -> None:
    with signals_deferred("a step in a worker thread"):
        entered.set()
        os.kill(os.getpid(), signal.SIGTERM)  # arrives while the step runs
        time.sleep(0.5)
        print("step finished", flush=True)

worker = threading.Thread(target=step)
worker.start()
worker.join()
time.sleep(5)  # the deferred signal is acted on here, in the main thread
print("not stopped", flush=True)
"""


def test_a_signal_is_deferred_for_a_step_in_another_thread(tmp_path: Path) -> None:
    """Streams will run in threads: the deferral holds there, the handler stays in main."""
    done = subprocess.run(
        [sys.executable, "-c", THREADED_STEP],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 143, done.stderr[-2000:]
    # the step ran to its end, then the main thread wrote the state and stopped
    assert done.stdout.splitlines() == ["step finished", '{"type":"STATE","value":{}}']
    assert "Interrupted by SIGTERM" in done.stderr
    assert "Traceback" not in done.stderr


def test_sigterm_while_blocked_on_a_target_that_stopped_reading(
    emulator_factory: t.Callable[..., SlackEmulator], tmp_path: Path
) -> None:
    """The signal lands inside a RECORD write blocked on a full pipe: the handler writes no
    STATE into the half-written message (msgspec's and stdout's buffers are in use), the run
    ends with the one line and 143, and every line the target then reads is whole."""
    emu = emulator_factory(WorkspaceConfig(seed=4, users=3000))
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(oauth_config(emu, tmp_path, page_size=1000)))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tap_slack_snow",
            "--config",
            str(config_path),
            "--catalog",
            catalog_file(tmp_path, "users"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        # nobody reads stdout: the tap fills the pipe (64 KiB, a few dozen members) and blocks
        assert wait_until(lambda: emu.calls["users.list"] >= 1)
        time.sleep(2.0)
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    stderr = err.decode()
    assert proc.returncode == 143, stderr[-2000:]
    assert "Traceback" not in stderr and "BufferError" not in stderr, stderr[-2000:]
    interrupted = [line for line in stderr.splitlines() if "Interrupted by SIGTERM" in line]
    assert len(interrupted) == 1, stderr[-2000:]
    messages = parse_messages(out.decode())  # every line whole JSON
    records = [m for m in messages if m["type"] == "RECORD"]
    assert 0 < len(records) < 3000
    assert len({r["record"]["id"] for r in records}) == len(records)
