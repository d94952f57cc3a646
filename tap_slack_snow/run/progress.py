"""Progress lines for long streams: a sync of a large org runs for minutes to hours.

Under Meltano the tap's stderr is a log, not a terminal, so there is no progress bar: each
stream logs one INFO line at most every :attr:`FetchProgress.interval` seconds (30 by default;
``TAP_SLACK_SNOW_PROGRESS_SECONDS`` changes it) with the pages and records fetched so far, the
records emitted, the time spent waiting on rate limits, and the time left where the stream
can know it (member_analytics knows its days, access_logs how far back it has read).
"""

from __future__ import annotations

import os
import threading
import time
import typing as t

if t.TYPE_CHECKING:
    import logging

    from tap_slack_snow.slack.retry import CallStats

DEFAULT_INTERVAL_SECONDS = 30.0

P = t.TypeVar("P")


def interval_from_environment() -> float:
    """``TAP_SLACK_SNOW_PROGRESS_SECONDS``, else 30 s (a bad value falls back to 30 s)."""
    raw = os.environ.get("TAP_SLACK_SNOW_PROGRESS_SECONDS", "")
    try:
        value = float(raw) if raw else DEFAULT_INTERVAL_SECONDS
    except ValueError:
        return DEFAULT_INTERVAL_SECONDS
    return value if value >= 0 else DEFAULT_INTERVAL_SECONDS


def human_duration(seconds: float) -> str:
    """``45 s``, ``12 min``, ``2 h 05 min``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = seconds / 60
    if minutes < 90:
        return f"{minutes:.0f} min"
    return f"{int(minutes // 60)} h {int(minutes % 60):02d} min"


class FetchProgress:
    """Counts one stream's fetched pages and logs a line when the interval has passed."""

    def __init__(
        self,
        name: str,
        stats: CallStats,
        logger: logging.Logger,
        *,
        emitted: t.Callable[[], int],
        interval: float | None = None,
        clock: t.Callable[[], float] = time.monotonic,
    ) -> None:
        """``emitted`` reads how many records the SDK has emitted (the main thread's count)."""
        self.name = name
        self.stats = stats
        self.logger = logger
        self.emitted = emitted
        self.interval = interval_from_environment() if interval is None else interval
        self.clock = clock
        self.pages = 0
        self.records = 0
        self._lock = threading.Lock()
        self._expected: int | None = None
        self._started = clock()
        self._last_line = self._started

    def restart(self) -> None:
        """A new fetch of the stream begins (counts from zero)."""
        with self._lock:
            self.pages = self.records = 0
            self._started = self._last_line = self.clock()

    def whole_stream(self, sizes: t.Sequence[int | None]) -> None:
        """The stream's partitions are about to be fetched side by side: count them together
        from now (:meth:`counted`), against the sum of their ``sizes`` (each one's records
        last time) when every partition knows its own."""
        self.restart()
        known = [size for size in sizes if size is not None]
        self._expected = sum(known) if len(known) == len(sizes) else None

    def counted(
        self, pages: t.Callable[[], t.Iterator[P]], records_of: t.Callable[[P], int]
    ) -> t.Iterator[P]:
        """The pages of one of the partitions :meth:`whole_stream` counts together, each
        counted as it passes."""
        for page in pages():
            expected = self._expected
            self.page(records_of(page), min(0.99, self.records / expected) if expected else None)
            yield page

    def page(self, records: int, done: float | None = None) -> None:
        """One answer with ``records`` records; ``done`` is the share of the stream read (0-1)
        when the stream can tell."""
        with self._lock:
            self.pages += 1
            self.records += records
            now = self.clock()
            if now - self._last_line < self.interval:
                return
            self._last_line = now
            elapsed = now - self._started
            pages, fetched = self.pages, self.records
        left = "time left unknown"
        if done is not None and 0 < done < 1:
            left = f"about {human_duration(elapsed * (1 - done) / done)} left"
        elif done is not None and done >= 1:
            left = "nearly done"
        self.logger.info(
            "Stream %s in progress: %d pages, %d records fetched (%d emitted), "
            "%.1f s waiting on rate limits, %s in so far, %s",
            self.name,
            pages,
            fetched,
            self.emitted(),
            self.stats.rate_limit_wait_seconds,
            human_duration(elapsed),
            left,
        )
