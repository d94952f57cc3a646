"""Singer catalogs built from the tap's own discovery (no Slack call), selecting some streams."""

from __future__ import annotations

import typing as t

from tap_slack_snow.tap import TapSlackSnow


def _catalog(selected: t.Callable[[str], bool]) -> dict[str, t.Any]:
    """The tap's catalog with each stream selected when ``selected(its id)``."""
    tap = TapSlackSnow(config={"access_token": "xoxp-discovery"}, validate_config=False)
    catalog = tap.catalog_dict
    for entry in catalog["streams"]:
        is_selected = selected(entry["tap_stream_id"])
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = is_selected
    return catalog


def select_only(*names: str) -> dict[str, t.Any]:
    """A catalog selecting only ``names`` (none when no name is given)."""
    return _catalog(lambda stream: stream in names)


def select_all() -> dict[str, t.Any]:
    """A catalog selecting every stream."""
    return _catalog(lambda _stream: True)
