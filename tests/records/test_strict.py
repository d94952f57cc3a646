"""The drift policy's quick check (``tap_slack_snow.records.strict``): a record it accepts
comes out exactly as the full path (the walk and the repairs) makes it, with the same lines
logged; a field noted once takes the quick check afterwards; recompiles are bounded.
"""

from __future__ import annotations

import copy
import json
import logging
import typing as t
from importlib import resources

import pytest

from tap_slack_snow import schemas
from tap_slack_snow.records.drift import DriftPolicy, UnconvertibleValueError
from tap_slack_snow.records.strict import MAX_RECOMPILES, StrictSchema, object_nodes
from tap_slack_snow.records.unix_times import add_datetimes
from tap_slack_snow_devkit.emulators import EmulatorFactory
from tap_slack_snow_emulator import WorkspaceConfig
from tests.replay import load, variants

USERS = json.loads(resources.files(schemas).joinpath("users.json").read_text())


def users_policy(name: str) -> DriftPolicy:
    return DriftPolicy(
        stream="users",
        method="users.list",
        schema=USERS,
        key_fields=["id"],
        logger=logging.getLogger(name),
    )


def drifted(member: dict[str, t.Any], n: int) -> dict[str, t.Any]:
    """``member`` with one kind of drift, by ``n`` (some records keep none)."""
    member = copy.deepcopy(member)
    profile = member.get("profile") or {}
    kind = n % 8
    if kind == 1:
        member["seat_type"] = "full"  # a field Slack adds later
    elif kind == 2:
        profile["fields"] = []  # PHP's empty array for an empty map
    elif kind == 3:
        member["tz_offset"] = str(member.get("tz_offset") or 0)  # converted without loss
    elif kind == 4:
        profile["image_72"] = {"unexpected": True}  # nulled with a warning
    elif kind == 5:
        profile[f"pronoun_display_{n % 3}"] = {"en": "they/them"}  # a new field in an object
    elif kind == 6:
        member["is_admin"] = 1
    return member


def members(emulator_factory: EmulatorFactory) -> list[dict[str, t.Any]]:
    """Emulated members (every recorded variant of profile.fields) and the corpus's."""
    emu = emulator_factory(WorkspaceConfig(seed=5, users=60, plan="enterprise", enterprise=True))
    found = [emu.workspace.member(i, include_locale=True) for i in range(60)]
    for variant in variants("users.list"):
        found += load("users.list", variant)["members"]
    return found


def test_the_quick_check_gives_the_full_paths_records_and_lines(
    emulator_factory: EmulatorFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    records = [drifted(member, n) for n, member in enumerate(members(emulator_factory) * 3)]
    for record in records:
        add_datetimes(record, ("updated",))
    quick, full = users_policy("quick"), users_policy("full")
    full.strict.fits = lambda _record: False  # type: ignore[method-assign]
    by_quick = [quick.check(copy.deepcopy(record)) for record in records]
    by_full = [full.check(copy.deepcopy(record)) for record in records]
    assert by_quick == by_full
    assert [list(record) for record in by_quick] == [list(record) for record in by_full]
    quick.log_summary()
    full.log_summary()

    def lines(name: str) -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == name]

    assert lines("quick") == lines("full")
    assert len(lines("quick")) >= 5  # new fields, [] maps, a conversion, a null, its summary
    assert quick.strict.recompiles >= 1


def test_a_field_noted_once_takes_the_quick_check_afterwards(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    check = users_policy("noted")
    record = {"id": "U1", "seat_type": "full", "profile": {"fields": [], "pronouns": "x"}}
    assert not check.strict.fits(copy.deepcopy(record))
    assert check.check(copy.deepcopy(record))["profile"]["fields"] == {}
    assert check.strict.fits(copy.deepcopy(record))
    assert check.check(copy.deepcopy(record)) == {
        "id": "U1",
        "seat_type": "full",
        "profile": {"fields": {}, "pronouns": "x"},
    }
    noted = [r for r in caplog.records if "does not declare" in r.getMessage()]
    assert len(noted) == 1
    # a noted field still has to fit; a key still has to be there
    assert not check.strict.fits({"id": "U1", "tz_offset": "3600"})
    with pytest.raises(UnconvertibleValueError):
        check.check({"id": None, "seat_type": "full"})


def test_a_noted_field_is_held_to_the_objects_rule_for_undeclared_fields() -> None:
    schema = {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "labels": {
                "type": "object",
                "properties": {"name": {"type": "string"}},
                "additionalProperties": {"type": "string"},
            },
        },
    }
    strict = StrictSchema(schema, object_nodes(schema))
    strict.note(("labels",), "colour")
    assert strict.fits({"id": "U1", "labels": {"name": "a", "colour": "red"}})
    assert not strict.fits({"id": "U1", "labels": {"name": "a", "colour": 7}})
    assert not strict.fits({"id": "U1", "labels": {"name": "a", "size": "L"}})


def test_recompiles_are_bounded() -> None:
    check = users_policy("bounded")
    for n in range(MAX_RECOMPILES + 10):
        record = {"id": f"U{n}", f"field_{n}": n}
        assert check.check(record) == {"id": f"U{n}", f"field_{n}": n}
        check.strict.fits(record)
    assert check.strict.recompiles == MAX_RECOMPILES
    assert not check.strict.fits({"id": "U0", f"field_{MAX_RECOMPILES + 5}": 1})
    assert check.strict.fits({"id": "U0", "field_3": 3})
