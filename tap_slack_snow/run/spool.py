"""A one-writer, one-reader queue of pages that keeps what is fetched ahead on disk.

A prefetch worker fetches a stream's pages before the SDK reaches that stream; the pages wait
in a temporary file (length-prefixed frames) so memory stays bounded whatever the stream's
size, and the file is deleted when the stream is read (or the run ends). Once the reader has
caught up with the writer, the spool hands pages over in memory instead (at most
``live_pages`` at a time), so the stream whose turn it is pays no encoding.

The writer blocks while more than ``max_bytes`` wait unread on disk (a stream fetched far
ahead waits for its turn instead of filling the disk), or while the spools sharing a
:class:`DiskBudget` hold more than its limit together. A writer whose reader has caught up
hands its pages over in memory and never waits on the budget. A writer's error is raised to
the reader after the pages written before it, at the same point a sequential run would meet it.
"""

from __future__ import annotations

import collections
import os
import struct
import tempfile
import threading
import typing as t
from pathlib import Path

P = t.TypeVar("P")

_LENGTH = struct.Struct("<Q")


class SpoolStopped(Exception):
    """The run is ending: the writer stops at its next page."""


class DiskBudget:
    """Unread bytes on disk that several spools share: a writer waits while they hold more
    than ``limit`` together. The spools sharing it share its lock, so a page read from any of
    them wakes the writers it frees."""

    def __init__(self, limit: int) -> None:
        """Nothing is on disk yet."""
        self.limit = limit
        self.used = 0
        self.condition = threading.Condition()

    def has_room(self) -> bool:
        """Whether a writer may put one more page on disk (under :attr:`condition`)."""
        return self.used <= self.limit


class Spool(t.Generic[P]):
    """Pages of one (stream, context), in order, from a worker thread to the main thread."""

    def __init__(
        self,
        *,
        encode: t.Callable[[P], bytes],
        decode: t.Callable[[bytes], P],
        directory: str | None = None,
        max_bytes: int = 512 << 20,
        live_pages: int = 2,
        extra_bytes: t.Callable[[P], int] = lambda _page: 0,
        discard: t.Callable[[P], None] = lambda _page: None,
        budget: DiskBudget | None = None,
    ) -> None:
        """``encode``/``decode`` turn a page into a frame and back; ``extra_bytes`` is what a
        page holds on disk besides its frame (a downloaded file), ``discard`` frees it;
        ``budget`` bounds the unread bytes of several spools together."""
        self._encode = encode
        self._decode = decode
        self._extra_bytes = extra_bytes
        self._discard = discard
        self.max_bytes = max_bytes
        self._live_pages = max(1, live_pages)
        fd, name = tempfile.mkstemp(prefix="tap-slack-snow-spool-", suffix=".bin", dir=directory)
        os.close(fd)
        self.path = Path(name)
        self._out = open(self.path, "wb")  # noqa: SIM115 - closed in finish()/close()
        self._in = open(self.path, "rb")  # noqa: SIM115
        # No name on disk from now on: the file lives as long as its two handles, so it goes
        # with the process however the process ends (SIGKILL included).
        self.path.unlink()
        self._budget = budget
        self._lock = budget.condition if budget is not None else threading.Condition()
        self._disk_frames: collections.deque[tuple[int, int]] = collections.deque()
        self._disk_bytes = 0  # unread bytes on disk, frames and extra bytes
        self._live: collections.deque[P] = collections.deque()
        self._live_mode = False
        self._finished = False
        self._error: BaseException | None = None
        self._stopped = False

    # --- writer side (the prefetch worker) ---------------------------------------------------

    def put(self, page: P) -> None:
        """Queue one page; blocks while the reader is far behind."""
        with self._lock:
            while True:
                if self._stopped:
                    self._discard(page)
                    raise SpoolStopped
                if self._live_mode:
                    if len(self._live) < self._live_pages:
                        self._live.append(page)
                        self._lock.notify_all()
                        return
                elif self._disk_bytes <= self.max_bytes and (
                    self._budget is None or self._budget.has_room()
                ):
                    break
                self._lock.wait()
        frame = self._encode(page)
        try:
            self._out.write(_LENGTH.pack(len(frame)))
            self._out.write(frame)
            self._out.flush()
        except ValueError:  # the file was closed meanwhile: the run ends, or the job was skipped
            if not self._stopped:
                raise
        with self._lock:
            if self._stopped:  # closed while the frame was written: it is not counted
                self._discard(page)
                raise SpoolStopped
            self._disk_frames.append((len(frame), self._extra_bytes(page)))
            self._count_disk(len(frame) + self._extra_bytes(page))
            self._lock.notify_all()

    def finish(self, error: BaseException | None = None) -> None:
        """No more pages; ``error`` (if any) is raised to the reader after the last one."""
        with self._lock:
            self._finished = True
            self._error = error
            self._lock.notify_all()

    # --- reader side (the main thread) -------------------------------------------------------

    def read(self) -> t.Iterator[P]:
        """Every page in order; then the writer's error, if it failed."""
        while True:
            with self._lock:
                while not self._disk_frames and not self._live and not self._finished:
                    self._live_mode = True  # caught up: hand the next pages over in memory
                    self._lock.notify_all()
                    self._lock.wait()
                if self._disk_frames:
                    size, extra = self._disk_frames.popleft()
                    from_disk = True
                elif self._live:
                    page = self._live.popleft()
                    self._lock.notify_all()
                    from_disk = False
                else:
                    error = self._error
                    break
            if from_disk:
                (length,) = _LENGTH.unpack(self._in.read(_LENGTH.size))
                page = self._decode(self._in.read(length))
                with self._lock:
                    self._count_disk(-(size + extra))
                    self._lock.notify_all()
            yield page
        if error is not None:
            raise error

    # --- both --------------------------------------------------------------------------------

    def stop(self) -> None:
        """Wake and stop the writer (the run ends); pages not read are discarded."""
        with self._lock:
            self._stopped = True
            self._lock.notify_all()

    def _count_disk(self, change: int) -> None:
        """Unread bytes on disk grew (or shrank) by ``change`` (under the lock)."""
        self._disk_bytes += change
        if self._budget is not None:
            self._budget.used += change

    def close(self) -> None:
        """Delete the file and whatever unread pages hold (downloaded files)."""
        self.stop()
        with self._lock:
            live, self._live = list(self._live), collections.deque()
            frames, self._disk_frames = list(self._disk_frames), collections.deque()
            self._count_disk(-self._disk_bytes)  # given back to the budget
            self._lock.notify_all()
        for page in live:
            self._discard(page)
        for _size, _extra in frames:
            try:
                (length,) = _LENGTH.unpack(self._in.read(_LENGTH.size))
                self._discard(self._decode(self._in.read(length)))
            except (struct.error, ValueError):
                break
        self._out.close()
        self._in.close()
        self.path.unlink(missing_ok=True)
