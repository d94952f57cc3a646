"""The Singer message writer: msgspec encoding, and a flush only where order matters."""

from __future__ import annotations

import sys
import typing as t

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib import SingerMessageType
from typing_extensions import override

if t.TYPE_CHECKING:
    from singer_sdk.singerlib import Message


class SlackMessageWriter(MsgSpecWriter):
    """The SDK's msgspec writer (JSON encoding ~4x faster than the standard one).

    Two changes to how it writes: a text stdout without a byte buffer (``redirect_stdout``
    in tests) gets text, and stdout is flushed before every message but RECORD, not after
    each one: a STATE always reaches the target after the records it covers, without a
    system call per record.
    """

    @override
    def write_message(self, message: Message) -> None:
        """Write one Singer message as a line on stdout."""
        line = self.format_message(message)
        out = sys.stdout
        buffer = getattr(out, "buffer", None)
        if buffer is None:
            out.write(line.decode())
        else:
            buffer.write(line)
        if message.type != SingerMessageType.RECORD:
            out.flush()
