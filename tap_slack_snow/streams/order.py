"""The order a run syncs its streams in: the stream expected to finish fetching first, first.

The prefetch workers fetch every selected stream side by side, but the SDK writes the streams
one after another, in the order of the tap's ``streams``: a stream whose pages are all on
disk waits behind one that Slack's rate limits still hold back, and the records fetched early
are written only after the slow stream's last page. So a run syncs its streams by the time
each is expected to take, the shortest first: the requests it expects over its method's
rate-limit tier (:attr:`~tap_slack_snow.streams.base.SlackStream.requests_per_minute`).
The requests are estimated from the config, the state the run starts from and today's date,
never from Slack (``--discover`` and ``--about`` call nothing):

- a method that answers in one request (team, billing): 1;
- a member list (users, billable_info, admin_users): its size in the previous run
  (``records_last_sync``) over the page size, 1 on a first run; a per-workspace stream's
  workspaces are read side by side, ``max_concurrent_workspaces`` at once;
- a date-ranged stream (access_logs, integration_logs, member_analytics): one request a day,
  from its bookmark (the earliest of its workspaces'), else ``start_date``, to today: exact
  for member_analytics (a file a day), an estimate for the logs (a page a day).

Ties keep the order of the streams given (the tap gives ``STREAM_TYPES``' order). The same
config, state and day give the same order, with or without ``concurrent_fetch``, so a
resumed run and a sequential run write what a concurrent run writes, in the same order.
"""

from __future__ import annotations

import datetime as dt
import math
import typing as t
from fractions import Fraction

from tap_slack_snow.streams.base import RECORDS_LAST_SYNC, SlackStream

#: Days a date-ranged stream with neither a bookmark nor ``start_date`` is taken to read
#: (the 13 months Slack keeps member analytics; also the most any estimate counts).
HISTORY_DAYS = 396

StreamT = t.TypeVar("StreamT", bound=SlackStream[t.Any])


def sync_order(streams: t.Iterable[StreamT], today: dt.date) -> list[StreamT]:
    """``streams`` by expected fetch time, the shortest first (ties keep their order)."""
    return sorted(streams, key=lambda stream: expected_minutes(stream, today))


def expected_minutes(stream: SlackStream[t.Any], today: dt.date) -> Fraction:
    """Minutes of Slack's rate limit the stream's requests are expected to take (exact, so
    equal estimates tie)."""
    return Fraction(expected_requests(stream, today), stream.requests_per_minute)


def expected_requests(stream: SlackStream[t.Any], today: dt.date) -> int:
    """The requests the stream is expected to make, workspaces read side by side counted
    once (see the module docstring)."""
    saved = previous_states(stream)
    if stream.replication_key:
        return days_to_read(saved, stream.settings.start_date, today)
    if not stream.max_page_size:
        return 1
    sizes = [state.get(RECORDS_LAST_SYNC) for state in saved]
    pages = [max(1, math.ceil(n / stream.page_size)) for n in sizes if type(n) is int and n >= 0]
    if not pages:
        return 1
    at_once = min(len(pages), stream.settings.max_concurrent_workspaces or 1)
    return math.ceil(sum(pages) / (at_once if stream.per_workspace else 1))


def days_to_read(saved: list[dict[str, t.Any]], start_date: str | None, today: dt.date) -> int:
    """Days from the earliest bookmark (a partition without one: ``start_date``) to today,
    at least 1 and at most :data:`HISTORY_DAYS`."""
    start = _day(start_date)
    bounds = [_day(state.get("replication_key_value")) or start for state in saved] or [start]
    known = [day for day in bounds if day is not None]
    if len(known) < len(bounds):
        return HISTORY_DAYS
    return max(1, min(HISTORY_DAYS, (today - min(known)).days))


def previous_states(stream: SlackStream[t.Any]) -> list[dict[str, t.Any]]:
    """The stream's state as the run found it: one per partition, else the stream's own
    (read only: the SDK's accessors would add an empty entry to the state)."""
    bookmarks = stream.tap_state.get("bookmarks")
    marks = bookmarks.get(stream.name) if isinstance(bookmarks, dict) else None
    if not isinstance(marks, dict):
        return []
    partitions = marks.get("partitions")
    found = [p for p in partitions if isinstance(p, dict)] if isinstance(partitions, list) else []
    return found or [marks]


def _day(value: t.Any) -> dt.date | None:
    """The UTC day an ISO date-time (a bookmark, ``start_date``) starts with, else None."""
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None
