"""Workspace streams: members, the team, its billing plan and billable seats."""

from __future__ import annotations

import typing as t

from typing_extensions import override

from tap_slack_snow.errors import MalformedPayloadError
from tap_slack_snow.records.payloads import records_value
from tap_slack_snow.run.availability import PLAN_LABELS
from tap_slack_snow.streams.base import SlackStream
from tap_slack_snow.streams.fetch import Fetch
from tap_slack_snow.text import printable

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_slack_snow.slack.client import SlackAnswer


class UsersStream(SlackStream[Fetch]):
    """Every member of the workspace: people, guests, bots, invited and deactivated users."""

    name = "users"
    per_workspace = True
    slack_method = "users.list"
    records_key = "members"
    primary_keys = ("id",)
    required_scopes = ("users:read",)
    max_page_size = 1000
    sends_team_id = True
    datetime_fields = ("updated",)
    #: On Grid a member's id is org-wide and every workspace it belongs to lists it: the
    #: first workspace's record is kept.
    keys_repeat_across_partitions = True

    @override
    def slack_arguments(self, fetch: Fetch, next_page_token: t.Any) -> dict[str, t.Any]:
        """Ask for ``locale`` too: it is free and useful for seat analysis."""
        params = super().slack_arguments(fetch, next_page_token)
        params["include_locale"] = "true"
        return params


class TeamStream(SlackStream[Fetch]):
    """The workspace (team.info): name, domains, Enterprise org it belongs to."""

    name = "team"
    slack_method = "team.info"
    requests_per_minute = 50  # Tier 3
    records_key = "team"
    primary_keys = ("id",)
    required_scopes = ("team:read",)
    per_workspace = True

    @override
    @property
    def partitions(self) -> list[dict[str, t.Any]] | None:
        """Each workspace, then the org itself (team.info with the org's id)."""
        workspaces = super().partitions
        org_id = self.run.facts.org_id if self.run.facts.org_level else None
        if workspaces is None or not org_id:
            return workspaces
        return [*workspaces, {"team_id": org_id}]

    @override
    def slack_arguments(self, fetch: Fetch, next_page_token: t.Any) -> dict[str, t.Any]:
        """team.info names the workspace ``team`` (not ``team_id``)."""
        team_id = self.request_team_id(fetch)
        return {"team": team_id} if team_id else {}

    @override
    def post_process(
        self, row: dict[str, t.Any], context: Context | None = None
    ) -> dict[str, t.Any] | None:
        """``team_id`` is the team asked for, which is the record's own id. The org's
        answer (org-level token) is kept only when it describes the org."""
        org_id = self.run.facts.org_id
        asked = context.get("team_id") if context else None
        if asked and asked == org_id and str(row.get("id")) != org_id:
            self.logger.warning(
                "team: Slack method %s answered for the org %s with team %s; no org record",
                self.slack_method,
                org_id,
                printable(row.get("id"), 40),
            )
            return None
        row.setdefault("team_id", row.get("id"))
        return super().post_process(row, context)

    @override
    def optional_partition(self, team_id: str | None) -> bool:
        """The org's own record is a bonus: if Slack does not answer for it, say so."""
        return bool(team_id) and team_id == self.run.facts.org_id


class BillingStream(SlackStream[Fetch]):
    """The workspace's billing plan (team.billing.info): one record."""

    name = "billing"
    slack_method = "team.billing.info"
    requests_per_minute = 50  # Tier 3
    records_key = "plan"
    primary_keys = ("team_id",)
    required_scopes = ("team.billing:read",)

    @override
    def parse_answer(self, answer: SlackAnswer, fetch: Fetch) -> t.Iterable[dict[str, t.Any]]:
        """One record: the plan key, its name, and the team it belongs to. Slack documents
        ``""`` as the Free plan; no plan at all (missing or null) is unknown, stored null."""
        payload = answer.payload
        plan = payload.get("plan")
        if plan is not None and not isinstance(plan, str):
            raise MalformedPayloadError(
                f"Slack method {self.slack_method} returned 'plan' as {type(plan).__name__}"
            )
        if plan is None:
            self.logger.warning(
                "billing: Slack method %s answered without a plan; stored null (unknown)",
                self.slack_method,
            )
        elif not plan:
            plan = "free"
        envelope = {"ok", "warning", "response_metadata"}
        record = {key: value for key, value in payload.items() if key not in envelope}
        record.update(
            team_id=self.record_team_id(fetch),
            enterprise_id=self.run.facts.identity.enterprise_id,
            plan=plan,
            plan_label=PLAN_LABELS.get(plan, plan) if plan is not None else None,
        )
        yield record


class BillableInfoStream(SlackStream[Fetch]):
    """Per-member billable status under Slack's Fair Billing Policy (team.billableInfo)."""

    name = "billable_info"
    per_workspace = True
    slack_method = "team.billableInfo"
    availability_note = "admin or owner"
    records_key = "billable_info"
    primary_keys = ("team_id", "user_id")
    required_scopes = ("admin",)
    max_page_size = 1000
    sends_team_id = True

    @override
    def parse_answer(self, answer: SlackAnswer, fetch: Fetch) -> t.Iterable[dict[str, t.Any]]:
        """Slack answers a map keyed by user id: one record per user."""
        billable = records_value(answer.payload, self.slack_method, self.records_key)
        if not isinstance(billable, dict):
            raise MalformedPayloadError(
                f"Slack method {self.slack_method} returned '{self.records_key}' as "
                f"{type(billable).__name__}, expected an object keyed by user id"
            )
        team_id = self.record_team_id(fetch)
        for user_id, info in billable.items():
            if not isinstance(info, dict):
                raise MalformedPayloadError(
                    f"Slack method {self.slack_method} returned user {printable(user_id)} as "
                    f"{type(info).__name__}, expected an object"
                )
            yield {**info, "team_id": team_id, "user_id": user_id}
