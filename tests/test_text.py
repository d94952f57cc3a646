"""printable(): text from Slack is one safe, bounded line."""

from __future__ import annotations

import pytest

from tap_slack_snow.text import MAX_PRINTED_CHARS, printable


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("missing_scope", "missing_scope"),
        ("a\nStream users done: 0 records", "a\\nStream users done: 0 records"),
        ("\x1b[31mred\x1b]0;title\x07", "\\x1b[31mred\\x1b]0;title\\x07"),
        ("tab\there\r", "tab\\there\\r"),
        ("line\u2028sep\u0085", "line\\u2028sep\\x85"),
        ("lone \ud800 surrogate", "lone \ufffd surrogate"),
        ("Zoë 😀 東京", "Zoë 😀 東京"),
        (429, "429"),
    ],
)
def test_control_characters_are_escaped_and_text_kept(raw: object, shown: str) -> None:
    assert printable(raw) == shown


def test_long_text_is_cut_with_a_count() -> None:
    text = printable("x" * (MAX_PRINTED_CHARS + 50))
    assert text == "x" * MAX_PRINTED_CHARS + "…(50 more)"
    assert printable("y" * 10, limit=4) == "yyyy…(6 more)"
