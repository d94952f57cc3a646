"""The user's files and settings, checked before anything runs: one clear line per mistake.

The SDK reads ``--config``, ``--state`` and ``--catalog`` with ``json.loads`` and takes what
it finds, so an empty state file, a list or a bookmark of ``"not-a-date"`` ended in a
traceback (or, for a bookmark, was written back into the emitted STATE).
Everything here raises :class:`InputError` naming the file or setting, the bad value (never
a secret) and the fix.
"""

from __future__ import annotations

import json
import logging
import typing as t
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from singer_sdk.singerlib import Catalog

from tap_slack_snow.errors import TapSlackError

#: A bookmark this far ahead of the clock is "in the future" (clock skew below it is fine).
FUTURE_SLACK = timedelta(hours=1)
DATE_TIME_EXAMPLE = "2026-01-01T00:00:00Z"


class InputError(TapSlackError):
    """A file or setting the user must fix; the message names it and says how."""


def read_json_file(kind: str, path: str | Path) -> t.Any:
    """The JSON value in ``path`` (``kind``: config, state or catalog file)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{kind} file {path} does not exist") from None
    except IsADirectoryError:
        raise InputError(f"{kind} file {path} is a directory, not a JSON file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{kind} file {path} cannot be read ({_reason(exc)})") from None
    return parse_json_text(kind, path, text)


def parse_json_text(kind: str, path: str | Path, text: str) -> t.Any:
    """Parse a file's text, with the position of a syntax error."""
    if not text.strip():
        raise InputError(f"{kind} file {path} is empty: it must hold a JSON object")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{kind} file {path} is not valid JSON ({exc.msg} at line {exc.lineno} column "
            f"{exc.colno}): fix the file, or write it again with the tool that made it"
        ) from None


def json_object(kind: str, path: str | Path, value: t.Any, example: str) -> dict[str, t.Any]:
    """``value`` when it is a JSON object, else an error saying what was found."""
    if not isinstance(value, dict):
        raise InputError(
            f"{kind} file {path} must hold a JSON object ({example}), not {_json_type(value)}"
        )
    return value


