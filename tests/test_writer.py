"""The Singer message writer (``tap_slack_snow.writer``): a target that stops reading (its end
of the pipe closed, as ``tap | head -c 100`` does) ends the run with one line saying so and a
non-zero exit, not the SDK's "unhandled error" and a traceback.

Black-box: the tap runs as a real process, its stdout a real pipe to a process that reads
100 bytes and exits; Slack is the emulator.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_devkit.emulators import EmulatorFactory
from tap_slack_snow_emulator import WorkspaceConfig
from tests._support import ENV_PREFIX, static_config

#: A target that reads the first 100 bytes and exits (its end of the pipe closes).
EARLY_EXIT = "import sys; sys.stdin.buffer.read(100)"


def test_a_target_that_stops_reading_ends_the_run_with_one_line(
    emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    emu = emulator_factory(WorkspaceConfig(seed=5, users=2000, plan="plus"))
    config = tmp_path / "config.json"
    config.write_text(json.dumps(static_config(emu.url, emu.issue_access_token())))
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(select_only("users")))
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    arguments = ["--config", str(config), "--catalog", str(catalog)]
    tap = subprocess.Popen(
        [sys.executable, "-m", "tap_slack_snow", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    assert tap.stdout is not None and tap.stderr is not None
    target = subprocess.Popen([sys.executable, "-c", EARLY_EXIT], stdin=tap.stdout)
    tap.stdout.close()  # the target holds the only reading end
    stderr = tap.stderr.read().decode()
    assert tap.wait(timeout=120) != 0, stderr[-3000:]
    assert target.wait(timeout=60) == 0
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr[-3000:]
    assert "unhandled" not in stderr.lower(), stderr[-3000:]
    failed = [line for line in stderr.splitlines() if "Run failed" in line]
    assert len(failed) == 1, stderr[-3000:]
    assert "the target stopped reading the tap's output (broken pipe)" in failed[0]
    assert stderr.rstrip().endswith(failed[0])  # the last line
