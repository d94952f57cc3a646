"""``admin.analytics.getFile`` files.

A published day is a gzip file of newline-delimited compact JSON objects, one per member
(``type=member``) or per public channel (``type=public_channel``). Rows are a pure function of
``(seed, date, member index)``. Member rows describe members ``1..R`` (USLACKBOT never has a
row) where ``R = analytics_rows_per_day`` (default: the configured number of users); indices at
or beyond the number of members describe former members, who appear only in analytics.

Published window (emulator choice, the docs give no lag): every UTC day from
``today - 13 months`` to ``today - analytics_lag_days``; later days (including today and the
future) answer ``file_not_yet_available``, earlier days ``data_not_available``.

Files are compressed while they are generated and sent chunk by chunk; the compressed bytes of
the most recently completed files are cached so repeated downloads are served with a
``Content-Length`` straight from memory.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ._det import Det, draws, hex_id

if TYPE_CHECKING:
    from .data import Workspace

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CHUNK = 256 * 1024
#: Completed files kept, by their compressed size (a 500,000-row day is about 21 MB).
_CACHE_BYTES = 256 << 20
_ZEROS = (0,) * 16


def parse_day(value: Any) -> dt.date | None:
    """A ``YYYY-MM-DD`` string (or a date) as a date; None when malformed."""
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not _DATE_RE.match(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _months_back(day: dt.date, months: int) -> dt.date:
    total = day.year * 12 + (day.month - 1) - months
    year, month = divmod(total, 12)
    month += 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(d, day.day))
        except ValueError:
            continue
    return dt.date(year, month, 28)


def published_window(ws: Workspace) -> tuple[dt.date, dt.date]:
    """``(oldest, newest)`` published day for the emulator clock's current UTC date."""
    today = dt.datetime.fromtimestamp(ws.clock.now(), tz=dt.timezone.utc).date()
    return _months_back(today, 13), today - dt.timedelta(days=ws.config.analytics_lag_days)


def day_error(ws: Workspace, day: dt.date) -> str | None:
    """The error a request for ``day`` gets, or None when the file is published."""
    oldest, newest = published_window(ws)
    if day > newest:
        return "file_not_yet_available"
    if day < oldest:
        return "data_not_available"
    return None


def row_count(ws: Workspace) -> int:
    """Member rows per day."""
    rows = ws.config.analytics_rows_per_day
    return ws.user_count if rows is None else rows


def _member_line(ws: Workspace, enterprise_id: str, day: str, weekend: bool, i: int) -> str:
    u = ws.user_core(i)
    gone = u.deleted or u.is_invited or u.is_bot or u.role == "slackbot"
    v = draws(ws.seed, "analytics", day, i) if not gone else _ZEROS
    active = (not gone) and (v[0] & 0xFFFF) < (16384 if weekend else 52429)  # 25 % / 80 %
    if active:
        ios = (v[0] >> 16) < 22938  # 35 %
        android = (v[1] & 0xFFFF) < 13107  # 20 %
        desktop = (v[1] >> 16) < 52429 or not (ios or android)
        messages = v[2] % 60
        channel_messages = messages - (v[3] % (messages + 1)) // 2
        reactions = v[4] % 25
        files = v[5] % 4
        apps = (v[6] & 0xFFFF) < 26214
        workflows = (v[6] >> 16) < 9830
        connect = (v[7] & 0xFFFF) < 6554
        huddles = v[8] % 4
        slack_calls = v[9] % 3
        total_calls = huddles + slack_calls + v[10] % 3
        search = v[11] % 40
    else:
        ios = android = desktop = apps = workflows = connect = False
        messages = channel_messages = reactions = files = huddles = slack_calls = 0
        total_calls = search = 0

    def b(x: bool) -> str:
        return "true" if x else "false"

    return (
        f'{{"enterprise_id":"{enterprise_id}","date":"{day}","user_id":"{u.id}",'
        f'"team_id":"{u.team_ids[0]}","email_address":"{u.email}",'
        f'"enterprise_employee_number":"{u.employee_number}",'
        f'"is_guest":{b(u.is_restricted)},"is_billable_seat":{b(u.billing_active and not gone)},'
        f'"is_active":{b(active)},"is_active_ios":{b(ios)},"is_active_android":{b(android)},'
        f'"is_active_desktop":{b(desktop)},"reactions_added_count":{reactions},'
        f'"messages_posted_count":{messages},'
        f'"channel_messages_posted_count":{channel_messages},"files_added_count":{files},'
        f'"is_active_apps":{b(apps)},"is_active_workflows":{b(workflows)},'
        f'"is_active_slack_connect":{b(connect)},"total_calls_count":{total_calls},'
        f'"slack_calls_count":{slack_calls},"slack_huddles_count":{huddles},'
        f'"search_count":{search},"date_claimed":{u.created}}}\n'
    )


