"""Strings every target can store: lone surrogates replaced, NUL characters removed.

Two things are valid in a JSON string and still break a run or a load:

* a lone UTF-16 surrogate (``"\\ud800"`` without its pair): Python decodes it, but it has no
  UTF-8 form, so writing the record fails (``UnicodeEncodeError``). It is replaced by U+FFFD,
  the replacement character: the text was not valid Unicode to begin with.
* a NUL character (``"\\u0000"``): valid Unicode and UTF-8, but PostgreSQL's ``text`` and
  ``jsonb`` refuse it, so target-postgres fails the whole load. It is removed, unless the
  ``keep_nul_characters`` setting keeps it for a target that stores it.

Both can only come from an escape in the JSON text (``\\u0000``, a ``\\udXXX`` outside a
pair) or, for a surrogate, the raw bytes ``ED A0``-``ED BF`` (which ``json.loads`` decodes
with ``surrogatepass``). So the text an answer or a file chunk was decoded from is scanned
once (:func:`may_hold_odd_text`: a ``memchr`` for a backslash, then a C scan of the escapes
where there are any: 1-1.5 µs a member on a page of 1000 whose URLs Slack writes as
``\\/``) and only when it shows one are its records walked (:func:`fit_strings`); every other
record costs nothing more.
"""

from __future__ import annotations

import re
import typing as t

#: ``\u0000``, or a surrogate escape with its low half when it has one (a pair is 12 bytes,
#: a NUL or a lone surrogate 6); starts with a literal, so the scan is a C search.
_ESCAPES = re.compile(
    rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2}(?:\\u[dD][c-fC-F][0-9a-fA-F]{2})?)"
)
#: A surrogate encoded as (invalid) UTF-8 bytes.
_RAW_SURROGATE = re.compile(rb"\xed[\xa0-\xbf]")
#: In a decoded str a pair is one code point, so any surrogate left is a lone one.
_SURROGATE = re.compile("[\ud800-\udfff]")
#: What a lone surrogate becomes.
REPLACEMENT = "\ufffd"

#: The two kinds of odd text, as :func:`fit_strings` reports them.
LONE_SURROGATE = "lone surrogate"
NUL = "NUL"

Path = list[str | int]
#: ``note(path, kind)``: a value (or key) at ``path`` held ``kind`` and was fitted.
Note = t.Callable[[Path, str], None]


def may_hold_odd_text(raw: bytes) -> bool:
    """Whether JSON text may decode to a string with a NUL or a lone surrogate (False: it
    certainly does not; True also for the rare text that only looks so, e.g. ``\\\\u0000``)."""
    if b"\\" in raw:  # memchr: text without any escape costs next to nothing
        for match in _ESCAPES.finditer(raw):
            if match.end() - match.start() == 6:
                return True
    return b"\xed" in raw and _RAW_SURROGATE.search(raw) is not None


def fit_text(text: str, keep_nul: bool) -> tuple[str, list[str]]:
    """``text`` storable by any target, and the kinds of odd text it held."""
    kinds = []
    if _SURROGATE.search(text):
        text = _SURROGATE.sub(REPLACEMENT, text)
        kinds.append(LONE_SURROGATE)
    if not keep_nul and "\x00" in text:
        text = text.replace("\x00", "")
        kinds.append(NUL)
    return text, kinds


def fit_strings(value: t.Any, *, keep_nul: bool, note: Note, path: Path | None = None) -> t.Any:
    """``value`` with every string (object keys too) fitted in place; ``note`` is told each
    one that changed. Returns the value (a string is returned fitted)."""
    path = path or []
    if isinstance(value, str):
        text, kinds = fit_text(value, keep_nul)
        for kind in kinds:
            note(path, kind)
        return text
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, str | list | dict):
                value[index] = fit_strings(item, keep_nul=keep_nul, note=note, path=[*path, index])
        return value
    if isinstance(value, dict):
        for key in list(value):
            item = value[key]
            name = key
            if isinstance(key, str):
                name, kinds = fit_text(key, keep_nul)
                for kind in kinds:
                    note([*path, name], kind)
            if isinstance(item, str | list | dict):
                item = fit_strings(item, keep_nul=keep_nul, note=note, path=[*path, name])
            if name != key:
                del value[key]
                value.setdefault(name, item)  # a clash with an existing key keeps that one
            else:
                value[key] = item
    return value
