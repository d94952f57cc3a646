"""The type-drift policy: lossless conversions, known shape quirks, what still fails, new fields.

The conversion table is checked on the policy itself; the outcomes a user sees (exit code,
records, log lines) through the real tap over HTTP against the replay server.
"""

from __future__ import annotations

import copy
import json
import logging
import typing as t
from pathlib import Path

import pytest

from tap_slack_snow.records.drift import (
    NOT_CONVERTIBLE,
    DriftPolicy,
    UnconvertibleValueError,
    convert,
)
from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_devkit.emulators import EmulatorFactory
from tap_slack_snow_emulator import STANDARD_USER_SCOPES, WorkspaceConfig
from tests._support import oauth_config, sync, sync_catching
from tests.replay import ReplayServer, load
from tests.test_corpus import DEFAULT_AUTH_TEST, assert_record_keeps, stream_config


@pytest.mark.parametrize(
    ("value", "types", "expected"),
    [
        (1234567890, {"string", "null"}, "1234567890"),  # an id sent as a number
        (1.5, {"string"}, "1.5"),
        ("1502138686", {"integer", "null"}, 1502138686),
        (" -25200 ", {"integer"}, -25200),
        (-25200.0, {"integer", "null"}, -25200),
        ("2.5", {"number"}, 2.5),
        ("7", {"number"}, 7),
        (1, {"boolean", "null"}, True),
        (0, {"boolean", "null"}, False),
        ("true", {"boolean"}, True),
        ("0", {"boolean", "null"}, False),
        ([], {"object", "null"}, {}),  # PHP's empty array for an empty object
        ("", {"integer", "null"}, None),
        ("", {"boolean", "null"}, None),
        (None, {"string"}, ""),
        (None, {"array"}, []),
        # not convertible without loss
        ({"a": 1}, {"string", "null"}, NOT_CONVERTIBLE),
        ("abc", {"integer", "null"}, NOT_CONVERTIBLE),
        ("1.5", {"integer", "null"}, NOT_CONVERTIBLE),
        (2.5, {"integer"}, NOT_CONVERTIBLE),
        (2, {"boolean"}, NOT_CONVERTIBLE),
        ([1], {"object", "null"}, NOT_CONVERTIBLE),
        (True, {"string"}, NOT_CONVERTIBLE),
        ("1e999", {"number"}, NOT_CONVERTIBLE),
    ],
)
def test_conversions(value: t.Any, types: set[str], expected: t.Any) -> None:
    fixed = convert(value, types)
    if expected is NOT_CONVERTIBLE:
        assert fixed is NOT_CONVERTIBLE
    else:
        assert fixed == expected
        assert type(fixed) is type(expected)


USERS_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "tz_offset": {"type": ["integer", "null"]},
        "profile": {
            "type": ["object", "null"],
            "properties": {"image_72": {"type": ["string", "null"]}},
        },
    },
    "required": ["id"],
}


def policy(caplog: pytest.LogCaptureFixture) -> DriftPolicy:
    caplog.set_level(logging.INFO)
    return DriftPolicy(
        stream="users",
        method="users.list",
        schema=USERS_SCHEMA,
        key_fields=["id"],
        logger=logging.getLogger("test-drift"),
    )


def test_a_conversion_is_logged_once_per_field_and_run(caplog: pytest.LogCaptureFixture) -> None:
    check = policy(caplog)
    for n in range(3):
        assert check.check({"id": f"U{n}", "tz_offset": "3600"})["tz_offset"] == 3600
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "tz_offset" in warnings[0]
    assert "string" in warnings[0]
    assert "integer" in warnings[0]


def test_an_unconvertible_value_outside_the_key_becomes_null_with_the_records_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    check = policy(caplog)
    record = check.check({"id": "U1", "profile": {"image_72": {"url": "x"}}})
    assert record == {"id": "U1", "profile": {"image_72": None}}
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "profile.image_72" in warning
    assert "id='U1'" in warning
    check.log_summary()
    assert "1 value(s) of profile.image_72" in caplog.records[-1].getMessage()


