"""The typed path of member_analytics batch files (tap_slack_snow.records.typed_lines), no HTTP.

Whatever chunk the typed path accepts, its rows must be exactly what the row-by-row path
(the stream's post_process: date-times, the schema check with the drift policy) makes of the
same lines; whatever it cannot reproduce it must refuse (the row-by-row path then runs).
"""

from __future__ import annotations

import copy
import gzip
import io
import json
import typing as t
import zlib
from datetime import date

import msgspec
import pytest

from tap_slack_snow.records.typed_lines import (
    INFLATE_BYTES,
    LineTooLongError,
    TypedLines,
    gzip_line_chunks,
)
from tap_slack_snow.tap import TapSlackSnow
from tests.replay import load

TAP = TapSlackSnow(config={"access_token": "xoxp-typed"}, validate_config=False)
STREAM = TAP.streams["member_analytics"]
DAY = date(2020, 10, 5)
RECORDED = load("admin.analytics.getFile", "docs-member-line")[0]  # Slack's documented line


def typed(omit: t.Collection[str] = ()) -> TypedLines:
    reader = TypedLines.for_schema(
        STREAM.schema,
        name="Row",
        datetime_fields=("date_claimed",),
        group_field="date",
        omit=omit,
    )
    assert reader is not None
    return reader


def row_by_row(line: dict[str, t.Any]) -> dict[str, t.Any]:
    """What the RECORD path makes of one line (the date filled in, then post_process)."""
    row = copy.deepcopy(line)
    row.setdefault("date", DAY.isoformat())
    processed = STREAM.post_process(row, None)
    assert processed is not None
    return processed


def variant(**changes: t.Any) -> dict[str, t.Any]:
    """The recorded line with fields changed (a value of ``...`` removes the field)."""
    line = {**RECORDED, **changes}
    return {k: v for k, v in line.items() if v is not ...}


#: Lines the typed path takes: its output must equal the row-by-row path's.
TYPED = {
    "as recorded": variant(),
    "date missing": variant(date=...),
    "date_claimed null": variant(date_claimed=None),
    "date_claimed 0": variant(date_claimed=0),
    "date_claimed missing": variant(date_claimed=...),
    "a nullable field null": variant(is_guest=None, team_id=None),
    "a field missing": variant(search_count=..., email_address=...),
    "escapes and non-ASCII": variant(email_address='Zoë "Z" \\ <z@example.org>\u2028'),
}
#: Lines the typed path must leave to the row-by-row path (drift, unknown fields, keys).
REFUSED = {
    "a field Slack added": variant(new_field=1),
    "a boolean as a string": variant(is_guest="false"),
    "a boolean as 0": variant(is_active=0),
    "an integer as a float": variant(messages_posted_count=5.0),
    "an integer as a string": variant(messages_posted_count="5"),
    "an integer as true": variant(search_count=True),
    "date_claimed as a string": variant(date_claimed="1584810510"),
    "date_claimed as a float": variant(date_claimed=1584810510.5),
    "date_claimed negative": variant(date_claimed=-5),
    "date_claimed past a float's integers": variant(date_claimed=2**60),
    "user_id missing": variant(user_id=...),
    "user_id null": variant(user_id=None),
    "user_id a number": variant(user_id=12345),
    "another day": variant(date="2020-10-06"),
    "a date-time for the date": variant(date="2020-10-05T00:00:00Z"),
    "a string for an id": variant(enterprise_id=["E1"]),
}


def lines(*rows: t.Any) -> bytes:
    return b"".join(json.dumps(row).encode() + b"\n" for row in rows)


def decoded(encoded: bytes) -> list[dict[str, t.Any]]:
    return [json.loads(line) for line in encoded.splitlines()]


@pytest.mark.parametrize("case", sorted(TYPED))
def test_a_row_the_typed_path_takes_equals_the_row_by_row_row(case: str) -> None:
    line = TYPED[case]
    rows = typed().encode(lines(line), DAY)
    assert rows is not None, "the typed path refused a row it can take"
    assert rows.row_count == 1
    out = decoded(rows.lines)[0]
    expected = row_by_row(line)
    assert out == expected
    assert {k: type(v) for k, v in out.items()} == {k: type(v) for k, v in expected.items()}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_row_the_typed_path_cannot_reproduce_is_refused(case: str) -> None:
    chunk = lines(RECORDED, REFUSED[case], RECORDED)  # one odd row refuses the whole chunk
    assert typed().encode(chunk, DAY) is None


