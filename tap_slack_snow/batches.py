"""BATCH messages for member_analytics: a day's rows as one gzip JSON Lines file.

A 500,000-member org's analytics day is 500,000 rows; through RECORD messages the SDK's
per-record path (selection walk, message objects, one line each) costs about 20 µs a row,
while Slack allows a day every 3 s (6 µs a row), so the tap, not Slack, would set the pace.
With the SDK's ``batch_config`` setting, member_analytics writes each day's rows to one file
here (each row still post-processed and checked against the schema) and the SDK sends one
BATCH message and one STATE message per day; the target loads the file (target-postgres
does). The other streams keep RECORD messages: their records are few per request, and the
SDK's own batcher (``json.dumps`` and gzip level 9 per record) is slower than RECORDs.
"""

from __future__ import annotations

import gzip
import itertools
import typing as t
import uuid

import msgspec

if t.TYPE_CHECKING:
    from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig
    from singer_sdk.helpers.types import Context

    from tap_slack_snow.fetching import FetchingStream

#: gzip level of the batch files: level 1 is several times faster than 9 on JSON rows and
#: compresses them nearly as well.
COMPRESS_LEVEL = 1
#: Rows encoded before each write to the gzip stream (a write per row costs more than the
#: compression itself).
LINES_PER_WRITE = 1000


def day_batches(
    stream: FetchingStream,
    batch_config: BatchConfig,
    context: Context | None,
    *,
    group_key: str,
) -> t.Iterator[tuple[BaseBatchFileEncoding, list[str]]]:
    """One batch file per value of ``group_key`` (rows arrive grouped by it, e.g. by day).

    Rows come from the stream's ``get_records`` (its skip policies, prefetch and summary line)
    and go through its ``post_process``; the bookmark advances by the last row of each file
    before the SDK writes the STATE that follows the file's BATCH message.
    """
    storage = batch_config.storage
    prefix = storage.prefix or ""
    sync_id = f"{stream.tap_name}--{stream.name}-{uuid.uuid4()}"
    encode = msgspec.json.Encoder().encode
    stream.write_starting_value(context)

    def rows() -> t.Iterator[dict[str, t.Any]]:
        for raw in stream.get_records(context):
            row = stream.post_process(raw, context)
            if row is not None:
                yield row

    for number, (_key, group) in enumerate(
        itertools.groupby(rows(), key=lambda row: row.get(group_key)), start=1
    ):
        filename = f"{prefix}{sync_id}-{number}.json.gz"
        last: dict[str, t.Any] = {}
        # an error inside a file leaves it without a BATCH message (and the bookmark behind)
        with (
            storage.open(filename, "wb") as out,
            gzip.GzipFile(fileobj=out, mode="wb", compresslevel=COMPRESS_LEVEL) as gz,
        ):
            lines: list[bytes] = []
            for row in group:
                lines.append(encode(row))
                last = row
                if len(lines) >= LINES_PER_WRITE:
                    gz.write(b"\n".join(lines) + b"\n")  # one compress call per chunk
                    lines.clear()
            if lines:
                gz.write(b"\n".join(lines) + b"\n")
        stream.advance_bookmark(last, context)
        yield batch_config.encoding, [storage.get_url(filename)]
