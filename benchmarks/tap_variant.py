"""The tap with one of its speed choices undone, to measure what each choice is worth.

``BENCH_WRITER=standard`` uses the SDK's standard writer instead of msgspec;
``BENCH_CONFORM=recursive`` turns the SDK's type conformance back on (as before the
benchmark fix). Both only set public class attributes before the CLI starts.
"""

from __future__ import annotations

import os

from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.io_base import SingerWriter

from tap_slack_snow.streams.base import SlackStream
from tap_slack_snow.tap import TapSlackSnow

if os.environ.get("BENCH_WRITER") == "standard":
    TapSlackSnow.message_writer_class = SingerWriter
if os.environ.get("BENCH_CONFORM") == "recursive":
    SlackStream.TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.RECURSIVE

if __name__ == "__main__":
    TapSlackSnow.cli()
