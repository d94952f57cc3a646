"""What every record of a stream goes through before it is emitted.

:class:`RecordChecks` (one per stream, called from ``SlackStream.post_process``): Unix times
as date-times, and the schema check with the type-drift policy (:mod:`.drift`).
"""

from __future__ import annotations

import typing as t

from tap_slack_snow.records.drift import DriftPolicy
from tap_slack_snow.records.unix_times import add_datetimes

if t.TYPE_CHECKING:
    import logging


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
    def logger(self) -> logging.Logger: ...


class RecordChecks:
    """One stream's record checks (see the module docstring)."""

    @classmethod
    def of(cls, stream: CheckedStream) -> RecordChecks:
        """The checks of ``stream`` with its keys as they are now (the catalog's)."""
        return cls(
            stream=stream.name,
            method=stream.slack_method,
            schema=stream.schema,
            primary_keys=stream.primary_keys or (),
            replication_key=stream.replication_key,
            datetime_fields=stream.datetime_fields,
            logger=stream.logger,
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
    ) -> None:
        """The drift policy is made at its first use (it compiles ``schema``)."""
        self.stream = stream
        self.method = method
        self.schema = schema
        self.key_fields = [key for key in (*primary_keys, replication_key) if key]
        self.datetime_fields = tuple(datetime_fields)
        self.logger = logger
        self._drift: DriftPolicy | None = None

    @property
    def drift(self) -> DriftPolicy:
        """The stream's schema check (made at the first use)."""
        if self._drift is None:
            self._drift = DriftPolicy(
                stream=self.stream,
                method=self.method,
                schema=self.schema,
                key_fields=self.key_fields,
                logger=self.logger,
            )
        return self._drift

    def check(self, row: dict[str, t.Any]) -> dict[str, t.Any]:
        """The record as it is emitted."""
        if self.datetime_fields:
            add_datetimes(row, self.datetime_fields)
        return self.drift.check(row)

    def log_summary(self) -> None:
        """The drift policy's closing lines (if it checked a record)."""
        if self._drift is not None:
            self._drift.log_summary()
