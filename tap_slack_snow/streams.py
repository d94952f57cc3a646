"""Slack streams: members, team, billing plan (and, in later modules, activity)."""

from __future__ import annotations

import typing as t

from tap_slack_snow.client import MalformedPayloadError, SlackStream

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context

#: Slack's plan keys and the names Slack's pricing page uses.
PLAN_LABELS = {
    "free": "Free",
    "std": "Pro",
    "plus": "Business+",
    "enterprise": "Enterprise Grid",
    "compliance": "Enterprise Select / Compliance",
}


class UsersStream(SlackStream):
    """Every member of the workspace: people, guests, bots, invited and deactivated users."""

    name = "users"
    slack_method = "users.list"
    records_key = "members"
    primary_keys = ("id",)
    required_scopes = ("users:read",)
    max_page_size = 1000
    sends_team_id = True
    datetime_fields = ("updated",)

    def get_url_params(
        self, context: Context | None, next_page_token: str | None
    ) -> dict[str, t.Any]:
        """Ask for ``locale`` too: it is free and useful for seat analysis."""
        params = super().get_url_params(context, next_page_token)
        params["include_locale"] = "true"
        return params

    def post_process(
        self, row: dict[str, t.Any], context: Context | None = None
    ) -> dict[str, t.Any] | None:
        """Slack sends ``profile.fields`` as ``[]`` when a member has none: make it null."""
        profile = row.get("profile")
        if isinstance(profile, dict) and isinstance(profile.get("fields"), list):
            profile["fields"] = None
        return super().post_process(row, context)


class TeamStream(SlackStream):
    """The workspace (team.info): name, domains, Enterprise org it belongs to."""

    name = "team"
    slack_method = "team.info"
    records_key = "team"
    primary_keys = ("id",)
    required_scopes = ("team:read",)

    def get_url_params(
        self,
        context: Context | None,  # noqa: ARG002
        next_page_token: str | None,  # noqa: ARG002
    ) -> dict[str, t.Any]:
        """team.info names the workspace ``team`` (not ``team_id``)."""
        team_id = self.config.get("team_id")
        return {"team": team_id} if team_id else {}


class BillingStream(SlackStream):
    """The workspace's billing plan (team.billing.info): one record."""

    name = "billing"
    slack_method = "team.billing.info"
    records_key = "plan"
    primary_keys = ("team_id",)
    required_scopes = ("team.billing:read",)

    def parse_response(self, response: requests.Response) -> t.Iterable[dict[str, t.Any]]:
        """One record: the plan key, its name, and the team it belongs to."""
        payload = self.payload_of(response)
        plan = payload.get("plan")
        if plan is not None and not isinstance(plan, str):
            raise MalformedPayloadError(
                f"Slack method {self.slack_method} returned 'plan' as {type(plan).__name__}"
            )
        plan = plan or "free"  # Slack documents "" as the Free plan
        identity = self.slack_tap.identity
        record = {key: value for key, value in payload.items() if key not in {"ok", "warning"}}
        record.pop("response_metadata", None)
        record.update(
            team_id=self.config.get("team_id") or identity.team_id,
            enterprise_id=identity.enterprise_id,
            plan=plan,
            plan_label=PLAN_LABELS.get(plan, plan),
        )
        yield record
