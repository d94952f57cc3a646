"""Enterprise Grid: the org's members (admin_users). Member analytics: :mod:`.analytics`."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from typing_extensions import override

from tap_slack_snow.streams.base import SlackStream
from tap_slack_snow.streams.fetch import Fetch

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


@dataclass
class AdminUsersFetch(Fetch):
    """A fetch of admin.users.list: active users first, then deactivated ones."""

    active: bool = True


class AdminUsersStream(SlackStream[AdminUsersFetch]):
    """Org-wide member list of an Enterprise Grid org (admin.users.list).

    Slack returns active users by default; the stream asks for active and then deactivated
    users, so the table holds every seat the org has had.
    """

    name = "admin_users"
    slack_method = "admin.users.list"
    requests_per_minute = 100  # Tier 4
    records_key = "users"
    primary_keys = ("id",)
    required_scopes = ("admin.users:read",)
    max_page_size = 100  # Slack's maximum for this method
    sends_team_id = True
    enterprise_only = True
    availability_note = "org-level token of an Org Admin or Owner"
    datetime_fields = ("date_created", "deactivated_ts", "expiration_ts", "last_active_ts")
    http_method = "POST"

    @override
    def new_fetch(self, context: Context | None) -> AdminUsersFetch:
        team_id = context.get("team_id") if context else None
        return AdminUsersFetch(self.slack_method, context, team_id)

    @override
    def fetch_pages(self, fetch: AdminUsersFetch) -> t.Iterator[t.Any]:
        """Active users, then deactivated ones."""
        for active in (True, False):
            fetch.active = active
            yield from super().fetch_pages(fetch)

    @override
    def slack_arguments(self, fetch: AdminUsersFetch, next_page_token: t.Any) -> dict[str, t.Any]:
        """Active or deactivated users; one workspace's (``team_id``, or ``team_ids`` of
        one), else every workspace's."""
        body = super().slack_arguments(fetch, next_page_token)
        body["is_active"] = "true" if fetch.active else "false"
        team_id = self.settings.single_workspace
        if team_id:
            body["team_id"] = team_id
        else:
            body["include_deactivated_user_workspaces"] = "true"
        return body
