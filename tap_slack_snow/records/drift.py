"""The type-drift policy: records fitted to their stream's schema.

Real Slack is less tidy than its documentation (recorded answers in ``tests/corpus``): an id
arrives as a number in one entry and as a string in the next, ``[]`` stands for an empty
object, ``null`` for an empty string. Most records pass one validation against a strict copy
of the schema (:mod:`.strict`); the others get a key-set check per declared object (new
fields, ``[]`` maps) and a schema validation; only one that fails that is repaired, below.

* A scalar that converts **without loss** is converted and the run goes on: a number for a
  string field (``1234567890`` -> ``"1234567890"``), an integer-valued string or float for an
  integer field, a numeric string for a number field, ``0``/``1``/``"true"``/``"false"`` for
  a boolean. One WARNING per stream, field and pair of types per run.
* Known quirks of shape are normalised the same way: ``[]`` for an empty object becomes
  ``{}``; ``""`` in a nullable integer, number or boolean field becomes ``null``; ``null``
  where the schema allows no null becomes ``""``, ``[]`` or ``{}``.
* A value that cannot be converted without loss (an object where a string belongs, text in
  an integer field) fails the run with one line when it is in the stream's key or
  replication key: a record without its key cannot be stored or resumed. Anywhere else the
  value is set to ``null``, with a WARNING naming the field, both types and the record's key
  (the first few per field, then a count when the stream ends): one odd avatar URL must not
  cost the whole run.

Fields the schema does not declare (Slack adds fields over time) never fail a run: the record
keeps them as Slack sent them, and each one is logged once per stream and run at INFO.

Strings are made storable by any target before anything else (:meth:`DriftPolicy.fit_text`,
see :mod:`tap_slack_snow.records.strings`): a lone UTF-16 surrogate becomes U+FFFD, a NUL
character is removed (unless ``keep_nul``); one WARNING per stream, field and kind, with a
count, when the stream ends. Field names from Slack are printable in every line
(:func:`~tap_slack_snow.text.printable`).
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
import typing as t
from collections import Counter

import jsonschema_rs

from tap_slack_snow.errors import MalformedPayloadError
from tap_slack_snow.records.strict import ObjectNode, StrictSchema, object_nodes
from tap_slack_snow.records.strings import LONE_SURROGATE, NUL, fit_strings, may_hold_odd_text
from tap_slack_snow.text import printable

#: WARNING lines per stream and field for values set to null; the rest are counted.
NULLED_WARNINGS_PER_FIELD = 5
_INTEGER_TEXT = re.compile(r"-?[0-9]+")
_NUMBER_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_BOOLEAN_TEXT = {"true": True, "false": False, "1": True, "0": False}
_EMPTY_OF = {"string": "", "array": [], "object": {}}
#: The closing WARNING's words for each kind of odd text fitted.
_FITTED_TEXT = {
    LONE_SURROGATE: "lone UTF-16 surrogates (not valid Unicode); each became U+FFFD",
    NUL: "NUL characters, which were removed: PostgreSQL cannot store them "
    "(keep_nul_characters keeps them)",
}
#: What :func:`convert` answers for a value it cannot convert without loss.
NOT_CONVERTIBLE = object()


class UnconvertibleValueError(MalformedPayloadError):
    """A key or replication-key value that no conversion can make fit the schema."""


def json_type(value: t.Any) -> str:
    """The JSON Schema type name of a decoded JSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def convert(value: t.Any, types: set[str]) -> t.Any:
    """``value`` as one of the schema's ``types`` without loss, else ``NOT_CONVERTIBLE``."""
    kind = json_type(value)
    if kind in {"integer", "number"} and "string" in types:
        return json.dumps(value)
    if kind == "number" and "integer" in types and value.is_integer():
        return int(value)
    if kind == "string":
        text = value.strip()
        if text == "" and "null" in types and types & {"integer", "number", "boolean"}:
            return None
        if "integer" in types and _INTEGER_TEXT.fullmatch(text):
            return int(text)
        if "number" in types and _NUMBER_TEXT.fullmatch(text):
            if _INTEGER_TEXT.fullmatch(text):
                return int(text)
            if math.isfinite(float(text)):
                return float(text)
        if "boolean" in types and text.lower() in _BOOLEAN_TEXT:
            return _BOOLEAN_TEXT[text.lower()]
    if kind == "integer" and "boolean" in types and value in (0, 1):
        return bool(value)
    if kind == "array" and not value and "object" in types:
        return {}
    if kind == "null":
        for name, empty in _EMPTY_OF.items():
            if name in types:
                return type(empty)()
    return NOT_CONVERTIBLE


