"""What happens to a stream's records between Slack's answer and stdout.

One :class:`RecordEmission` per stream holds the record checks (date-times, the type-drift
policy, one record per key), the catalog's deselected paths, and the ACTIVATE_VERSION held
back until the stream was read to its end. The stream's SDK hooks delegate here in a line or
two, so the per-record path is one object to read and to measure, not a floor of the stream.

RECORD messages: singer-sdk 0.54's ``_generate_record_messages`` does three things: remove
the deselected properties (a per-field walk of every record, a fifth of the users stream's
time with nothing deselected), conform types (off: the records are checked against the schema
in ``post_process``) and map. Here the catalog's deselected paths are listed once per
selection mask and removed by path (:mod:`~tap_slack_snow.records.selection`), then the maps
run as the SDK runs them.

ACTIVATE_VERSION: the SDK writes it in ``sync``, its only call, before a full-table stream's
first record. A target then marks every older row deleted and each record that follows
undeletes its own, so a stream failing half-way would leave rows Slack still lists deleted.
It is held here and written after the last record of a stream read to its end; the records
carry the version all the same.
"""

from __future__ import annotations

import threading
import typing as t
from datetime import datetime, timezone

from singer_sdk.singerlib import RecordMessage

from tap_slack_snow.records.checks import CheckedStream, RecordChecks
from tap_slack_snow.records.selection import PropertyPath, deselected_paths, drop_deselected

if t.TYPE_CHECKING:
    from singer_sdk.mapper import StreamMap
    from singer_sdk.singerlib import SelectionMask


class EmittingStream(CheckedStream, t.Protocol):
    """What the emission reads of its stream (the SDK's, at the moment it is needed)."""

    @property
    def mask(self) -> SelectionMask:
        """The catalog's selection (the SDK makes a new mask when the catalog changes)."""

    @property
    def stream_maps(self) -> list[StreamMap]:
        """The stream's maps (one RECORD message per map)."""

    @property
    def stream_version(self) -> int | None:
        """The version the stream's records carry (full-table streams)."""


class RecordEmission:
    """The record checks, the RECORD messages and the held ACTIVATE_VERSION of one stream."""

    def __init__(
        self,
        stream: EmittingStream,
        *,
        keep_nul: bool,
        write_activate_version: t.Callable[[int], None],
    ) -> None:
        """``write_activate_version``: the SDK's own writer, called when the version is due."""
        self.stream = stream
        self.keep_nul = keep_nul
        self.write_activate_version = write_activate_version
        self.pending_version: int | None = None
        self._checks: RecordChecks | None = None
        self._checks_made = threading.Lock()
        self._deselected: tuple[SelectionMask | None, tuple[PropertyPath, ...]] = (None, ())

    @property
    def checks(self) -> RecordChecks:
        """The record checks, made at the first record (after the catalog set the keys)."""
        checks = self._checks
        if checks is None:
            with self._checks_made:  # a worker (parse_answer) and the main thread share them
                checks = self._checks = self._checks or RecordChecks.of(
                    self.stream, keep_nul=self.keep_nul
                )
        return checks

    def log_summary(self) -> None:
        """The record checks' closing lines (if a record was checked)."""
        if self._checks is not None:
            self._checks.log_summary()

    @property
    def deselected_paths(self) -> tuple[PropertyPath, ...]:
        """The properties the catalog deselects (listed again only when the SDK resolves a
        new selection mask)."""
        mask = self.stream.mask
        made_for, paths = self._deselected
        if made_for is not mask:
            paths = deselected_paths(mask)
            self._deselected = (mask, paths)
        return paths

    def messages(self, record: dict[str, t.Any]) -> t.Iterator[RecordMessage]:
        """The RECORD messages of a checked record: deselected properties removed by path,
        then one message per stream map (a map's filter may leave the record out)."""
        drop_deselected(record, self.deselected_paths)
        for stream_map in self.stream.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped,
                    version=self.stream.stream_version,
                    time_extracted=datetime.now(timezone.utc),
                )

    def hold_version(self, version: int) -> None:
        """Keep ACTIVATE_VERSION for the end of the stream (see :meth:`release_version`)."""
        self.pending_version = version

    def release_version(self, *, dry_run: bool) -> None:
        """ACTIVATE_VERSION now, if one is held: after the last record of a stream whose
        every partition was read to its end; never in a dry run (it stopped early)."""
        version, self.pending_version = self.pending_version, None
        if version is not None and not dry_run:
            self.write_activate_version(version)
