"""The tap with one of its speed choices undone, to measure what each choice is worth.

``BENCH_WRITER=standard`` uses the SDK's standard writer instead of msgspec;
``BENCH_CONFORM=recursive`` turns the SDK's type conformance back on (as before the
benchmark fix); ``BENCH_KEYS=off`` forgets the keys a full-table stream sent (no record is
ever a repeat), to measure the memory that one-record-per-key costs. Each only sets a class
attribute before the CLI starts.
"""

from __future__ import annotations

import os
import typing as t

from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.io_base import SingerWriter

from tap_slack_snow.records.checks import SentKeys
from tap_slack_snow.streams.base import SlackStream
from tap_slack_snow.tap import TapSlackSnow

if os.environ.get("BENCH_WRITER") == "standard":
    TapSlackSnow.message_writer_class = SingerWriter
if os.environ.get("BENCH_CONFORM") == "recursive":
    SlackStream.TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.RECURSIVE

if os.environ.get("BENCH_KEYS") == "off":

    def _never_a_repeat(self: SentKeys, record: dict[str, t.Any], partition: str | None) -> bool:  # noqa: ARG001
        return False

    SentKeys.repeat = _never_a_repeat  # type: ignore[method-assign]

if __name__ == "__main__":
    TapSlackSnow.cli()
