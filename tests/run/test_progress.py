"""Progress lines for long streams (``tap_slack_snow.run.progress``): at most one per
interval (30 s by default), with what was fetched and emitted, the rate-limit waits and,
where the stream can know it, the time left.
"""

from __future__ import annotations

import logging
from pathlib import Path

from tap_slack_snow.run.progress import FetchProgress
from tap_slack_snow.slack.retry import CallStats
from tap_slack_snow_emulator import SlackEmulator
from tests._support import run_cli
from tests.run.grid_org import grid_config


def test_progress_lines_on_long_streams(limited: SlackEmulator, tmp_path: Path) -> None:
    config = grid_config(limited, tmp_path)
    result = run_cli(config, tmp_path, env={"TAP_SLACK_SNOW_PROGRESS_SECONDS": "0"})
    assert result.exit_code == 0, result.stderr[-2000:]
    progress = [line for line in result.stderr.splitlines() if " in progress: " in line]
    by_stream = {line.split("Stream ", 1)[1].split(" ", 1)[0] for line in progress}
    assert {"users", "access_logs", "member_analytics", "admin_users"} <= by_stream
    analytics = [line for line in progress if "Stream member_analytics" in line]
    assert any(" left" in line for line in analytics)  # it knows its days
    assert any("waiting on rate limits" in line for line in progress)
    # the final summary line stays
    assert any(
        "Stream users done: " in line and " 600 records" in line
        for line in result.stderr.splitlines()
    )
    # the member lists know no total on a first run; the next run knows the last run's size
    assert all("time left unknown" in line for line in progress if "Stream users " in line)
    assert result.state is not None
    users_state = result.state["bookmarks"]["users"]
    # one partition per workspace with an org-level token, else the stream's own state
    counts = [part.get("records_last_sync") for part in users_state.get("partitions", [])]
    assert counts == [600] or users_state.get("records_last_sync") == 600
    again = run_cli(
        config, tmp_path, state=result.state, env={"TAP_SLACK_SNOW_PROGRESS_SECONDS": "0"}
    )
    assert again.exit_code == 0
    users = [line for line in again.stderr.splitlines() if "Stream users in progress" in line]
    assert users and all(" left" in line for line in users)


def test_progress_lines_are_rate_limited_by_default(limited: SlackEmulator, tmp_path: Path) -> None:
    result = run_cli(grid_config(limited, tmp_path), tmp_path)
    assert result.exit_code == 0
    # a run of a few seconds is shorter than the 30 s interval
    assert " in progress: " not in result.stderr


def test_partitions_fetched_side_by_side_count_in_one_progress_count() -> None:
    """A Grid org's workspaces of one stream, fetched by several workers at once: one count
    for the whole stream, its share done against the sum of the workspaces' sizes."""
    lines: list[str] = []

    class Lines(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    logger = logging.getLogger("tests.progress.side_by_side")
    logger.addHandler(Lines())
    logger.setLevel(logging.INFO)
    progress = FetchProgress("users", CallStats(), logger, emitted=lambda: 0, interval=0)
    progress.whole_stream([100, 300])
    first = progress.counted(lambda: iter([[1] * 50, [1] * 50]), len)
    second = progress.counted(lambda: iter([[1] * 100]), len)
    assert next(first) and next(second) and list(first)  # interleaved, as two workers do
    assert (progress.pages, progress.records) == (3, 200)
    assert "3 pages, 200 records fetched" in lines[-1]
    assert lines[-1].endswith("left")  # half of the 400 records of last time: time known
    # a workspace new since the last run: the share is unknown
    progress.whole_stream([100, None])
    list(progress.counted(lambda: iter([[1] * 10]), len))
    assert progress.records == 10 and lines[-1].endswith("time left unknown")
