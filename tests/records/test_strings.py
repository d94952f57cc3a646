"""Strings every target can store (``tap_slack_snow.records.strings``, with the drift policy):
a lone UTF-16 surrogate becomes U+FFFD, a NUL character is removed (``keep_nul_characters``
keeps it), each counted in one warning per stream and field; on every path: RECORD messages
of a JSON answer, member_analytics RECORDs, and its BATCH files (typed chunks and row by
row).

Black-box: the tap runs as a real process against the Slack emulator, whose answers carry the
values as JSON escapes (``"\\ud800"``, ``"\\u0000"``), as Slack would send them.
"""

from __future__ import annotations

import gzip
import json
import time
import typing as t
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tap_slack_snow.records.drift import field_name
from tap_slack_snow.records.strings import LONE_SURROGATE, NUL, fit_strings, may_hold_odd_text
from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_devkit.emulators import EmulatorFactory
from tap_slack_snow_emulator import SlackEmulator, WorkspaceConfig
from tests._support import SyncResult, org_config, run_tap, static_config, warning_lines
from tests.tamper import edit_day_files, edit_json

NOW = float(int(time.time()))
TODAY = datetime.fromtimestamp(NOW, tz=timezone.utc).date()
START = (TODAY - timedelta(days=4)).isoformat() + "T00:00:00Z"
GRID = WorkspaceConfig(
    seed=43,
    users=40,
    plan="enterprise",
    enterprise=True,
    analytics_rows_per_day=30,
    analytics_lag_days=2,
    now=NOW,
)


def lone_surrogates(payload: dict[str, t.Any]) -> None:
    """Two members with a lone surrogate in their real name."""
    members = payload["members"]
    members[1]["profile"]["real_name"] = "Zo\ud800e"
    members[2]["profile"]["real_name"] = "\udc00Ann"
    members[4]["real_name"] = "Tom 😀"  # a surrogate pair in JSON: valid, kept as it is


def nul_characters(payload: dict[str, t.Any]) -> None:
    """A member with NULs in the title."""
    payload["members"][3]["profile"]["title"] = "Chief\x00 of\x00 Staff"


def user_run(
    emulator: SlackEmulator,
    tmp_path: Path,
    edit: t.Callable[[dict[str, t.Any]], None],
    **extra: t.Any,
) -> SyncResult:
    edit_json(emulator, "users.list", edit)
    token = emulator.issue_access_token()
    result = run_tap(
        tmp_path,
        config=static_config(emulator.url, token, **extra),
        catalog=select_only("users"),
    )
    assert result.exit_code == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    return result


def member(result: SyncResult, index: int) -> dict[str, t.Any]:
    return result.records["users"][index]