@pytest.mark.parametrize("bad", [b"[1]\n", b"not json\n", b'{"user_id": "W1"\n'])
def test_a_line_that_is_not_a_json_object_is_refused(bad: bytes) -> None:
    assert typed().encode(lines(RECORDED) + bad, DAY) is None


def test_blank_lines_and_crlf_are_read_as_the_row_by_row_path_reads_them() -> None:
    chunk = lines(RECORDED) + b"\n  \n" + json.dumps(RECORDED).encode() + b"\r\n"
    rows = typed().encode(chunk, DAY)
    assert rows is not None and rows.row_count == 2
    assert decoded(rows.lines) == [row_by_row(RECORDED)] * 2


def test_deselected_fields_are_checked_but_left_out() -> None:
    reader = typed(omit=("email_address", "date_claimed_unix"))
    rows = reader.encode(lines(RECORDED), DAY)
    assert rows is not None
    expected = row_by_row(RECORDED)
    del expected["email_address"], expected["date_claimed_unix"]
    assert decoded(rows.lines) == [expected]
    assert reader.encode(lines(variant(email_address=5)), DAY) is None  # still checked


def test_schemas_the_typed_path_cannot_check_have_no_typed_reader() -> None:
    for name in ("users", "access_logs", "team", "admin_users"):
        stream = TAP.streams[name]
        assert (
            TypedLines.for_schema(stream.schema, name="Row", datetime_fields=(), group_field="id")
            is None
        ), name


def test_gzip_line_chunks_give_every_line_once_with_its_number() -> None:
    text = b"".join(b'{"n": %d, "pad": "%s"}\n' % (n, b"x" * (n % 97)) for n in range(300_000))
    members = gzip.compress(text[:1_000_000]) + gzip.compress(text[1_000_000:])  # two members
    chunks = list(gzip_line_chunks(io.BytesIO(members)))
    assert len(chunks) > 2  # several chunks, each of whole lines
    assert b"".join(chunk for _, chunk in chunks) == text
    for first_line, chunk in chunks:
        assert chunk.endswith(b"\n")
        assert json.loads(chunk.split(b"\n", 1)[0])["n"] == first_line - 1
        assert len(chunk) <= 2 * INFLATE_BYTES


def test_gzip_line_chunks_bound_what_a_small_read_inflates_to() -> None:
    text = b"\n".join([b"0" * 1000] * 40_000) + b"\n"  # 40 MB that compress ~1000:1
    chunks = [chunk for _, chunk in gzip_line_chunks(io.BytesIO(gzip.compress(text)))]
    assert b"".join(chunks) == text
    assert max(map(len, chunks)) <= INFLATE_BYTES + 1001


def test_gzip_line_chunks_refuse_a_truncated_file() -> None:
    data = gzip.compress(lines(*[RECORDED] * 2000))
    with pytest.raises(zlib.error):
        list(gzip_line_chunks(io.BytesIO(data[: len(data) // 2])))


def test_gzip_line_chunks_keep_a_last_line_without_newline() -> None:
    chunks = list(gzip_line_chunks(io.BytesIO(gzip.compress(b'{"a": 1}\n{"a": 2}'))))
    assert [chunk for _, chunk in chunks] == [b'{"a": 1}\n', b'{"a": 2}']
    assert [first for first, _ in chunks] == [1, 2]


def test_rows_decode_to_the_schema_types() -> None:
    """The struct behind the typed path declares every schema field (none silently lost)."""
    reader = typed()
    rows = reader.encode(lines(RECORDED), DAY)
    assert rows is not None
    out = msgspec.json.decode(rows.lines.strip())
    assert set(out) == set(RECORDED) | {"date_claimed_unix"}


# --- max_analytics_line_bytes: a line is read up to the limit, never beyond -----------


def test_every_line_is_held_to_the_limit_in_a_chunk_too() -> None:
    lines = b"a\n" + b"b" * 2000 + b"\n" + b"c\n"  # the long line sits inside one chunk
    with pytest.raises(LineTooLongError) as raised:
        list(gzip_line_chunks(io.BytesIO(gzip.compress(lines)), 1024))
    assert (raised.value.line, raised.value.limit) == (2, 1024)
    chunks = gzip_line_chunks(io.BytesIO(gzip.compress(lines)), 2000)
    assert b"".join(chunk for _, chunk in chunks) == lines


def test_a_last_line_without_a_newline_is_held_to_the_limit() -> None:
    text = b"a\n" * 3 + b"z" * (3 << 20)  # no newline at all after the third line
    with pytest.raises(LineTooLongError) as raised:
        list(gzip_line_chunks(io.BytesIO(gzip.compress(text)), 1 << 20))
    assert raised.value.line == 4
