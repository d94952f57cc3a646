"""Text from Slack made safe to print: one line, no terminal control, a bounded length.

An error code, a scope name, a member's or workspace's name, a ``Location`` header: anything
a hostile or broken answer sends can hold newlines (a forged log line: "Stream users done"),
ANSI escapes (a recoloured or retitled terminal) or megabytes. Every such value goes through
:func:`printable` before it reaches a log line, an error or the set-up CLI's output.
"""

from __future__ import annotations

import typing as t

#: The longest piece of Slack's text a line shows (the rest is cut, with a mark).
MAX_PRINTED_CHARS = 200

#: Control characters (C0, DEL, C1) and the Unicode line and paragraph separators, by code.
_CONTROL = {
    **{code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0))},
    0x09: "\\t",
    0x0A: "\\n",
    0x0D: "\\r",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def printable(value: t.Any, limit: int = MAX_PRINTED_CHARS) -> str:
    """``value`` as text for one line: control characters escaped (``\\n``, ``\\x1b``),
    lone surrogates replaced, at most ``limit`` characters (then ``…(N more)``)."""
    text = value if isinstance(value, str) else str(value)
    cut = len(text) - limit
    if cut > 0:
        text = text[:limit]
    text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    text = text.translate(_CONTROL)
    return f"{text}…({cut} more)" if cut > 0 else text
