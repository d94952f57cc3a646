"""The user's files checked before anything runs (``tap_slack_snow.inputs``): a bad state,
config or catalog file is one clear line, exit 1, nothing emitted and no call made; a bookmark
in the future is warned about; Meltano's wrapped state is read.

Black-box: the tap runs as a real process, with the files written as given.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest

from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_emulator import SlackEmulator, WorkspaceConfig
from tests._support import failure_line, run_tap, static_config, warning_lines

ACCESS_LOGS = select_only("access_logs")


def bookmark_state(value: t.Any) -> dict[str, t.Any]:
    return {
        "bookmarks": {
            "access_logs": {"replication_key": "date_last", "replication_key_value": value}
        }
    }


STATE_CASES: dict[str, tuple[str | dict[str, t.Any], tuple[str, ...]]] = {
    "empty": ("", ("is empty",)),
    "not-json": ("{not json", ("not valid JSON",)),
    "a-list": ("[1, 2]", ("JSON object",)),
    "bookmarks-a-list": ({"bookmarks": []}, ("bookmarks",)),
    "bookmark-a-string": ({"bookmarks": {"access_logs": "yesterday"}}, ("access_logs",)),
    "bookmark-not-a-date": (bookmark_state("not-a-date"), ("access_logs", "'not-a-date'")),
    "bookmark-a-number": (bookmark_state(12345), ("access_logs", "12345")),
}


@pytest.mark.parametrize("case", list(STATE_CASES))
def test_a_bad_state_file_gives_one_line(
    emulator: SlackEmulator, tmp_path: Path, case: str
) -> None:
    content, expected = STATE_CASES[case]
    token = emulator.issue_access_token()
    result = run_tap(
        tmp_path, config=static_config(emulator.url, token), state=content, catalog=ACCESS_LOGS
    )
    line = failure_line(result, token)
    assert "state file" in line and str(tmp_path) in line, line
    for text in expected:
        assert text in line, line
    assert not [m for m in result.messages if m["type"] in {"RECORD", "STATE"}]
    assert emulator.calls["auth.test"] == 0  # refused before any call


@pytest.mark.parametrize(
    ("what", "content", "expected"),
    [
        ("config", "{not json", "not valid JSON"),
        ("config", "[1, 2]", "JSON object"),
        ("catalog", "{not json", "not valid JSON"),
        ("catalog", '{"streams": "users"}', "streams"),
        ("catalog", '{"streams": [{"stream": "users"}]}', "tap_stream_id"),
    ],
)
def test_a_bad_config_or_catalog_file_gives_one_line(
    emulator: SlackEmulator, tmp_path: Path, what: str, content: str, expected: str
) -> None:
    token = emulator.issue_access_token()
    files: dict[str, t.Any] = {"config": static_config(emulator.url, token)}
    files[what] = content
    line = failure_line(run_tap(tmp_path, **files), token)
    assert f"{what} file" in line and str(tmp_path) in line and expected in line, line


# --- warnings: accepted, but said ---------------------------------------------------------------


@pytest.fixture
def logs_emulator(emulator_factory: t.Callable[..., SlackEmulator]) -> SlackEmulator:
    return emulator_factory(WorkspaceConfig(seed=5, users=40, access_logs=300, plan="plus"))


def test_a_bookmark_in_the_future_is_warned_about(
    logs_emulator: SlackEmulator, tmp_path: Path
) -> None:
    token = logs_emulator.issue_access_token()
    state = bookmark_state("2099-01-01T00:00:00+00:00")
    result = run_tap(
        tmp_path, config=static_config(logs_emulator.url, token), state=state, catalog=ACCESS_LOGS
    )
    assert result.exit_code == 0, result.stderr[-3000:]
    warned = [line for line in warning_lines(result) if "future" in line]
    assert warned and "access_logs" in warned[0] and "2099-01-01" in warned[0]


def test_meltanos_wrapped_state_is_accepted(logs_emulator: SlackEmulator, tmp_path: Path) -> None:
    token = logs_emulator.issue_access_token()
    config = static_config(logs_emulator.url, token, start_date="2020-01-01T00:00:00Z")
    first = run_tap(tmp_path, config=config, catalog=ACCESS_LOGS)
    assert first.exit_code == 0 and first.state is not None
    wrapped = {"completed": {"singer_state": first.state}, "partial": {}}
    for state in ({"singer_state": first.state}, wrapped):
        again = run_tap(tmp_path, config=config, state=state, catalog=ACCESS_LOGS)
        assert again.exit_code == 0, again.stderr[-3000:]
        assert again.count("access_logs") < first.count("access_logs")  # the bookmark was used
        assert again.state is not None and "singer_state" not in again.state
        assert again.state["bookmarks"] == first.state["bookmarks"]
        assert any("Meltano" in line for line in again.stderr.splitlines())