def parse_date_time(value: t.Any) -> datetime | None:
    """An ISO 8601 date-time or date as an aware datetime (UTC when no offset), else None."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(text), datetime.min.time())
        except ValueError:
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


# --- state ----------------------------------------------------------------------------------


def check_state(
    path: str | Path,
    value: t.Any,
    date_bookmarked: t.Collection[str],
    logger: logging.Logger,
    now: datetime | None = None,
) -> dict[str, t.Any]:
    """A Singer state with usable bookmarks (Meltano's wrapped form unwrapped).

    ``date_bookmarked`` names the streams whose bookmark is a date-time; their values must
    parse. A bookmark in the future is accepted with a warning.
    """
    state = json_object("state", path, value, '{"bookmarks": {...}}, or {} for a first run')
    state = _unwrap_meltano(path, state, logger)
    bookmarks = state.get("bookmarks", {})
    if not isinstance(bookmarks, dict):
        raise InputError(
            f"state file {path}: 'bookmarks' is {_json_type(bookmarks)}, it must be an object "
            "keyed by stream name; fix it, or pass {} to start from start_date"
        )
    clock = now or datetime.now(tz=timezone.utc)
    for stream, bookmark in bookmarks.items():
        if not isinstance(bookmark, dict):
            raise InputError(
                f"state file {path}: the bookmark of stream {stream} is {_json_type(bookmark)}, "
                "it must be an object; remove it to read that stream from start_date"
            )
        if stream not in date_bookmarked:
            continue
        for where, entry in _bookmark_entries(bookmark):
            if "replication_key_value" not in entry:
                continue
            raw = entry["replication_key_value"]
            when = parse_date_time(raw)
            if when is None:
                raise InputError(
                    f"state file {path}: the {stream} bookmark{where} {raw!r} is not an ISO "
                    f"8601 date-time: set it like {DATE_TIME_EXAMPLE}, or remove it to read "
                    "from start_date"
                )
            if when > clock + FUTURE_SLACK:
                logger.warning(
                    "state file %s: the %s bookmark%s %s is in the future, so the stream "
                    "reads nothing new until then: fix the bookmark, or remove it",
                    path,
                    stream,
                    where,
                    raw,
                )
    return state


def _bookmark_entries(bookmark: dict[str, t.Any]) -> t.Iterator[tuple[str, dict[str, t.Any]]]:
    yield "", bookmark
    markers = bookmark.get("progress_markers")
    if isinstance(markers, dict):
        yield " (progress marker)", markers
    partitions = bookmark.get("partitions")
    if isinstance(partitions, list):
        for index, partition in enumerate(partitions):
            if isinstance(partition, dict):
                yield f" (partition {index})", partition


def _unwrap_meltano(
    path: str | Path, state: dict[str, t.Any], logger: logging.Logger
) -> dict[str, t.Any]:
    """Meltano's stored forms: {"singer_state": S} and {"completed": {...}, "partial": {...}}."""
    if "bookmarks" in state:
        return state
    if "singer_state" in state:
        inner = state["singer_state"]
    elif isinstance(state.get("completed"), dict) and "singer_state" in state["completed"]:
        inner = dict(state["completed"]["singer_state"] or {})
        partial = state.get("partial")
        if isinstance(partial, dict) and isinstance(partial.get("singer_state"), dict):
            # Meltano merges an interrupted run's partial state over the completed one.
            merged = dict(inner.get("bookmarks") or {})
            merged.update(partial["singer_state"].get("bookmarks") or {})
            inner = {**inner, "bookmarks": merged}
    else:
        return state
    logger.info(
        "state file %s is in Meltano's wrapped form; reading the Singer state inside "
        "(singer_state)",
        path,
    )
    return json_object("state", path, inner, 'a Singer state: {"bookmarks": {...}}')


# --- catalog --------------------------------------------------------------------------------


def check_catalog(path: str | Path, value: t.Any) -> dict[str, t.Any]:
    """A Singer catalog the SDK can apply (the shape only; selection is checked later)."""
    catalog = json_object("catalog", path, value, '{"streams": [...]}')
    streams = catalog.get("streams")
    if not isinstance(streams, list):
        raise InputError(
            f"catalog file {path}: 'streams' is {_json_type(streams)}, it must be a list of "
            "stream entries; make the catalog with tap-slack-snow --discover"
        )
    for index, entry in enumerate(streams):
        problem = _catalog_entry_problem(entry)
        if problem:
            raise InputError(
                f"catalog file {path}: stream entry {index} {problem}; make the catalog "
                "with tap-slack-snow --discover"
            )
    return catalog


#: The warning when a catalog selects none of the tap's streams (%s: the stream names).
NOTHING_SELECTED = (
    "The catalog selects no stream of this tap (its streams: %s), so nothing will be synced: "
    'mark streams selected (meltano select, or "selected": true in the catalog\'s metadata)'
)


def selected_stream_ids(catalog: dict[str, t.Any], stream_ids: t.Iterable[str]) -> list[str]:
    """The ids of ``stream_ids`` a catalog (checked by :func:`check_catalog`) selects, in
    the order given, decided as the SDK decides it for a tap's streams.

    A stream the catalog does not list is not selected; a listed one is selected unless
    its stream-level metadata says otherwise (``selected``, ``selected-by-default``,
    ``inclusion``), and when it has no metadata at all.
    """
    parsed = Catalog.from_dict(catalog)
    chosen = []
    for stream_id in stream_ids:
        entry = parsed.get_stream(stream_id)
        if entry is not None and entry.metadata.resolve_selection().get((), True):
            chosen.append(stream_id)
    return chosen


def _catalog_entry_problem(entry: t.Any) -> str | None:
    if not isinstance(entry, dict):
        return f"is {_json_type(entry)}, not an object"
    if not isinstance(entry.get("tap_stream_id"), str):
        return "has no 'tap_stream_id' string"
    if "schema" in entry and not isinstance(entry["schema"], dict):
        return "has a 'schema' that is not an object"
    metadata = entry.get("metadata", [])
    if not isinstance(metadata, list) or not all(
        isinstance(item, dict)
        and isinstance(item.get("breadcrumb", []), list)
        and isinstance(item.get("metadata", {}), dict)
        for item in metadata
    ):
        return "has 'metadata' that is not a list of {breadcrumb, metadata} objects"
    for key in ("key_properties", "replication_key"):
        if key in entry and entry[key] is not None and not isinstance(entry[key], list | str):
            return f"has a '{key}' of the wrong type"
    return None


def _json_type(value: t.Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or type(exc).__name__
