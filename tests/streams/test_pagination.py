"""Slack's two ways to page (``tap_slack_snow.streams.pagination``): short and empty pages
are followed to the end of a real stream; then the paginators on their own (no HTTP): a
cursor is followed until it is empty or absent, an empty page with a cursor is not the end,
malformed ``response_metadata`` fails naming the method, and the classic paginator leaves
every decision to its stream.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest

from tap_slack_snow.errors import MalformedPayloadError
from tap_slack_snow.streams.pagination import ClassicPagePaginator, SlackCursorPaginator
from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_emulator import WorkspaceConfig
from tests._support import oauth_config, sync


def test_short_and_empty_pages_are_followed(emulator_factory, tmp_path: Path) -> None:
    emu = emulator_factory(WorkspaceConfig(seed=3, users=95, short_pages=True))
    config = oauth_config(emu, tmp_path, page_size=10)
    result = sync(config, catalog=select_only("users"))
    assert result.exit_code == 0
    ids = [u["id"] for u in result.records["users"]]
    assert len(ids) == emu.workspace.user_count == len(set(ids))
    assert emu.calls["users.list"] > 10  # short pages mean more requests, none skipped


# --- the paginators on their own, with a stand-in for the stream (no HTTP) -----------------


class Answer:
    """Stands for a ``requests.Response``: the paginators only hand it to the stream."""

    def __init__(self, payload: t.Any) -> None:
        self.payload = payload


class CursorStream:
    """What SlackCursorPaginator asks of a stream: its method and an answer's payload."""

    slack_method = "users.list"

    def payload_of(self, response: Answer) -> t.Any:
        return response.payload


def cursor_paginator() -> SlackCursorPaginator:
    return SlackCursorPaginator(CursorStream())


def page(cursor: t.Any = None, *, metadata: t.Any = None, **payload: t.Any) -> Answer:
    """An answer with ``next_cursor`` (or the ``response_metadata`` given)."""
    if metadata is None and cursor is not None:
        metadata = {"next_cursor": cursor}
    if metadata is not None:
        payload["response_metadata"] = metadata
    return Answer({"ok": True, "members": [], **payload})


def test_the_cursor_paginator_starts_without_a_cursor() -> None:
    paginator = cursor_paginator()
    assert paginator.current_value is None
    assert not paginator.finished


def test_a_cursor_is_followed_until_it_is_empty() -> None:
    paginator = cursor_paginator()
    paginator.advance(page("dXNlcjpVMDYx", members=[{"id": "U1"}]))
    assert not paginator.finished
    assert paginator.current_value == "dXNlcjpVMDYx"
    paginator.advance(page("dXNlcjpVMDYy", members=[{"id": "U2"}]))
    assert paginator.current_value == "dXNlcjpVMDYy"
    paginator.advance(page("", members=[{"id": "U3"}]))
    assert paginator.finished
    assert paginator.count == 3


@pytest.mark.parametrize(
    "answer",
    [
        page(),  # no response_metadata at all
        page(metadata={}),  # response_metadata without next_cursor
        page(metadata={"next_cursor": None}),
        page(""),
    ],
    ids=["no-metadata", "no-cursor", "null-cursor", "empty-cursor"],
)
def test_an_absent_or_empty_cursor_ends_the_pages(answer: Answer) -> None:
    paginator = cursor_paginator()
    assert paginator.get_next(answer) is None
    paginator.advance(answer)
    assert paginator.finished


def test_an_empty_page_with_a_cursor_is_not_the_end() -> None:
    paginator = cursor_paginator()
    empty_with_more = page("bmV4dA==", members=[])
    assert paginator.continue_if_empty(empty_with_more) is True
    paginator.advance(empty_with_more)
    assert not paginator.finished
    assert paginator.current_value == "bmV4dA=="
    assert paginator.continue_if_empty(page("", members=[])) is False
    assert paginator.continue_if_empty(page(members=[])) is False


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (page(metadata=["next_cursor", "abc"]), "'response_metadata' as list"),
        (page(metadata="abc"), "'response_metadata' as str"),
        (page(metadata={"next_cursor": 42}), "non-string next_cursor"),
        (page(metadata={"next_cursor": ["abc"]}), "non-string next_cursor"),
    ],
    ids=["metadata-list", "metadata-string", "cursor-number", "cursor-list"],
)
def test_malformed_response_metadata_fails_naming_the_method(answer: Answer, says: str) -> None:
    paginator = cursor_paginator()
    with pytest.raises(MalformedPayloadError, match=r"users\.list") as raised:
        paginator.advance(answer)
    assert says in str(raised.value)


class ClassicStream:
    """What ClassicPagePaginator asks of a stream: is there more, and which page is next."""

    def __init__(self, pages: list[tuple[bool, dict[str, int] | None]]) -> None:
        self.pages = list(pages)  # per answer: (has more pages, next page)
        self.asked: list[tuple[str, Answer]] = []

    def has_more_pages(self, response: Answer) -> bool:
        self.asked.append(("has_more_pages", response))
        return self.pages[0][0]

    def next_page(self, response: Answer) -> dict[str, int] | None:
        self.asked.append(("next_page", response))
        return self.pages.pop(0)[1]


def test_the_classic_paginator_starts_at_page_one() -> None:
    paginator = ClassicPagePaginator(ClassicStream([]))
    assert paginator.current_value == {"page": 1}
    assert not paginator.finished


def test_the_classic_paginator_asks_the_stream_for_each_next_page() -> None:
    stream = ClassicStream(
        [(True, {"page": 2}), (True, {"page": 3, "before": 1700000000}), (False, None)]
    )
    paginator = ClassicPagePaginator(stream)
    first, second, third = Answer({"n": 1}), Answer({"n": 2}), Answer({"n": 3})
    paginator.advance(first)
    assert paginator.current_value == {"page": 2}
    paginator.advance(second)
    assert paginator.current_value == {"page": 3, "before": 1700000000}
    assert not paginator.finished
    paginator.advance(third)
    assert paginator.finished
    # every decision is the stream's, about the answer just read; no next page after the last
    assert stream.asked == [
        ("has_more_pages", first),
        ("next_page", first),
        ("has_more_pages", second),
        ("next_page", second),
        ("has_more_pages", third),
    ]


def test_the_classic_paginator_ends_when_the_stream_has_no_next_page() -> None:
    paginator = ClassicPagePaginator(ClassicStream([(True, None)]))
    paginator.advance(Answer({}))
    assert paginator.finished


def test_the_classic_paginator_follows_an_empty_page_only_when_the_stream_wants_more() -> None:
    more = ClassicPagePaginator(ClassicStream([(True, {"page": 2})]))
    assert more.continue_if_empty(Answer({})) is True
    done = ClassicPagePaginator(ClassicStream([(False, None)]))
    assert done.continue_if_empty(Answer({})) is False
