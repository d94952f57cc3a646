"""Record helpers: Slack's Unix times as integers and ISO-8601 date-times."""

from __future__ import annotations

import typing as t
from datetime import datetime, timezone


def unix_to_iso(value: t.Any) -> str | None:
    """Slack Unix seconds (int, float or numeric string) as ISO-8601 UTC; 0/empty → None."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        seconds = float(value)
        if seconds <= 0:
            return None
        return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat()
    except (TypeError, ValueError, OverflowError, OSError):  # not a number, or past year 9999
        return None


def unix_int(value: t.Any) -> int | None:
    """Slack Unix seconds as an integer (None when absent or not a number)."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError, OverflowError):
        return None


def add_datetimes(record: dict[str, t.Any], fields: t.Iterable[str]) -> dict[str, t.Any]:
    """Keep Slack's raw Unix time as ``<field>_unix`` and make ``<field>`` a date-time."""
    for field in fields:
        if field in record:
            raw = record[field]
            record[f"{field}_unix"] = unix_int(raw)
            record[field] = unix_to_iso(raw)
    return record
