"""Slack's Unix times (``tap_slack_snow.records.unix_times``): shown as date-times, the raw
value kept in ``<field>_unix`` (no HTTP).
"""

from __future__ import annotations

import random
from datetime import datetime, timezone

import pytest

from tap_slack_snow.records.unix_times import add_datetimes, unix_int, unix_to_iso


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (1502138686, "2017-08-07T20:44:46+00:00"),
        ("1392163200", "2014-02-12T00:00:00+00:00"),
        (0, None),
        (None, None),
        ("", None),
        ("not a number", None),
        (True, None),
    ],
)
def test_unix_to_iso(raw: object, expected: str | None) -> None:
    assert unix_to_iso(raw) == expected


def test_add_datetimes_keeps_raw_value() -> None:
    record = add_datetimes({"updated": 1502138686, "other": 1}, ["updated", "absent"])
    assert record == {
        "updated": "2017-08-07T20:44:46+00:00",
        "updated_unix": 1502138686,
        "other": 1,
    }


def test_integer_unix_times_read_as_datetime_writes_them() -> None:
    """The cached day + time-of-day conversion equals ``datetime.isoformat`` everywhere."""
    rng = random.Random(7)
    edges = [1, 59, 60, 3599, 3600, 86399, 86400, 951_782_400, 4_107_542_399]
    last = 253_402_300_799  # 9999-12-31T23:59:59
    for value in [*edges, last, last + 1, 10**13, *(rng.randrange(1, last) for _ in range(20_000))]:
        try:
            expected: str | None = datetime.fromtimestamp(value, tz=timezone.utc).isoformat()
        except (OverflowError, OSError, ValueError):
            expected = None
        assert unix_to_iso(value) == expected, value


@pytest.mark.parametrize(
    "raw", [1502138686, 0, -5, 2**53 - 1, 2**53, 2**53 + 1, -(2**53) - 1, 10**400, 1.5, "7"]
)
def test_add_datetimes_of_an_integer_is_the_general_conversion(raw: object) -> None:
    """Integers take a shorter path; the result is the general one's (the raw value as
    ``unix_int`` reads it, the date-time as ``unix_to_iso`` writes it)."""
    assert add_datetimes({"updated": raw}, ["updated"]) == {
        "updated": unix_to_iso(raw),
        "updated_unix": unix_int(raw),
    }