def _types_at(schema: dict[str, t.Any], path: t.Sequence[str | int]) -> set[str]:
    """The ``type`` the schema declares at an instance path (empty when unknown)."""
    node: t.Any = schema
    for part in path:
        if not isinstance(node, dict):
            return set()
        if isinstance(part, int):
            node = node.get("items")
        else:
            properties = node.get("properties") or {}
            node = properties.get(part, node.get("additionalProperties"))
    if not isinstance(node, dict):
        return set()
    declared = node.get("type", [])
    return {declared} if isinstance(declared, str) else set(declared)


def field_name(path: t.Sequence[str | int]) -> str:
    """``profile.fields.Xf01.value``; list positions as ``[]`` so one field logs once (the
    names come from Slack: a line shows them :func:`~tap_slack_snow.text.printable`)."""
    return ".".join("[]" if isinstance(part, int) else str(part) for part in path)


class DriftPolicy:
    """Checks one stream's records against its schema and applies the policy on failure."""

    def __init__(
        self,
        *,
        stream: str,
        method: str,
        schema: dict[str, t.Any],
        key_fields: t.Collection[str],
        logger: logging.Logger,
        keep_nul: bool = False,
    ) -> None:
        """``key_fields``: the primary key and replication key (a drift there fails);
        ``keep_nul``: NUL characters stay in strings (``keep_nul_characters``)."""
        self.stream = stream
        self.method = method
        self.schema = schema
        self.key_fields = frozenset(key_fields)
        self.logger = logger
        self.validator = jsonschema_rs.validator_for(schema, validate_formats=True)
        self._warned: set[tuple[str, str, str]] = set()
        self.nulled: Counter[str] = Counter()
        self._nodes = object_nodes(schema)
        self.strict = StrictSchema(schema, self._nodes)
        self.undeclared: set[str] = set()
        #: Entries the stream could not use as sent, by what was done with them.
        self.noted: Counter[str] = Counter()
        self.keep_nul = keep_nul
        #: Values fitted by :meth:`fit_text`, per (field, kind of odd text).
        self.fitted_text: Counter[tuple[str, str]] = Counter()
        # a stream's worker fits scalars (parse_response) while the main thread checks its
        # records (post_process): the once-only bookkeeping is shared
        self._lock = threading.Lock()

    def check(self, record: dict[str, t.Any]) -> dict[str, t.Any]:
        """The record, fitted to the schema; raises UnconvertibleValueError when it cannot be."""
        if self.strict.fits(record):
            for path in self.strict.empty_maps(record):
                self._warn_once(list(path), [], {})
            return record
        self._scan(record)
        if self.validator.is_valid(record):
            return record
        # Each pass fixes every error it sees; fixing a parent can reveal errors below it.
        for _ in range(8):
            errors = list(self.validator.iter_errors(record))
            if not errors:
                return record
            for error in errors:
                self._fix(record, error)
        self._fail(record, next(iter(self.validator.iter_errors(record))))
        raise AssertionError("unreachable")  # pragma: no cover

    def fit_scalars(self, entry: dict[str, t.Any]) -> dict[str, t.Any]:
        """Convert top-level values to their declared type where that loses nothing.

        For a key derived from the entry (integration_logs' hash): computed after this, the
        key does not change when Slack switches a field between number and string.
        """
        properties = self.schema.get("properties", {})
        for name, value in entry.items():
            declared = properties.get(name, {}).get("type")
            if declared is None:
                continue
            types = {declared} if isinstance(declared, str) else set(declared)
            kind = json_type(value)
            if kind in types or (kind == "integer" and "number" in types):
                continue
            fixed = convert(value, types)
            if fixed is not NOT_CONVERTIBLE:
                entry[name] = fixed
                self._warn_once([name], value, fixed)
        return entry

    def fit_text(
        self, records: t.Iterable[dict[str, t.Any]], raw: bytes
    ) -> t.Iterable[dict[str, t.Any]]:
        """``records`` (decoded from the JSON text ``raw``) with their strings storable by
        any target; a walk of the records only when ``raw`` may hold odd text."""
        if not may_hold_odd_text(raw):
            return records
        return (
            fit_strings(record, keep_nul=self.keep_nul, note=self._note_text) for record in records
        )

    def _note_text(self, path: list[str | int], kind: str) -> None:
        with self._lock:
            self.fitted_text[field_name(path), kind] += 1

    def _scan(self, record: dict[str, t.Any]) -> None:
        """Note undeclared fields and fix ``[]`` maps before the check (cheap, per record)."""
        for node in self._nodes:
            value: t.Any = record
            for part in node.path:
                value = value.get(part)
                if not isinstance(value, dict):
                    break
            else:
                if not node.names.issuperset(value):
                    self._note_undeclared(node, value)
                for name in node.maps:
                    if value.get(name) == []:
                        value[name] = {}
                        self._warn_once([*node.path, name], [], {})

    def _note_undeclared(self, node: ObjectNode, value: dict[str, t.Any]) -> None:
        prefix = "".join(f"{part}." for part in node.path)
        for name in sorted(value.keys() - node.names):
            with self._lock:
                if prefix + name in self.undeclared:
                    continue
                self.undeclared.add(prefix + name)
                self.strict.note(node.path, name)
                self.logger.info(
                    "%s: Slack sent field %s, which the stream's schema does not declare; "
                    "the record keeps it as sent (logged once per run)",
                    self.stream,
                    printable(prefix + name),
                )

    def _fix(self, record: dict[str, t.Any], error: jsonschema_rs.ValidationError) -> None:
        path = list(error.instance_path)
        if not path:
            self._fail(record, error)
        parent = _resolve(record, path[:-1])
        leaf = path[-1]
        if parent is None or (isinstance(leaf, int) != isinstance(parent, list)):
            return  # already replaced by an earlier fix of this pass
        try:
            value = parent[leaf]
        except (KeyError, IndexError):
            return
        types = _types_at(self.schema, path)
        if value is None and path[0] in self.key_fields:
            self._fail(record, error)  # a key cannot be made up
        if isinstance(error.kind, jsonschema_rs.ValidationErrorKind.Type):
            fixed = convert(value, types)
            if fixed is not NOT_CONVERTIBLE:
                parent[leaf] = fixed
                self._warn_once(path, value, fixed)
                return
        if path[0] in self.key_fields or "null" not in types:
            self._fail(record, error)
        parent[leaf] = None
        self._warn_nulled(record, path, value, types)

    def _warn_once(self, path: list[str | int], raw: t.Any, fixed: t.Any) -> None:
        name = field_name(path)
        seen = (name, json_type(raw), json_type(fixed))
        with self._lock:
            if seen in self._warned:
                return
            self._warned.add(seen)
        self.logger.warning(
            "%s: Slack sent %s as %s where the schema has %s; converted without loss "
            "(logged once per field and run)",
            self.stream,
            printable(name),
            seen[1],
            seen[2],
        )

    def _warn_nulled(
        self, record: dict[str, t.Any], path: list[str | int], raw: t.Any, types: set[str]
    ) -> None:
        name = field_name(path)
        with self._lock:
            self.nulled[name] += 1
            if self.nulled[name] > NULLED_WARNINGS_PER_FIELD:
                return
        self.logger.warning(
            "%s: Slack sent %s as %s where the schema has %s, which cannot be converted "
            "without loss; stored null for the record with %s",
            self.stream,
            printable(name),
            json_type(raw),
            "/".join(sorted(types - {"null"})) or "another type",
            self._key_text(record),
        )

    def note(self, what: str, detail: str) -> None:
        """An entry the stream could not use as Slack sent it: ``what`` says what and what
        the tap did (e.g. "date_last is not a time; entry dropped"), ``detail`` names the
        entry. A WARNING for the first few of each kind, then a count when the stream ends."""
        with self._lock:
            self.noted[what] += 1
            if self.noted[what] > NULLED_WARNINGS_PER_FIELD:
                return
        self.logger.warning("%s: %s (%s)", self.stream, what, detail)

    def log_summary(self) -> None:
        """One line per field whose values were set to null or had odd text fitted, and per
        kind of entry noted (call when the stream ends)."""
        for name, count in sorted(self.nulled.items()):
            self.logger.warning(
                "%s: %d value(s) of %s could not be converted and were stored as null",
                self.stream,
                count,
                printable(name),
            )
        for (name, kind), count in sorted(self.fitted_text.items()):
            self.logger.warning(
                "%s: %d value(s) of %s held %s",
                self.stream,
                count,
                printable(name),
                _FITTED_TEXT[kind],
            )
        for what, count in sorted(self.noted.items()):
            self.logger.warning("%s: %d in all: %s", self.stream, count, what)

    def _key_text(self, record: dict[str, t.Any]) -> str:
        keys = sorted(self.key_fields & set(record))
        return ", ".join(f"{key}={printable(repr(record[key]))}" for key in keys) or "no key"

    def _fail(self, record: dict[str, t.Any], error: jsonschema_rs.ValidationError) -> t.NoReturn:
        del record
        where = printable("/".join(str(part) for part in error.instance_path)) or "record"
        detail = printable(error.message)
        raise UnconvertibleValueError(
            f"Slack method {self.method} returned a {self.stream} record that does not "
            f"match the stream's schema at '{where}': {detail}"
        ) from None


def _resolve(record: t.Any, path: t.Sequence[str | int]) -> t.Any:
    node = record
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node if isinstance(node, dict | list) else None