def _channel_count(ws: Workspace) -> int:
    return max(3, min(500, ws.user_count // 10))


def _channel_line(ws: Workspace, enterprise_id: str, day: str, c: int) -> str:
    import json  # noqa: PLC0415 - only needed for this rarely used file type

    d = Det(ws.seed, "channel", c)
    team = ws.teams[c % len(ws.teams)]
    ctype = (
        "single_workspace_channel"
        if len(ws.teams) == 1
        else d.pick(("single_workspace_channel", "multi_workspace_channel", "org_wide_channel"))
    )
    members = 2 + d.below(max(3, ws.user_count // 4))
    guests = d.below(3)
    daily = Det(ws.seed, "channel-day", day, c)
    posted = daily.below(80)
    row = {
        "enterprise_id": enterprise_id,
        "team_id": team.id,
        "originating_team": {"team_id": team.id, "name": team.name},
        "channel_id": "C0" + hex_id(8, ws.seed, "channel", c),
        "channel_type": ctype,
        "visibility": "public",
        "shared_with": [{"team_id": team.id, "name": team.name}],
        "is_shared_externally": False,
        "externally_shared_with_organizations": [],
        "date_created": ws.base_now - d.between(30, 2000) * 86400,
        "date_last_active": ws.base_now - daily.below(5) * 86400,
        "total_members_count": members,
        "full_members_count": members - guests,
        "guest_member_count": guests,
        "messages_posted_count": posted,
        "messages_posted_by_members_count": posted - daily.below(posted + 1) // 4,
        "members_who_posted_count": min(members, daily.below(15)),
        "members_who_viewed_count": min(members, daily.below(200)),
        "reactions_added_count": daily.below(40),
        "date": day,
    }
    return json.dumps(row, separators=(",", ":")) + "\n"


def lines(ws: Workspace, kind: str, day: dt.date) -> Iterator[str]:
    """The NDJSON lines of one file."""
    enterprise_id = ws.enterprise.id if ws.enterprise is not None else "0"
    text = day.isoformat()
    if kind == "member":
        weekend = day.weekday() >= 5
        for i in range(1, row_count(ws) + 1):
            yield _member_line(ws, enterprise_id, text, weekend, i)
    else:
        for c in range(_channel_count(ws)):
            yield _channel_line(ws, enterprise_id, text, c)


def analytics_rows(ws: Workspace, date: Any, kind: str = "member") -> list[dict[str, Any]]:
    """Decoded rows of a day's file (for assertions)."""
    import json  # noqa: PLC0415

    day = parse_day(date)
    if day is None:
        raise ValueError(f"not a YYYY-MM-DD date: {date!r}")
    return [json.loads(line) for line in lines(ws, kind, day)]


class AnalyticsFiles:
    """Compressed files with a small cache of completed ones."""

    def __init__(self, ws: Workspace, level: int = 6) -> None:
        self.ws = ws
        self.level = level
        self._cache: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def cached(self, kind: str, day: dt.date) -> bytes | None:
        """The complete compressed file if it is cached."""
        with self._lock:
            body = self._cache.get((kind, day.isoformat()))
            if body is not None:
                self._cache.move_to_end((kind, day.isoformat()))
            return body

    def stream(self, kind: str, day: dt.date) -> Iterator[bytes]:
        """Compressed chunks of the file, generated on the fly; the file is cached once the
        generator is exhausted."""
        comp = zlib.compressobj(self.level, zlib.DEFLATED, 31)  # wbits 31 = gzip container
        parts: list[bytes] = []
        pending: list[str] = []
        size = 0
        for line in lines(self.ws, kind, day):
            pending.append(line)
            size += len(line)
            if size >= _CHUNK:
                out = comp.compress("".join(pending).encode())
                pending, size = [], 0
                if out:
                    parts.append(out)
                    yield out
        out = comp.compress("".join(pending).encode()) + comp.flush()
        parts.append(out)
        yield out
        body = b"".join(parts)
        with self._lock:
            self._cache[(kind, day.isoformat())] = body
            while len(self._cache) > 1 and sum(map(len, self._cache.values())) > _CACHE_BYTES:
                self._cache.popitem(last=False)

    def body(self, kind: str, day: dt.date) -> bytes:
        """The whole compressed file."""
        cached = self.cached(kind, day)
        if cached is not None:
            return cached
        return b"".join(self.stream(kind, day))
