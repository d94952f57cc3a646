"""The records of one Slack answer: the value under the method's records key.

A records key that is missing or null, on any page, is a shape the tap cannot read, never
the end of the data: read as "no more records" it would lose the rest of the stream (and
with ACTIVATE_VERSION have the target delete it). Each problem is one line naming the method
and the key.
"""

from __future__ import annotations

import typing as t

from tap_slack_snow.errors import MalformedPayloadError


def records_value(payload: dict[str, t.Any], method: str, key: str) -> t.Any:
    """The value under ``key``; MalformedPayloadError when it is missing or null."""
    if key not in payload:
        raise MalformedPayloadError(f"Slack method {method} answered ok without '{key}'")
    value = payload[key]
    if value is None:
        raise MalformedPayloadError(f"Slack method {method} returned '{key}' as null")
    return value


def record_objects(
    payload: dict[str, t.Any], method: str, key: str
) -> t.Iterator[dict[str, t.Any]]:
    """The records under ``key``: a list of objects, or one object."""
    records = records_value(payload, method, key)
    if isinstance(records, dict):
        yield records
        return
    if not isinstance(records, list):
        raise MalformedPayloadError(
            f"Slack method {method} returned '{key}' as {type(records).__name__}, expected a list"
        )
    for record in records:
        if not isinstance(record, dict):
            raise MalformedPayloadError(
                f"Slack method {method} returned an item of '{key}' that is "
                f"{type(record).__name__}, not an object"
            )
        yield record
