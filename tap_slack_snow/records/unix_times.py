"""Slack's Unix times as ISO-8601 date-times (records keep the raw value as ``<field>_unix``)."""

from __future__ import annotations

import functools
import typing as t
from datetime import date, datetime, timedelta, timezone

_EPOCH = date(1970, 1, 1)
#: Integers a float holds exactly: below this, ``unix_int`` of an integer is the integer.
_EXACT_IN_FLOAT = 2**53


def unix_to_iso(value: t.Any) -> str | None:
    """Slack Unix seconds (int, float or numeric string) as ISO-8601 UTC; 0/empty → None."""
    if type(value) is int:
        return int_to_iso(value)
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        seconds = float(value)
        if seconds <= 0:
            return None
        return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat()
    except (TypeError, ValueError, OverflowError, OSError):  # not a number, or past year 9999
        return None


def int_to_iso(seconds: int) -> str | None:
    """Integer Unix seconds as ISO-8601 UTC, as ``datetime.isoformat`` writes it.

    The day's part is cached (a day of analytics rows has as many claim times as members,
    but they fall on far fewer days); the time of day is formatted each time (a cache of
    every second would hold 86,400 strings).
    """
    if seconds <= 0:
        return None
    day, second = divmod(seconds, 86400)
    prefix = _day_prefix(day)
    if prefix is None:
        return None
    minutes, second = divmod(second, 60)
    return f"{prefix}{minutes // 60:02d}:{minutes % 60:02d}:{second:02d}+00:00"


@functools.lru_cache(maxsize=1 << 12)
def _day_prefix(day: int) -> str | None:
    """``YYYY-MM-DDT`` of a day counted from 1970-01-01 (None past year 9999)."""
    try:
        return (_EPOCH + timedelta(days=day)).isoformat() + "T"
    except OverflowError:
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
            if type(raw) is int and -_EXACT_IN_FLOAT < raw < _EXACT_IN_FLOAT:  # most records
                record[f"{field}_unix"] = raw
                record[field] = int_to_iso(raw)
                continue
            record[f"{field}_unix"] = unix_int(raw)
            record[field] = unix_to_iso(raw)
    return record
