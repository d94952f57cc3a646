"""What every record of a stream goes through before it is emitted.

:class:`RecordChecks` (one per stream, called from ``SlackStream.post_process``): Unix times
as date-times, the schema check with the type-drift policy (:mod:`.drift`), and for a
full-table stream one record per key per sync (:class:`SentKeys`).

A full-table stream is a snapshot: each key once. Slack's cursor pages can shift while they
are read (a member joins, the list moves on by one) and list a record twice; the first is
kept and the repeats are counted, for one warning when the stream ends. On Enterprise Grid a
member of several workspaces is listed by each: a stream that expects that
(``across_partitions``) keeps the first workspace's record without a warning.
"""

from __future__ import annotations

import threading
import typing as t

from tap_slack_snow.records.drift import DriftPolicy
from tap_slack_snow.records.unix_times import add_datetimes

if t.TYPE_CHECKING:
    import logging

_NEW = object()


class SentKeys:
    """The keys one stream has sent in this sync (first wins)."""

    def __init__(
        self,
        stream: str,
        fields: t.Sequence[str],
        logger: logging.Logger,
        *,
        across_partitions: bool = False,
    ) -> None:
        """``fields``: the primary key; ``across_partitions``: a key may be sent by several
        partitions (kept once, silently)."""
        self.stream = stream
        self.fields = tuple(fields)
        self.logger = logger
        self.across_partitions = across_partitions
        self.repeats = 0
        self._where: dict[t.Any, str | None] = {}

    def repeat(self, record: dict[str, t.Any], partition: str | None) -> bool:
        """Whether ``record``'s key was sent already (then drop it); else remember it."""
        if len(self.fields) == 1:
            key: t.Any = record.get(self.fields[0])
        else:
            key = tuple(record.get(field) for field in self.fields)
        where = self._where.get(key, _NEW)
        if where is _NEW:
            self._where[key] = partition
            return False
        if where == partition or not self.across_partitions:
            self.repeats += 1
        return True

    def log_summary(self) -> None:
        """One WARNING with the count of repeats (call when the stream ends)."""
        if self.repeats:
            self.logger.warning(
                "%s: %d record(s) with a key (%s) already sent in this sync, left out "
                "(the first record of each key is kept; Slack's pages shifted while read)",
                self.stream,
                self.repeats,
                ", ".join(self.fields),
            )


class CheckedStream(t.Protocol):
    """What :meth:`RecordChecks.of` reads of a stream."""

    @property
    def name(self) -> str: ...
    @property
    def slack_method(self) -> str: ...
    @property
    def schema(self) -> dict[str, t.Any]: ...
    @property
    def primary_keys(self) -> t.Sequence[str] | None: ...
    @property
    def replication_key(self) -> str | None: ...
    @property
    def datetime_fields(self) -> tuple[str, ...]: ...
    @property
    def keys_repeat_across_partitions(self) -> bool: ...
    @property
    def logger(self) -> logging.Logger: ...


class RecordChecks:
    """One stream's record checks (see the module docstring)."""

    @classmethod
    def of(cls, stream: CheckedStream, *, keep_nul: bool = False) -> RecordChecks:
        """The checks of ``stream`` with its keys as they are now (the catalog's);
        ``keep_nul``: NUL characters stay in strings (the ``keep_nul_characters`` setting)."""
        return cls(
            stream=stream.name,
            method=stream.slack_method,
            schema=stream.schema,
            primary_keys=stream.primary_keys or (),
            replication_key=stream.replication_key,
            datetime_fields=stream.datetime_fields,
            logger=stream.logger,
            keys_across_partitions=stream.keys_repeat_across_partitions,
            keep_nul=keep_nul,
        )

    def __init__(
        self,
        *,
        stream: str,
        method: str,
        schema: dict[str, t.Any],
        primary_keys: t.Sequence[str],
        replication_key: str | None,
        datetime_fields: t.Sequence[str],
        logger: logging.Logger,
        keys_across_partitions: bool = False,
        keep_nul: bool = False,
    ) -> None:
        """The drift policy is made at its first use (it compiles ``schema``)."""
        self.keep_nul = keep_nul
        self.stream = stream
        self.method = method
        self.schema = schema
        self.key_fields = [key for key in (*primary_keys, replication_key) if key]
        self.datetime_fields = tuple(datetime_fields)
        self.logger = logger
        self._drift: DriftPolicy | None = None
        self._drift_made = threading.Lock()
        #: One record per key per sync: full-table streams only.
        self.sent_keys = (
            None
            if replication_key or not primary_keys
            else SentKeys(stream, primary_keys, logger, across_partitions=keys_across_partitions)
        )

    @property
    def drift(self) -> DriftPolicy:
        """The stream's schema check (made at the first use)."""
        drift = self._drift
        if drift is None:
            with self._drift_made:  # a worker and the main thread may both be first
                drift = self._drift = self._drift or DriftPolicy(
                    stream=self.stream,
                    method=self.method,
                    schema=self.schema,
                    key_fields=self.key_fields,
                    logger=self.logger,
                    keep_nul=self.keep_nul,
                )
        return drift

    def check(self, row: dict[str, t.Any], partition: str | None) -> dict[str, t.Any] | None:
        """The record as it is emitted, or None for a key already sent in this sync."""
        if self.datetime_fields:
            add_datetimes(row, self.datetime_fields)
        row = self.drift.check(row)
        keys = self.sent_keys
        return None if keys is not None and keys.repeat(row, partition) else row

    def log_summary(self) -> None:
        """The closing lines: the drift policy's (if it checked a record), the repeats'."""
        if self._drift is not None:
            self._drift.log_summary()
        if self.sent_keys is not None:
            self.sent_keys.log_summary()
