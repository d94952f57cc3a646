"""SIGTERM and SIGINT: stop with 143 / 130, never in the middle of a token rotation.

Slack's refresh tokens are single-use: once ``oauth.v2.access`` has answered, the new
refresh token exists only in that answer until it is saved. A signal that stopped the tap
between the two would leave a spent token in the store, so the refresh-and-save runs inside
:func:`signals_deferred`: a signal arriving then is recorded, and raised again the moment
the step is over.

Python runs signal handlers in the main thread only; the record of deferred signals is
guarded by a lock, so a step run in another thread defers them as well, and re-raising the
signal (``signal.raise_signal``) hands it back to the main thread's handler.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import typing as t


class _DeferredSignals:
    """How many deferring steps are running, and the first signal that arrived meanwhile."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: list[str] = []
        self._pending: int | None = None

    @contextlib.contextmanager
    def during(self, step: str) -> t.Iterator[None]:
        with self._lock:
            self._running.append(step)
        try:
            yield
        finally:
            with self._lock:
                self._running.remove(step)
                pending = self._pending if not self._running else None
                if pending is not None:
                    self._pending = None
            if pending is not None:
                signal.raise_signal(pending)

    def defer(self, signum: int) -> str | None:
        """Record ``signum`` if a deferring step is running; return that step's name."""
        with self._lock:
            if not self._running:
                return None
            if self._pending is None:
                self._pending = signum
            return self._running[0]


_DEFERRED = _DeferredSignals()


def signals_deferred(step: str) -> t.ContextManager[None]:
    """Run ``step`` to its end even if SIGTERM or SIGINT arrives; act on the signal after."""
    return _DEFERRED.during(step)


def defer_signal(signum: int) -> str | None:
    """For the signal handler: the step the signal waits for, or None to act at once."""
    return _DEFERRED.defer(signum)


def exit_code_for(signum: int) -> int:
    """The shell's convention: 128 + the signal number (SIGINT 130, SIGTERM 143)."""
    return 128 + signum


def signal_name(signum: int) -> str:
    """``SIGTERM``, ``SIGINT``, ..."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"