@pytest.mark.parametrize("bad", [{"id": {"x": 1}}, {"id": None}, {"tz_offset": 1}])
def test_a_key_that_does_not_fit_fails_with_one_line(
    bad: dict[str, t.Any], caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(UnconvertibleValueError) as error:
        policy(caplog).check(bad)
    assert "users.list" in str(error.value)
    assert len(str(error.value).splitlines()) == 1


def test_an_id_sent_as_a_number_is_a_string_key(caplog: pytest.LogCaptureFixture) -> None:
    assert policy(caplog).check({"id": 12345})["id"] == "12345"


# --- through the tap ---------------------------------------------------------------------


def sync_users(answer: dict[str, t.Any]) -> tuple[t.Any, str]:
    with ReplayServer({"auth.test": DEFAULT_AUTH_TEST, "users.list": answer}) as replay:
        return sync_catching(stream_config(replay.url), select_only("users"))


def test_a_field_slack_adds_later_is_kept_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    answer = copy.deepcopy(load("users.list", "docs-example"))
    for member in answer["members"]:
        member["seat_type"] = "full"
        member["profile"]["pronoun_display"] = {"en": "they/them"}
    result, error = sync_users(answer)
    assert result.exit_code == 0, error
    assert [r["seat_type"] for r in result.records["users"]] == ["full", "full"]
    assert result.records["users"][0]["profile"]["pronoun_display"] == {"en": "they/them"}
    lines = [r.getMessage() for r in caplog.records if "does not declare" in r.getMessage()]
    assert len(lines) == 2  # seat_type and profile.pronoun_display, once each
    assert any("profile.pronoun_display" in line for line in lines)


def test_a_mix_of_drifts_in_one_answer_keeps_every_record(
    caplog: pytest.LogCaptureFixture,
) -> None:
    answer = copy.deepcopy(load("users.list", "docs-example"))
    first, second = answer["members"]
    first["tz_offset"] = "-25200"
    first["is_admin"] = 1
    first["profile"]["fields"] = []
    first["profile"]["image_72"] = {"unexpected": True}
    second["updated"] = "1480527098"
    result, error = sync_users(answer)
    assert result.exit_code == 0, error
    one, two = result.records["users"]
    assert one["tz_offset"] == -25200
    assert one["is_admin"] is True
    assert one["profile"]["fields"] == {}
    assert one["profile"]["image_72"] is None
    assert two["updated_unix"] == 1480527098
    assert two["updated"].startswith("2016-11-30")
    assert any("id='W012A3CDE'" in r.getMessage() for r in caplog.records)


def test_a_key_that_does_not_fit_fails_the_run_with_one_line() -> None:
    answer = copy.deepcopy(load("users.list", "docs-example"))
    answer["members"][1]["id"] = {"nested": "W07QCRPA4"}
    result, error = sync_users(answer)
    assert result.exit_code == 1
    assert "users.list" in error
    assert "'id'" in error
    assert len(error.splitlines()) == 1


def test_a_workspace_mixing_the_recorded_variants_syncs_every_record_and_field(
    emulator_factory: EmulatorFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The emulator's recorded variants (numeric and string service_id, [] / {} / null
    profile.fields, Slackbot's null tz and email) through the whole tap: nothing lost."""
    emu = emulator_factory(WorkspaceConfig(seed=5, users=60, integration_logs=80, plan="plus"))
    ws = emu.workspace
    raw_logs = ws.integration_log_entries()
    assert {type(e["service_id"]) for e in raw_logs if "service_id" in e} == {int, str}
    assert {json.dumps(ws.member(i)["profile"]["fields"]) for i in range(60)} >= {"[]", "{}"}
    scopes = [*STANDARD_USER_SCOPES, "team:read", "users:read.email"]
    config = oauth_config(emu, tmp_path, scopes=scopes)
    result = sync(config)
    assert result.exit_code == 0
    users = {record["id"]: record for record in result.records["users"]}
    assert len(users) == 60
    for i in range(60):
        member = ws.member(i, include_locale=True)
        assert_record_keeps("users", member, users[member["id"]])
    logs = result.records["integration_logs"]
    assert len(logs) == len(raw_logs)
    for entry, record in zip(raw_logs, logs, strict=True):
        assert_record_keeps("integration_logs", entry, record)
    assert all(isinstance(r.get("service_id", ""), str) for r in logs)
    drift_lines = [
        r.getMessage() for r in caplog.records if "converted without loss" in r.getMessage()
    ]
    assert sorted(line.split(" as ")[0] for line in drift_lines) == [
        "integration_logs: Slack sent service_id",
        "users: Slack sent profile.fields",
    ]
