"""member_analytics day files are read with a bounded line length
(``max_analytics_line_bytes``): a longer line is one clear error naming the day, the line
and the setting, and the tap's memory stays flat however long the line is (the gzip chunk
reader, ``records.typed_lines.gzip_line_chunks``, never holds more than the limit of it).

Black-box: the tap runs as a real process against the Slack emulator, whose day file gets a
64 MiB line; the process reports its own peak RSS (VmHWM) when it exits.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import typing as t
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_devkit.emulators import EmulatorFactory
from tap_slack_snow_emulator import WorkspaceConfig
from tests._support import ENV_PREFIX, SyncResult, one_line_failure, org_config, parse_messages
from tests.tamper import edit_day_files

NOW = float(int(time.time()))
TODAY = datetime.fromtimestamp(NOW, tz=timezone.utc).date()
FIRST_DAY = TODAY - timedelta(days=4)
GRID = WorkspaceConfig(
    seed=47,
    users=40,
    plan="enterprise",
    enterprise=True,
    analytics_rows_per_day=30,
    analytics_lag_days=2,
    now=NOW,
)
LINE_BYTES = 64 << 20
LIMIT = 1 << 20

#: The tap's own CLI, reporting its peak RSS on stderr at exit: VmHWM, the high-water mark of
#: this process's memory (not ``ru_maxrss``, which exec may set to the parent's peak).
MEASURED_TAP = (
    "import atexit, re, sys; atexit.register(lambda: sys.stderr.write('PEAK_RSS_KIB '"
    " + re.search(r'VmHWM:\\s*(\\d+)', open('/proc/self/status').read()).group(1) + '\\n')); "
    "from tap_slack_snow.tap import TapSlackSnow; TapSlackSnow.cli()"
)


def measured_run(config: dict[str, t.Any], tmp_path: Path) -> tuple[SyncResult, int]:
    config_path = tmp_path / f"config-{os.urandom(3).hex()}.json"
    config_path.write_text(json.dumps(config))
    catalog_path = tmp_path / "catalog.json"
    catalog_path.write_text(json.dumps(select_only("member_analytics")))
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    arguments = ["--config", str(config_path), "--catalog", str(catalog_path)]
    completed = subprocess.run(
        [sys.executable, "-c", MEASURED_TAP, *arguments],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
        cwd=tmp_path,
    )
    peak = re.search(r"PEAK_RSS_KIB (\d+)", completed.stderr)
    assert peak, completed.stderr[-3000:]
    stderr = completed.stderr.replace(peak.group(0), "")
    result = SyncResult(parse_messages(completed.stdout), completed.returncode, stderr)
    return result, int(peak.group(1)) * 1024


def with_a_long_line(lines: list[bytes]) -> list[bytes]:
    """Row 4 of the day gets an e-mail address of 64 MiB."""
    row = json.loads(lines[3])
    row["email_address"] = "x" * LINE_BYTES
    return [*lines[:3], json.dumps(row).encode(), *lines[4:]]


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self/status")
def test_a_line_above_the_limit_is_one_clear_error_and_memory_stays_flat(
    emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    emu = emulator_factory(GRID)
    start = FIRST_DAY.isoformat() + "T00:00:00Z"
    config = org_config(emu, tmp_path, start, max_analytics_line_bytes=LIMIT)
    clean, baseline = measured_run(config, tmp_path)  # the same run without the long line
    assert clean.exit_code == 0, clean.stderr[-3000:]
    assert clean.count("member_analytics") >= GRID.analytics_rows_per_day

    edit_day_files(emu, with_a_long_line)
    config = org_config(emu, tmp_path, start, max_analytics_line_bytes=LIMIT)
    result, peak = measured_run(config, tmp_path)
    line = one_line_failure(result)
    assert f"returned a file for {FIRST_DAY} whose line 4 is longer than" in line
    assert f"max_analytics_line_bytes ({LIMIT} bytes)" in line
    assert "unhandled" not in line
    # the long line never sat in memory: at most the limit of it (1 MiB), not 64 MiB
    assert peak < baseline + LINE_BYTES // 2, (peak >> 20, baseline >> 20)
