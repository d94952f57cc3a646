"""scim_users: who holds each seat, with the HR attributes Slack's Web API does not have.

``GET {scim_url}/Users`` (Slack's SCIM v2 API, Business+ and Enterprise Grid) lists every
user with ``meta.created`` and the enterprise extension an identity provider fills
(department, cost centre, manager...). SCIM is not the Web API: it pages by ``startIndex``
(1-based) and ``count`` (at most 1,000), ends at ``totalResults``, and says what went wrong
with the HTTP status (:mod:`tap_slack_snow.slack.scim`). Its requests still go through the
run's one client: the no-redirect session, the one retry policy, the bound token.

On Enterprise Grid an org-level token reads the whole org's roster in one read: the stream
has no per-workspace partitions.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

import requests
from singer_sdk.pagination import BaseAPIPaginator
from typing_extensions import override

from tap_slack_snow.errors import MalformedPayloadError
from tap_slack_snow.records.scim_users import scim_user_record
from tap_slack_snow.slack.client import SlackAnswer
from tap_slack_snow.slack.scim import read_scim_response
from tap_slack_snow.streams.base import SlackStream
from tap_slack_snow.streams.fetch import Fetch

if t.TYPE_CHECKING:
    import logging

    from singer_sdk.helpers.types import Context

#: SCIM's largest page (Slack's ``count`` maximum).
SCIM_MAX_COUNT = 1000


@dataclass
class ScimFetch(Fetch):
    """A read of the SCIM roster: the latest ``totalResults``, and the ids read so far."""

    total_results: int | None = None
    seen: set[str] = field(default_factory=set, repr=False)

    @override
    def payload_of(self, response: requests.Response) -> dict[str, t.Any]:
        """The parsed JSON of ``response`` (the last answer's, parsed once)."""
        if self.answer is not None and self.answer.response is response:
            return self.answer.payload
        return read_scim_response(response, self.slack_method)


def resources(payload: dict[str, t.Any], what: str) -> list[t.Any]:
    """The page's users (``Resources``; SCIM may leave it out of an empty page)."""
    users = payload.get("Resources")
    if users is None:
        return []
    if not isinstance(users, list):
        raise MalformedPayloadError(
            f"{what} returned 'Resources' as {type(users).__name__}, expected a list"
        )
    return users


def total_results(payload: dict[str, t.Any], what: str) -> int:
    """``totalResults``: how many users the roster has now (it may change while read)."""
    total = payload.get("totalResults")
    if isinstance(total, bool) or not isinstance(total, int) or total < 0:
        raise MalformedPayloadError(
            f"{what} returned 'totalResults' as {total!r:.40}, expected a whole number"
        )
    return total


class ScimPaginator(BaseAPIPaginator[int]):
    """``startIndex`` paging: the next index is this one plus the users this page held, up
    to the latest ``totalResults``.

    Every loop is bounded: an empty page ends the read (before ``totalResults`` with a
    WARNING: the index would not move), a page of users all read already ends it with one
    line, and ``totalResults`` is read again from every page (a roster that grows is read to
    its new end, one that shrinks ends sooner).
    """

    def __init__(self, fetch: ScimFetch, logger: logging.Logger) -> None:
        """Start at index 1 (SCIM counts from one)."""
        super().__init__(1)
        self._fetch = fetch
        self._logger = logger

    def _page(self, response: requests.Response) -> tuple[list[t.Any], int]:
        payload = self._fetch.payload_of(response)
        what = self._fetch.slack_method
        total = total_results(payload, what)
        self._fetch.total_results = total
        return resources(payload, what), total

    @override
    def get_next(self, response: requests.Response) -> int | None:
        """The next ``startIndex``, or None at the end."""
        users, total = self._page(response)
        if not users:
            return None
        ids = {user.get("id") for user in users if isinstance(user, dict)}
        seen = self._fetch.seen
        if ids and ids <= seen:
            raise MalformedPayloadError(
                f"{self._fetch.slack_method} answered startIndex {self.current_value} with "
                f"only users it had already sent (after {len(seen)} users): stopping instead "
                "of paging forever; run the sync again later"
            )
        seen.update(user_id for user_id in ids if isinstance(user_id, str))
        following = self.current_value + len(users)
        return following if following <= total else None

    @override
    def continue_if_empty(self, response: requests.Response) -> bool:
        """An empty page is the end (its index would not move): before ``totalResults``,
        said in a WARNING."""
        _, total = self._page(response)
        if self.current_value <= total:
            self._logger.warning(
                "%s answered no users at startIndex %d while totalResults is %d: the read "
                "ends here with %d users (the roster changed while it was read; the next "
                "sync reads it whole)",
                self._fetch.slack_method,
                self.current_value,
                total,
                self.current_value - 1,
            )
        return False


class ScimUsersStream(SlackStream[ScimFetch]):
    """Every SCIM user (Slack's SCIM v2 ``/Users``): one record each, HR attributes as
    plain columns (:mod:`tap_slack_snow.records.scim_users`)."""

    name = "scim_users"
    slack_method = "SCIM GET /Users"
    records_key = "Resources"
    primary_keys = ("id",)
    required_scopes = ("admin",)
    max_page_size = SCIM_MAX_COUNT
    availability_note = (
        "Business+ or Enterprise; a Workspace Owner or Admin, on Grid an org-level token "
        "of an Org Owner"
    )

    @override
    @property
    def url_base(self) -> str:
        """``scim_url`` setting, e.g. https://api.slack.com/scim/v2."""
        return self.settings.scim_base

    @override
    @property
    def path(self) -> str:  # type: ignore[override]
        """SCIM's users resource."""
        return "/Users"

    @override
    def new_fetch(self, context: Context | None) -> ScimFetch:
        return ScimFetch(self.slack_method, context)

    @override
    def new_paginator(self, fetch: ScimFetch) -> BaseAPIPaginator[t.Any] | None:
        return ScimPaginator(fetch, self.logger)

    @override
    def slack_arguments(self, fetch: ScimFetch, next_page_token: t.Any) -> dict[str, t.Any]:
        """``startIndex`` and ``count``: the largest page SCIM gives (``page_size`` lowers it)."""
        return {"startIndex": int(next_page_token or 1), "count": self.page_size}

    @override
    def ask(self, fetch: ScimFetch, next_page_token: t.Any) -> SlackAnswer:
        """One SCIM request through the run's client (to ``scim_url``'s host only), its
        answer read by the error table's SCIM rows."""

        def read(response: requests.Response, sent_at: float) -> SlackAnswer:
            self._write_request_duration_log(self.path, response, fetch.context, None)
            return SlackAnswer(read_scim_response(response, self.slack_method), response, sent_at)

        return self.run.client.send(
            "Users",
            read,
            http_method="GET",
            params=self.slack_arguments(fetch, next_page_token),
            stats=self.call_stats,
            label=self.slack_method,
            scim=True,
        )

    @override
    def parse_answer(self, answer: SlackAnswer, fetch: ScimFetch) -> t.Iterable[dict[str, t.Any]]:
        """One record per SCIM user of the page (its ``totalResults`` kept for the progress
        lines)."""
        fetch.total_results = total_results(answer.payload, self.slack_method)
        for user in resources(answer.payload, self.slack_method):
            yield scim_user_record(user, self.slack_method)

    @override
    def fetch_done(self, fetch: ScimFetch) -> float | None:
        """The share read: users so far over the latest ``totalResults``."""
        total = fetch.total_results
        if total:
            return min(0.99, self.progress.records / total)
        return super().fetch_done(fetch)
