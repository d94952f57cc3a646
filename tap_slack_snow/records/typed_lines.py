"""A day file's JSON Lines in chunks, typed against the stream's schema in one C call each.

A large org's analytics day is 500,000 rows and Slack hands out a day every 3 s (6 µs a
row). Row by row, Python's own work (a dict per row, the schema check, the date-time fields,
the encoding) costs more than that. So the BATCH path reads a day in chunks of whole lines
and decodes each chunk with msgspec straight into a struct built from the stream's JSON
Schema: msgspec checks every value's type while it decodes, which is the schema check for a
flat schema of scalars, and encodes the structs back without a dict in between.

Only a chunk whose every row the schema accepts as sent (no undeclared field, no value of
another type, the key present, no NUL character or lone surrogate: see
:mod:`tap_slack_snow.records.strings`) takes this path, and its output is what the row-by-row path
(``post_process``: date-times, the schema check with the drift policy) makes of the same
rows; any other chunk goes row by row, so the drift policy's conversions and warnings are
unchanged.
"""

from __future__ import annotations

import datetime
import operator
import typing as t
import zlib

import msgspec
from msgspec import UNSET, UnsetType

from tap_slack_snow.records.unix_times import int_to_iso

#: JSON Schema scalar types and the Python types msgspec checks them with.
_SCALARS: dict[str, t.Any] = {
    "string": str,
    "boolean": bool,
    "integer": int,
    "null": type(None),
}
#: Compressed bytes read at a time.
READ_BYTES = 1 << 16
#: Bytes of rows per chunk at most: 1 MiB, about 1,600 analytics rows (more would only
#: hold more memory: a chunk's cost is its rows').
INFLATE_BYTES = 1 << 20
#: A NUL character in JSON text (msgspec decodes it; a lone surrogate it refuses).
_NUL_ESCAPE = b"\\u0000"
#: Integers a float holds exactly (``add_datetimes`` keeps ``int(float(raw))``).
_EXACT_INTEGERS = 1 << 53


class EncodedRows(t.NamedTuple):
    """A chunk's rows, encoded as JSON Lines."""

    lines: bytes
    row_count: int


def _inflated(file: t.IO[bytes]) -> t.Iterator[bytes]:
    """The gzip file's content (every member, as the ``gzip`` module reads), in pieces of
    at most :data:`INFLATE_BYTES` (a small chunk can inflate to a great many bytes)."""
    inflate = zlib.decompressobj(wbits=31)
    while data := file.read(READ_BYTES):
        while data:
            if inflate.eof:  # the next gzip member
                inflate = zlib.decompressobj(wbits=31)
            yield inflate.decompress(data, INFLATE_BYTES)
            data = inflate.unused_data if inflate.eof else inflate.unconsumed_tail
    if not inflate.eof:
        raise zlib.error("the gzip stream ends early")


class LineTooLongError(Exception):
    """A line longer than the limit: its number and the limit (in bytes)."""

    def __init__(self, line: int, limit: int) -> None:
        """Keep the line's number and the limit."""
        super().__init__(f"line {line} is longer than {limit} bytes")
        self.line = line
        self.limit = limit


def gzip_line_chunks(
    file: t.IO[bytes], max_line_bytes: int | None = None
) -> t.Iterator[tuple[int, bytes]]:
    """The gzip file's lines in chunks of whole lines (about :data:`INFLATE_BYTES` each),
    each with the number of its first line.

    A line longer than ``max_line_bytes`` raises :class:`LineTooLongError` as soon as that
    many of its bytes are read, so memory stays within about ``max_line_bytes`` plus
    :data:`INFLATE_BYTES` whatever the line's length.
    """
    line = 1
    rest = b""
    for piece in _inflated(file):
        text = rest + piece
        cut = text.rfind(b"\n") + 1
        chunk, rest = text[:cut], text[cut:]
        if max_line_bytes is not None and len(text) > max_line_bytes:
            _check_lines(chunk, line, max_line_bytes)
        if chunk:
            yield line, chunk
            line += chunk.count(b"\n")
        if max_line_bytes is not None and len(rest) > max_line_bytes:
            raise LineTooLongError(line, max_line_bytes)
    if rest:
        yield line, rest


def _check_lines(chunk: bytes, first_line: int, max_line_bytes: int) -> None:
    """Raise :class:`LineTooLongError` for the first line of ``chunk`` above the limit."""
    for number, text in enumerate(chunk.split(b"\n"), start=first_line):
        if len(text) > max_line_bytes:
            raise LineTooLongError(number, max_line_bytes)


