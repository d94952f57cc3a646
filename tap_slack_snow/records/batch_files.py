"""BATCH messages for member_analytics: a day's rows as one gzip JSON Lines file.

A 500,000-member org's analytics day is 500,000 rows, and Slack allows a day every 3 s (6 µs
a row). Through RECORD messages the SDK's per-record path (selection walk, message objects,
one line each) costs about 20 µs a row, so the tap, not Slack, would set the pace. With the
SDK's ``batch_config`` setting, member_analytics writes each day's rows to one file here and
the SDK sends one BATCH message and one STATE message per day; the target loads the file
(target-postgres does). The rows arrive as :class:`RowBlock` s, chunks of rows already
checked against the schema and encoded (see :mod:`tap_slack_snow.records.typed_lines`), and the
gzip compression of one block runs in a second thread while the next is decoded (zlib
releases the GIL), so a day costs about what msgspec and zlib cost.

The other streams keep RECORD messages: their records are few per request, and the SDK's own
batcher (``json.dumps`` and gzip level 9 per record) is slower than RECORDs for them.
"""

from __future__ import annotations

import gzip
import itertools
import typing as t
from concurrent.futures import Future, ThreadPoolExecutor, wait

import msgspec

if t.TYPE_CHECKING:
    from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig

#: gzip level of the batch files: level 1 is several times faster than 9 on JSON rows and
#: compresses them nearly as well.
COMPRESS_LEVEL = 1
#: Rows per block on the row-by-row path (a write per row costs more than the compression).
ROWS_PER_BLOCK = 1000
#: Blocks handed to the compressing thread and not yet written (bounds the memory they hold).
BLOCKS_IN_FLIGHT = 2


class RowBlock(t.NamedTuple):
    """Rows of one batch file, checked and encoded as JSON Lines (one row per line)."""

    #: The rows' value of the stream's ``batch_group_key`` (one file per value).
    group: t.Any
    lines: bytes
    row_count: int
    #: The block's last row, or at least its replication key (the bookmark advances by it).
    last: dict[str, t.Any]


def row_blocks(rows: t.Iterable[dict[str, t.Any]], group_key: str) -> t.Iterator[RowBlock]:
    """Rows (already post-processed) as blocks of up to :data:`ROWS_PER_BLOCK`, split where
    ``group_key`` changes."""
    encode = msgspec.json.Encoder().encode_lines
    for group, members in itertools.groupby(rows, key=lambda row: row.get(group_key)):
        while block := list(itertools.islice(members, ROWS_PER_BLOCK)):
            yield RowBlock(group, encode(block), len(block), block[-1])


def write_batches(
    batch_config: BatchConfig,
    sync_id: str,
    blocks: t.Iterable[RowBlock],
    advance: t.Callable[[dict[str, t.Any]], None],
) -> t.Iterator[tuple[BaseBatchFileEncoding, list[str]]]:
    """One batch file per group of consecutive blocks (rows arrive grouped, e.g. by day).

    ``advance(last_row)`` moves the bookmark past each file's last row before the caller
    writes the STATE that follows the file's BATCH message. An error inside a file leaves it
    without a BATCH message (and the bookmark behind).
    """
    storage = batch_config.storage
    prefix = storage.prefix or ""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tap-slack-snow-gzip") as gzipper:
        for number, (_group, group_blocks) in enumerate(
            itertools.groupby(blocks, key=lambda block: block.group), start=1
        ):
            filename = f"{prefix}{sync_id}-{number}.json.gz"
            last: dict[str, t.Any] = {}
            with (
                storage.open(filename, "wb") as out,
                gzip.GzipFile(fileobj=out, mode="wb", compresslevel=COMPRESS_LEVEL) as gz,
            ):
                writes: list[Future[int]] = []
                try:
                    for block in group_blocks:
                        writes.append(gzipper.submit(gz.write, block.lines))
                        last = block.last
                        if len(writes) >= BLOCKS_IN_FLIGHT:
                            writes.pop(0).result()
                finally:
                    wait(writes)  # the file closes after its writes, also after an error
                for write in writes:
                    write.result()  # a failed write fails the file
            advance(last)
            yield batch_config.encoding, [storage.get_url(filename)]
