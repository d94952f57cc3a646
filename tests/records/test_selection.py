"""Deselected properties (``tap_slack_snow.records.selection``): removed by path, with the
result of the SDK's own per-field walk, and absent from every users record the tap emits,
with stream maps and flattening on top.
"""

from __future__ import annotations

import copy
import json
import typing as t
from pathlib import Path

import pytest
from singer_sdk.helpers._catalog import pop_deselected_record_properties
from singer_sdk.singerlib import Catalog, SelectionMask
from singer_sdk.streams.core import Stream

from tap_slack_snow.records.selection import deselected_paths, drop_deselected
from tap_slack_snow.streams.base import SlackStream
from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_emulator import ENTERPRISE_USER_SCOPES, SlackEmulator
from tests._support import oauth_config, sync

#: Properties to deselect: a top-level field, an object whole, a field inside an object,
#: and one inside an object that goes whole anyway.
DESELECTED = [
    ("locale",),
    ("enterprise_user",),
    ("profile", "email"),
    ("enterprise_user", "teams"),
]


def deselect(catalog: dict[str, t.Any], stream: str, *paths: tuple[str, ...]) -> dict[str, t.Any]:
    """``catalog`` with ``paths`` of ``stream`` deselected (nested ones get their own
    metadata entry, as Meltano writes them)."""
    catalog = copy.deepcopy(catalog)
    (entry,) = [e for e in catalog["streams"] if e["tap_stream_id"] == stream]
    for path in paths:
        breadcrumb = [part for name in path for part in ("properties", name)]
        found = [m for m in entry["metadata"] if m["breadcrumb"] == breadcrumb]
        if not found:
            found = [{"breadcrumb": breadcrumb, "metadata": {"inclusion": "available"}}]
            entry["metadata"].append(found[0])
        found[0]["metadata"]["selected"] = False
    return catalog


def users_mask(*paths: tuple[str, ...]) -> SelectionMask:
    catalog = Catalog.from_dict(deselect(select_only("users"), "users", *paths))
    entry = catalog.get_stream("users")
    assert entry is not None
    return entry.metadata.resolve_selection()


RECORDS: list[dict[str, t.Any]] = [
    {
        "id": "U1",
        "locale": "en-US",
        "profile": {"email": "a@example.com", "title": "x", "fields": {"Xf1": {"value": "v"}}},
        "enterprise_user": {"id": "W1", "teams": ["T1"]},
        "new_field": {"email": "kept: not the declared profile.email"},
    },
    {"id": "U2", "profile": None, "enterprise_user": "not an object"},
    {"id": "U3", "profile": {"title": "no e-mail"}, "locale": None},
    {"id": "U4", "profile": [], "email": "top-level, undeclared: kept"},
]


@pytest.mark.parametrize(
    "paths",
    [
        (),
        (("locale",),),
        (("profile", "email"),),
        tuple(DESELECTED),
        (("profile",), ("profile", "title")),
        (("profile", "fields"), ("id",)),
    ],
    ids=["nothing", "top-level", "nested", "mixed", "object-and-child", "map-and-key"],
)
def test_removing_by_path_is_the_sdks_walk(paths: tuple[tuple[str, ...], ...]) -> None:
    mask = users_mask(*paths)
    for record in RECORDS:
        by_path, by_sdk = copy.deepcopy(record), copy.deepcopy(record)
        drop_deselected(by_path, deselected_paths(mask))
        pop_deselected_record_properties(by_sdk, {}, mask)
        assert by_path == by_sdk
        assert list(by_path) == list(by_sdk)  # the field order too


def test_only_the_outermost_deselected_properties_are_listed() -> None:
    assert deselected_paths(users_mask()) == ()
    listed = deselected_paths(users_mask(*DESELECTED))
    assert sorted(listed) == [("enterprise_user",), ("locale",), ("profile", "email")]


def test_deselected_users_properties_are_absent_from_every_record(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    """The same sync with and without the deselection: the records differ by exactly the
    deselected properties, every record lacks them, and so does the SCHEMA message."""
    whole = sync(
        oauth_config(emulator, tmp_path / "whole", scopes=ENTERPRISE_USER_SCOPES),
        catalog=select_only("users"),
    )
    config = oauth_config(emulator, tmp_path / "some", scopes=ENTERPRISE_USER_SCOPES)
    some = sync(config, catalog=deselect(select_only("users"), "users", *DESELECTED))
    assert whole.exit_code == some.exit_code == 0

    records = some.records["users"]
    assert len(records) == emulator.workspace.user_count
    assert sum("email" in (r["profile"] or {}) for r in whole.records["users"]) > 100
    for record in records:
        assert "locale" not in record
        assert "enterprise_user" not in record
        assert "email" not in (record.get("profile") or {})
        assert "title" in record["profile"]
    expected = copy.deepcopy(whole.records["users"])
    for record in expected:
        record.pop("locale", None)
        record.pop("enterprise_user", None)
        (record.get("profile") or {}).pop("email", None)
    assert records == expected

    (schema,) = [m["schema"] for m in some.messages if m["type"] == "SCHEMA"]
    assert "locale" not in schema["properties"]
    assert "email" not in schema["properties"]["profile"]["properties"]


def test_deselection_with_stream_maps_and_flattening(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    """Deselected properties are removed before the maps and the flattening see the record."""
    config = oauth_config(
        emulator,
        tmp_path,
        scopes=ENTERPRISE_USER_SCOPES,
        flattening_enabled=True,
        flattening_max_depth=1,
        stream_maps={"users": {"name_upper": "name.upper() if name else None", "tz": "__NULL__"}},
    )
    result = sync(config, catalog=deselect(select_only("users"), "users", *DESELECTED))
    assert result.exit_code == 0
    records = result.records["users"]
    assert len(records) == emulator.workspace.user_count
    for record in records:
        assert "profile__title" in record
        assert "profile__email" not in record
        assert "profile" not in record
        assert not any(key.startswith(("enterprise_user", "locale")) for key in record)
        assert "tz" not in record
        assert record["name_upper"] == (record["name"].upper() if record["name"] else None)


def test_the_tap_emits_what_the_sdks_own_record_path_emits(
    emulator: SlackEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same sync through the tap's per-record hooks and through the SDK's own (its
    ``_generate_record_messages`` and ``generate_child_contexts``): the same messages, in
    the same order, field order included (``time_extracted`` aside)."""
    catalog = deselect(select_only("users"), "users", *DESELECTED)

    def messages(folder: str) -> list[str]:
        config = oauth_config(emulator, tmp_path / folder, scopes=ENTERPRISE_USER_SCOPES)
        result = sync(config, catalog=catalog)
        assert result.exit_code == 0
        return [
            json.dumps({k: v for k, v in m.items() if k != "time_extracted"})
            for m in result.messages
        ]

    tap_path = messages("tap")
    monkeypatch.setattr(SlackStream, "_generate_record_messages", Stream._generate_record_messages)
    monkeypatch.setattr(SlackStream, "generate_child_contexts", Stream.generate_child_contexts)
    sdk_path = messages("sdk")
    assert len(tap_path) > emulator.workspace.user_count
    assert tap_path == sdk_path