def test_a_lone_surrogate_becomes_the_replacement_character(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    result = user_run(emulator, tmp_path, lone_surrogates)
    assert member(result, 1)["profile"]["real_name"] == "Zo\ufffde"
    assert member(result, 2)["profile"]["real_name"] == "\ufffdAnn"
    assert member(result, 4)["real_name"] == "Tom 😀"
    warned = [line for line in warning_lines(result) if "surrogate" in line]
    assert len(warned) == 1, warned  # one line per stream and field, with the count
    assert "users: 2 value(s) of profile.real_name" in warned[0]
    assert "U+FFFD" in warned[0]


def test_nul_characters_are_removed_with_one_warning(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    result = user_run(emulator, tmp_path, nul_characters)
    assert member(result, 3)["profile"]["title"] == "Chief of Staff"
    assert "\\u0000" not in result.stdout
    warned = [line for line in warning_lines(result) if "NUL" in line]
    assert len(warned) == 1, warned
    assert "users: 1 value(s) of profile.title" in warned[0]
    assert "keep_nul_characters" in warned[0]


def test_keep_nul_characters_keeps_them(emulator: SlackEmulator, tmp_path: Path) -> None:
    result = user_run(emulator, tmp_path, nul_characters, keep_nul_characters=True)
    assert member(result, 3)["profile"]["title"] == "Chief\x00 of\x00 Staff"
    assert not [line for line in warning_lines(result) if "NUL" in line]


# --- member_analytics: RECORD messages and BATCH files ---------------------------------


def odd_rows(surrogate: bool) -> t.Callable[[list[bytes]], list[bytes]]:
    """Row 2 of each day gets NULs in its e-mail address, row 4 a lone surrogate in it
    (msgspec refuses a lone surrogate, so only a NUL alone would stay on the typed path)."""

    def edit(lines: list[bytes]) -> list[bytes]:
        rows = [json.loads(line) for line in lines]
        rows[2]["email_address"] = "a\x00b@example.com"
        if surrogate:
            rows[4]["email_address"] = "c\ud800@example.com"
        return [json.dumps(row).encode() for row in rows]

    return edit


def analytics_run(
    emu: SlackEmulator, tmp_path: Path, files: Path | None, *, surrogate: bool
) -> tuple[SyncResult, list[dict[str, t.Any]]]:
    edit_day_files(emu, odd_rows(surrogate))
    extra: dict[str, t.Any] = {}
    if files is not None:
        files.mkdir()
        extra["batch_config"] = {
            "encoding": {"format": "jsonl", "compression": "gzip"},
            "storage": {"root": files.as_uri()},
        }
    result = run_tap(
        tmp_path,
        config=org_config(emu, tmp_path, START, **extra),
        catalog=select_only("member_analytics"),
    )
    assert result.exit_code == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    if files is None:
        return result, result.records["member_analytics"]
    rows = []
    for path in sorted(files.iterdir()):
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            rows += [json.loads(line) for line in lines]
    return result, rows


@pytest.mark.parametrize(
    ("batch", "surrogate"),
    [(False, True), (True, True), (True, False)],
    ids=["records", "batch-files", "batch-files-typed-chunk"],
)
def test_member_analytics_rows_are_fitted_on_every_path(
    emulator_factory: EmulatorFactory, tmp_path: Path, batch: bool, surrogate: bool
) -> None:
    emu = emulator_factory(GRID)
    files = tmp_path / "files" if batch else None
    result, rows = analytics_run(emu, tmp_path, files, surrogate=surrogate)
    days = sorted({row["date"] for row in rows})
    assert len(days) >= 2
    emails = {row["email_address"] for row in rows}
    assert "ab@example.com" in emails
    assert not [email for email in emails if email and "\x00" in email]
    assert len(rows) == len(days) * GRID.analytics_rows_per_day  # no row lost
    warned = [line for line in warning_lines(result) if "email_address" in line]
    assert len(warned) == 1 + surrogate, warned  # one per kind, counting every day
    assert any(f"{len(days)} value(s) of email_address held NUL" in line for line in warned)
    if surrogate:
        assert "c\ufffd@example.com" in emails
        assert any(f"{len(days)} value(s) of email_address held lone" in line for line in warned)


@pytest.mark.parametrize(
    ("raw", "odd"),
    [
        (b'{"a":"plain \\/ text \\u00e9"}', False),
        (b'{"a":"\\ud83d\\ude00 \\uD83D\\uDE00"}', False),  # pairs
        (b'{"a":"\\u0000"}', True),
        (b'{"a":"\\ud800"}', True),
        (b'{"a":"\\ud800\\ud83d\\ude00"}', True),  # a lone high before a pair
        (b'{"a":"x\\udc00"}', True),  # a lone low
        (b'{"a":"\xed\xa0\x80"}', True),  # a surrogate as raw bytes
        ('{"a":"한국"}'.encode(), False),  # ED 95 9C: a Hangul syllable, no surrogate
    ],
)
def test_the_scan_finds_what_needs_a_walk(raw: bytes, odd: bool) -> None:
    assert may_hold_odd_text(raw) is odd


def test_keys_are_fitted_like_values() -> None:
    noted: list[tuple[str, str]] = []

    def note(path: list[str | int], kind: str) -> None:
        noted.append((field_name(path), kind))

    record = {"a\x00b": {"x\ud800": "v\x00"}, "ab": 1, "c\x00": 2}
    fit_strings(record, keep_nul=False, note=note)
    # "a\x00b" clashes with "ab" once fitted: the key already there keeps its value
    assert record == {"ab": 1, "c": 2}
    assert ("c", NUL) in noted
    record = {"p": {"x\ud800": "v\x00", "ok": ["\udc00", 1]}}
    fit_strings(record, keep_nul=True, note=note)
    assert record == {"p": {"x\ufffd": "v\x00", "ok": ["\ufffd", 1]}}
    assert ("p.x\ufffd", LONE_SURROGATE) in noted and ("p.ok.[]", LONE_SURROGATE) in noted
