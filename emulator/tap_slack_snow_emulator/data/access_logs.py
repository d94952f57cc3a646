"""``team.accessLogs`` entries, generated lazily so that millions of them cost no memory.

Entry ``k`` (0 = newest) is a pure function of ``k``; ``date_last`` strictly decreases with
``k`` except inside the configured tie block. Every entry has its own IP, so entries are
unique per (user_id, ip, user_agent). Touched and added entries live in a small overlay that
is merged with the lazy base sequence when paging.
"""

from __future__ import annotations

import bisect
import random
import threading
from typing import Any

from .._det import Det, perm24
from ..config import Clock, WorkspaceConfig
from .organisation import DAY, Organisation
from .vocabulary import GEO, IP_FIRST_OCTETS, USER_AGENTS


class AccessLogs(Organisation):
    """The organisation's access log, which tests can touch and extend."""

    def __init__(self, config: WorkspaceConfig, clock: Clock) -> None:
        super().__init__(config, clock)
        self.access = AccessLog(self)

    def access_log_entries(
        self, before: int | None = None, team_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Every ``team.accessLogs`` entry with ``date_last <= before`` (None = no bound),
        newest first, as the API returns them."""
        return self.access.all_entries(before, team_id)

    def touch_access_logs(self, n: int, at: int | None = None) -> list[dict[str, Any]]:
        """``n`` existing entries get ``date_last = at`` (default: clock + 1) and ``count + 1``;
        they become the newest. Returns the touched entries."""
        return self.access.touch(n, at)

    def add_access_logs(self, n: int, at: int | None = None) -> list[dict[str, Any]]:
        """``n`` brand-new entries (first access) at ``at`` (default: clock + 1)."""
        return self.access.add(n, at)

    @property
    def access_log_tie(self) -> tuple[int, int, int] | None:
        """``(first, end, date_last)`` of the tie block in the base sequence (0 = newest)."""
        return self.access.tie


class AccessLog:
    """Lazy ``team.accessLogs`` data: a computed base sequence plus a mutable overlay."""

    def __init__(self, ws: Organisation) -> None:
        self.ws = ws
        n = ws.config.access_logs
        self.n = n
        self.newest = ws.base_now - 45
        self.step = max(1, (180 * DAY) // max(n, 1))
        self._salt = ws._offset & 0xFFFFFF
        self.tie: tuple[int, int, int] | None = None
        self._tie0 = self._tie1 = -1
        size = ws.config.access_log_tie_size
        if size > 0 and n > 0:
            if n > 100_000:
                boundary = 100_000
            elif n > 1000:
                boundary = 1000
            else:
                boundary = n // 2
            t0 = max(0, boundary - size // 2)
            t1 = min(n, t0 + size)
            t0 = max(0, t1 - size)
            self._tie0, self._tie1 = t0, t1
            self.tie = (t0, t1, self._natural_date(t0))
        self._lock = threading.Lock()
        self._removed: list[int] = []  # base indices moved into the overlay (sorted)
        # newest first: ((-date_last, -seq), base index, entry)
        self._overlay: list[tuple[tuple[int, int], int, dict[str, Any]]] = []
        self._seq = 0
        self._added = 0
        self._touches = 0
        self.version = 0
        self._cache: dict[tuple[Any, ...], Any] = {}

    def _natural_date(self, k: int) -> int:
        return self.newest - k * self.step - (perm24((k + self._salt) & 0xFFFFFF) % self.step)

    def date_last(self, k: int) -> int:
        """``date_last`` of base entry ``k`` (non-increasing in ``k``)."""
        if self._tie0 <= k < self._tie1:
            k = self._tie0
        return self._natural_date(k)

    def first_at_or_before(self, x: int) -> int:
        """Smallest base index whose ``date_last <= x`` (``n`` when none)."""
        lo, hi = 0, self.n
        while lo < hi:
            mid = (lo + hi) // 2
            if self.date_last(mid) <= x:
                hi = mid
            else:
                lo = mid + 1
        return lo

    def _user_for(self, d: Det) -> int:
        ws = self.ws
        if ws.user_count <= 1:
            return 0
        u = 1 + d.below(ws.user_count - 1)
        for _ in range(ws.user_count):
            if ws.is_human(u):
                return u
            u = 1 + (u % (ws.user_count - 1))
        return 0

    def entry(self, k: int, date_last: int | None = None) -> dict[str, Any]:
        """Base entry ``k`` (or a brand-new entry ``k >= n`` when ``date_last`` is given)."""
        d = Det(self.ws.seed, "access", k)
        u = self._user_for(d)
        core = self.ws.user_core(u)
        p = perm24(k & 0xFFFFFF)
        octet = IP_FIRST_OCTETS[(k >> 24) % len(IP_FIRST_OCTETS)]
        isp, country, region = d.pick(GEO)
        fresh = date_last is not None
        last = self.date_last(k) if date_last is None else date_last
        first = last if fresh else last - d.between(0, 400 * DAY)
        count = 1 if fresh else 1 + min(d.below(40), d.below(40)) * d.between(1, 60)
        return {
            "user_id": core.id,
            "username": core.username,
            "date_first": first,
            "date_last": last,
            "count": count,
            "ip": f"{octet}.{p >> 16}.{(p >> 8) & 255}.{p & 255}",
            "user_agent": d.pick(USER_AGENTS),
            "isp": isp,
            "country": country,
            "region": region,
            "_team": core.team_ids[0],
        }

    @staticmethod
    def public(entry: dict[str, Any]) -> dict[str, Any]:
        """The entry without internal keys."""
        return {k: v for k, v in entry.items() if k != "_team"}

    def _snapshot(self) -> tuple[list[int], list[dict[str, Any]], int]:
        with self._lock:
            return self._removed, [item[2] for item in self._overlay], self.version

    def _nth_base(self, removed: list[int], t: int) -> int:
        """The ``t``-th (0-based) base index that is not in ``removed``."""
        lo, hi = t, t + len(removed)
        while lo < hi:
            mid = (lo + hi) // 2
            if mid + 1 - bisect.bisect_right(removed, mid) >= t + 1:
                hi = mid
            else:
                lo = mid + 1
        return lo

    def _layout(
        self, before: int | None
    ) -> tuple[int, int, list[dict[str, Any]], list[int], list[int]]:
        """For a ``before`` bound: (first base effective index, total, overlay entries,
        their merged positions, removed snapshot)."""
        removed, overlay, version = self._snapshot()
        key = ("layout", before, version)
        cached = self._cache.get(key)
        if cached is not None:
            result: tuple[int, int, list[dict[str, Any]], list[int], list[int]] = cached
            return result
        kb = 0 if before is None else self.first_at_or_before(before)
        removed_before = bisect.bisect_left(removed, kb)
        base_total = (self.n - kb) - (len(removed) - removed_before)
        ov = [o for o in overlay if before is None or o["date_last"] <= before]
        positions = []
        for j, o in enumerate(ov):
            kx = max(kb, self.first_at_or_before(o["date_last"]))
            nb = (kx - kb) - (bisect.bisect_left(removed, kx) - removed_before)
            positions.append(j + nb)
        result = (kb - removed_before, base_total + len(ov), ov, positions, removed)
        if len(self._cache) > 64:
            self._cache.clear()
        self._cache[key] = result
        return result

    def page(
        self, before: int | None, offset: int, limit: int, team_id: str | None = None
    ) -> tuple[list[dict[str, Any]], int]:
        """Entries ``[offset, offset + limit)`` of the newest-first sequence with
        ``date_last <= before``, and the total number of such entries."""
        if team_id is not None:
            entries = self._team_entries(before, team_id)
            return [self.public(e) for e in entries[offset : offset + limit]], len(entries)
        return self._page_raw(before, offset, limit, public=True)

    def _page_raw(
        self, before: int | None, offset: int, limit: int, *, public: bool
    ) -> tuple[list[dict[str, Any]], int]:
        base_start, total, ov, positions, removed = self._layout(before)
        out: list[dict[str, Any]] = []
        pi = bisect.bisect_left(positions, offset)
        end = min(offset + limit, total)
        pos = offset
        k = -1
        while pos < end:
            if pi < len(positions) and positions[pi] == pos:
                e = ov[pi]
                pi += 1
            else:
                if k < 0:
                    k = self._nth_base(removed, base_start + pos - pi)
                else:
                    k += 1
                    idx = bisect.bisect_left(removed, k)
                    while idx < len(removed) and removed[idx] == k:
                        k += 1
                        idx += 1
                e = self.entry(k)
            out.append(self.public(e) if public else e)
            pos += 1
        return out, total

    def _team_entries(self, before: int | None, team_id: str) -> list[dict[str, Any]]:
        _, _, version = self._snapshot()
        key = ("team", before, team_id, version)
        cached = self._cache.get(key)
        if cached is None:
            everything, _ = self._page_raw(before, 0, 1 << 40, public=False)
            cached = [e for e in everything if e["_team"] == team_id]
            if len(self._cache) > 64:
                self._cache.clear()
            self._cache[key] = cached
        result: list[dict[str, Any]] = cached
        return result

    def all_entries(self, before: int | None, team_id: str | None) -> list[dict[str, Any]]:
        """Every entry (newest first) with ``date_last <= before``."""
        entries, _ = self.page(before, 0, 1 << 40, team_id)
        return entries

    def _insert_overlay(self, entry: dict[str, Any], k: int) -> None:
        # caller holds the lock and has already copied self._overlay
        self._seq += 1
        bisect.insort(self._overlay, ((-int(entry["date_last"]), -self._seq), k, entry))

    def touch(self, n: int, at: int | None) -> list[dict[str, Any]]:
        """See :meth:`AccessLogs.touch_access_logs`."""
        when = int(self.ws.clock.now()) + 1 if at is None else int(at)
        touched: list[dict[str, Any]] = []
        with self._lock:
            rng = random.Random(f"{self.ws.seed}:touch:{self._touches}")
            self._touches += 1
            removed = list(self._removed)
            removed_set = set(removed)
            self._overlay = list(self._overlay)
            available = self.n - len(removed)
            want = min(n, available)
            picks: list[int] = []
            if want > available // 2:
                pool = [k for k in range(self.n) if k not in removed_set]
                picks = rng.sample(pool, want)
            else:
                chosen: set[int] = set()
                while len(picks) < want:
                    k = rng.randrange(self.n)
                    if k in removed_set or k in chosen:
                        continue
                    chosen.add(k)
                    picks.append(k)
            rest = min(n - len(picks), len(self._overlay))
            # entries already in the overlay are re-touched oldest first
            again = self._overlay[len(self._overlay) - rest :] if rest > 0 else []
            if again:
                del self._overlay[len(self._overlay) - rest :]
            for k in picks:
                e = self.entry(k)
                e["date_last"] = when
                e["count"] += 1
                bisect.insort(removed, k)
                self._insert_overlay(e, k)
                touched.append(e)
            for _, k, old in reversed(again):
                e = dict(old)
                e["date_last"] = when
                e["count"] += 1
                self._insert_overlay(e, k)
                touched.append(e)
            self._removed = removed
            self.version += 1
        return [self.public(e) for e in touched]

    def add(self, n: int, at: int | None) -> list[dict[str, Any]]:
        """See :meth:`AccessLogs.add_access_logs`."""
        when = int(self.ws.clock.now()) + 1 if at is None else int(at)
        new: list[dict[str, Any]] = []
        with self._lock:
            self._overlay = list(self._overlay)
            for _ in range(n):
                k = self.n + self._added
                self._added += 1
                e = self.entry(k, date_last=when)
                self._insert_overlay(e, k)
                new.append(e)
            self.version += 1
        return [self.public(e) for e in new]