class TypedLines:
    """Decodes, fits and encodes chunks of one stream's rows (see the module docstring).

    ``datetime_fields`` get the treatment of
    :func:`~tap_slack_snow.records.unix_times.add_datetimes` (an integer Unix time becomes a
    date-time, kept as ``<field>_unix``); ``group_field``
    is filled in where a row lacks it and must equal the chunk's value where it has it.
    """

    def __init__(
        self,
        row_type: type[msgspec.Struct],
        *,
        datetime_fields: t.Sequence[str],
        group_field: str,
        omit: t.Collection[str],
    ) -> None:
        """Use :meth:`for_schema`."""
        self._decode_lines = msgspec.json.Decoder(row_type).decode_lines
        self._encode_lines = msgspec.json.Encoder().encode_lines
        self._group_of = operator.attrgetter(group_field)
        self._datetimes = [(name, f"{name}_unix") for name in datetime_fields]
        self._group_field = group_field
        self._omit = list(omit)

    @classmethod
    def for_schema(
        cls,
        schema: dict[str, t.Any],
        *,
        name: str,
        datetime_fields: t.Sequence[str],
        group_field: str,
        omit: t.Collection[str] = (),
    ) -> TypedLines | None:
        """The typed reader of a flat schema of scalars; None for any other schema.

        ``omit``: fields checked but left out of the output (the catalog deselects them).

        A field the schema does not require may be absent (``UNSET``, so it stays absent in
        the output, as it does in a record); a ``date`` string is decoded as a date (its
        format checked); a date-time field holds Slack's integer Unix time on the way in and
        the date-time on the way out.
        """
        required = set(schema.get("required", ())) - {group_field}
        fields: list[tuple[str, t.Any] | tuple[str, t.Any, t.Any]] = []
        for field, spec in schema.get("properties", {}).items():
            declared = spec.get("type")
            kinds = [declared] if isinstance(declared, str) else list(declared or [])
            if not kinds or any(kind not in _SCALARS for kind in kinds):
                return None  # objects, arrays, numbers or untyped fields: row by row
            types = [_SCALARS[kind] for kind in kinds]
            if spec.get("format") == "date":
                types = [datetime.date if kind is str else kind for kind in types]
            elif spec.get("format"):
                if field not in datetime_fields:
                    return None  # a format msgspec would not check
                types = [int, *types]
            annotation: t.Any = types[0]
            for kind in types[1:]:
                annotation = annotation | kind
            if field in required:  # msgspec refuses a row without it
                fields.append((field, annotation))
            else:
                fields.append((field, annotation | UnsetType, UNSET))
        if not fields:
            return None
        # gc=False: rows of scalars hold no reference cycles, so the collector can skip them
        row_type = msgspec.defstruct(
            name, fields, kw_only=True, forbid_unknown_fields=True, gc=False
        )
        return cls(
            row_type,
            datetime_fields=datetime_fields,
            group_field=group_field,
            omit=omit,
        )

    def encode(self, chunk: bytes, group: t.Any) -> EncodedRows | None:
        """The chunk's rows fitted and encoded, or None when a row needs the row-by-row path
        (it does not match the schema as sent, lacks a key or is in another group)."""
        if b"\\" in chunk and _NUL_ESCAPE in chunk:  # the drift policy removes it, row by row
            return None
        try:  # types, unknown fields, required fields and lone surrogates are checked here
            rows = self._decode_lines(chunk)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return None
        groups = set(map(self._group_of, rows))
        if groups != {group}:
            if not groups <= {group, UNSET}:
                return None
            for row in rows:
                if getattr(row, self._group_field) is UNSET:
                    setattr(row, self._group_field, group)
        for name, unix_name in self._datetimes:
            for row in rows:
                raw = getattr(row, name)
                if raw is UNSET:
                    continue
                if raw is None:
                    setattr(row, unix_name, None)
                elif raw.__class__ is not int or not 0 <= raw <= _EXACT_INTEGERS:
                    return None  # a string or float, or a float would round it: row by row
                else:  # what add_datetimes makes of an integer
                    setattr(row, unix_name, raw)
                    setattr(row, name, int_to_iso(raw))
        for name in self._omit:
            for row in rows:
                setattr(row, name, UNSET)
        return EncodedRows(self._encode_lines(rows), len(rows))
