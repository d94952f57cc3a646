"""BATCH messages for member_analytics: a day's rows as gzip JSON Lines files, one BATCH each.

A 500,000-member org's analytics day is 500,000 rows, and Slack allows a day every 3 s (6 µs
a row). Through RECORD messages the SDK's per-record path (selection walk, message objects,
one line each) costs about 20 µs a row, so the tap, not Slack, would set the pace. With the
SDK's ``batch_config`` setting, member_analytics writes each day's rows to files here and the
SDK sends a BATCH message per file as soon as the file is whole (and a STATE after it when
the state changed): the target (target-postgres) loads a day's first file while the tap
writes the next, so a one-day run (the daily one) does not wait for the whole day before
loading starts. The
bookmark moves past a day in the STATE after the day's last file, never earlier, so a run
that stops mid-day reads the whole day again (the target merges on the stream's key, as it
does for the RECORDs of a day cut short). A file holds at most
``batch_config.batch_size`` rows (the SDK's setting, 10,000 by default): singer-sdk targets
read a whole batch file into memory before they load it (about 5 KB a row in target-postgres,
so 950 MB for a 200,000-row day in one file), so the setting bounds the target's memory, not
only the files' size. The rows arrive as :class:`RowBlock` s,
chunks of rows already checked against the schema and encoded (see
:mod:`tap_slack_snow.records.typed_lines`), and the gzip compression of one block runs in a
second thread while the next is decoded (zlib releases the GIL), so a day costs about what
msgspec and zlib cost.

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
    """One BATCH manifest per file of at most ``batch_config.batch_size`` rows, as soon as
    the file is whole; a file holds the rows of one group of consecutive blocks (rows arrive
    grouped, e.g. by day).

    ``advance(last_row)`` moves the bookmark past a group's last row just before its last
    file is yielded, so the STATE the caller writes after that file's BATCH message is the
    first to pass the group. A file is yielded once the next file of its group has begun (or
    the group has ended): only then is it known whether it is the group's last. An error
    inside a group leaves its unfinished file without a BATCH message and the bookmark
    behind the group.
    """
    storage = batch_config.storage
    prefix = storage.prefix or ""
    rows_per_file = max(1, batch_config.batch_size)
    numbers = itertools.count(1)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tap-slack-snow-gzip") as gzipper:
        for _group, group_blocks in itertools.groupby(blocks, key=lambda block: block.group):
            written: str | None = None
            last: dict[str, t.Any] = {}
            for file_blocks in files_of(group_blocks, rows_per_file):
                if written is not None:
                    yield batch_config.encoding, [written]
                filename = f"{prefix}{sync_id}-{next(numbers)}.json.gz"
                last = write_file(gzipper, storage.open(filename, "wb"), file_blocks) or last
                written = storage.get_url(filename)
            advance(last)
            if written is not None:
                yield batch_config.encoding, [written]


def files_of(blocks: t.Iterable[RowBlock], rows_per_file: int) -> t.Iterator[list[RowBlock]]:
    """``blocks`` cut into files of at most ``rows_per_file`` rows (a block that straddles a
    file's end is cut between two lines)."""
    file: list[RowBlock] = []
    room = rows_per_file
    for whole in blocks:
        rest = whole
        while rest.row_count > room:
            head, rest = split_block(rest, room)
            file.append(head)
            yield file
            file, room = [], rows_per_file
        if rest.row_count:
            file.append(rest)
            room -= rest.row_count
    if file:
        yield file


def split_block(block: RowBlock, rows: int) -> tuple[RowBlock, RowBlock]:
    """``block``'s first ``rows`` lines and the rest (only the rest keeps ``last``: a file's
    last row matters only at the end of its group)."""
    end = 0
    for _ in range(rows):
        end = block.lines.index(b"\n", end) + 1
    head = RowBlock(block.group, block.lines[:end], rows, {})
    return head, block._replace(lines=block.lines[end:], row_count=block.row_count - rows)


def write_file(
    gzipper: ThreadPoolExecutor, out: t.ContextManager[t.IO[t.Any]], blocks: list[RowBlock]
) -> dict[str, t.Any]:
    """Compress ``blocks`` into ``out`` (in the gzip thread, while later blocks are still
    decoded); the last block's last row. A failed write fails the file."""
    last: dict[str, t.Any] = {}
    with (
        out as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=COMPRESS_LEVEL) as gz,
    ):
        writes: list[Future[int]] = []
        try:
            for block in blocks:
                writes.append(gzipper.submit(gz.write, block.lines))
                last = block.last
                if len(writes) >= BLOCKS_IN_FLIGHT:
                    writes.pop(0).result()
        finally:
            wait(writes)  # the file closes after its writes, also after an error
        for write in writes:
            write.result()
    return last
