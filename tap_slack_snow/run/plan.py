"""The run's plan: the lines logged when a run starts, and the scope report.

The report is one table for the run's log and for ``tap-slack-snow-auth check``; each row
carries its typed :class:`~tap_slack_snow.run.availability.Availability`, so the CLI never
reads the outcome text.
"""

from __future__ import annotations

import typing as t

from tap_slack_snow.run.availability import (
    FREE_PLAN_REFUSALS,
    PLAN_LABELS,
    PLANS_WITH,
    Availability,
    StreamTraits,
    Verdict,
)
from tap_slack_snow.slack.errors import StreamUnavailableError, rule_for
from tap_slack_snow.text import printable

if t.TYPE_CHECKING:
    import logging

    from tap_slack_snow.run.availability import Availabilities
    from tap_slack_snow.run.facts import RunFacts
    from tap_slack_snow.run.workspaces import OrgWorkspaces
    from tap_slack_snow.settings import Settings
    from tap_slack_snow.slack.client import SlackClient

SCOPE_REPORT_HEADER = ("stream", "needs", "granted", "what will happen")


class ScopeRow(t.NamedTuple):
    """One stream's row of the scope report."""

    stream: str
    needs: str
    granted: str
    outcome: str
    availability: Availability


class RunPlan:
    """Builds the scope report and logs the run's plan (settings, facts, workspaces)."""

    def __init__(
        self,
        *,
        settings: Settings,
        facts: RunFacts,
        availabilities: Availabilities,
        workspaces: t.Callable[[], OrgWorkspaces],
        client: t.Callable[[], SlackClient],
        logger: logging.Logger,
        selected: t.Callable[[], t.Sequence[StreamTraits]] = tuple,
    ) -> None:
        """Wire the plan; nothing is read until it is asked for.

        ``selected`` lists the run's selected streams: only a per-workspace one makes the
        plan list an org's workspaces (auth.teams.list).
        """
        self.settings = settings
        self.facts = facts
        self.availabilities = availabilities
        self._workspaces = workspaces
        self._client = client
        self._selected = selected
        self.logger = logger

    def scope_report(
        self, streams: t.Iterable[StreamTraits], plan: str | None = None
    ) -> list[ScopeRow]:
        """A row of (stream, needed scopes, granted, what will happen) per stream.

        ``plan`` is the team.billing.info key when known (tap-slack-snow-auth check reads
        it); it adds what Slack refuses on that plan (e.g. access_logs on Free).
        """
        policy = self.settings.on_unavailable
        granted = self.facts.identity.scopes
        rows = []
        for stream in streams:
            needs = " or ".join(stream.required_scopes) or "-"
            has = (
                "unknown"
                if not granted
                else ("yes" if not self.availabilities.missing_scope(stream) else "no")
            )
            availability = self.availabilities.of(stream, plan)
            verdict, reason = availability.verdict, availability.reason
            skipped_or_fails = "skipped" if policy == "skip" else "FAILS the run"
            if verdict is Verdict.SKIPPED:
                outcome = f"skipped: {reason}"
            elif verdict is Verdict.REFUSED_ON_PLAN and reason in FREE_PLAN_REFUSALS.values():
                outcome = f"{skipped_or_fails}: Slack answers {reason}: {rule_for(reason).fix}"
            elif verdict is Verdict.REFUSED_ON_PLAN:
                label = PLAN_LABELS.get(plan or "free", plan or "free")
                outcome = f"{skipped_or_fails}: the plan is {label}: {rule_for(reason).fix}"
            elif verdict is Verdict.MISSING_SCOPE:
                outcome = (
                    f"{skipped_or_fails}: add user scope {reason} in the Slack app and re-authorise"
                )
            else:
                outcome = (
                    "runs"
                    + self.where_it_runs(stream)
                    + (f" ({stream.availability_note})" if stream.availability_note else "")
                )
            if stream.name == "users" and granted and "users:read.email" not in granted:
                outcome += " (no emails: add users:read.email for profile.email)"
            rows.append(ScopeRow(stream.name, needs, has, outcome, availability))
        return rows

    def where_it_runs(self, stream: StreamTraits) -> str:
        """Where a stream runs with an org-level token: per workspace, or once for the org."""
        if not self.facts.org_level:
            return ""
        if stream.per_workspace:
            count = len(self._workspaces().to_read)
            return f" in {count} workspace{'s' if count != 1 else ''}"
        return " org-wide"

    def reads_workspaces(self, streams: t.Iterable[StreamTraits] | None = None) -> bool:
        """The run reads an org's workspaces: an org-level token and a per-workspace stream
        among ``streams`` (default: the selected ones). Otherwise nothing calls
        auth.teams.list (a workspace-level token reads its own workspace; an org-wide stream
        reads the org), so its failure ends no such run."""
        chosen = self._selected() if streams is None else streams
        return self.facts.org_level and any(stream.per_workspace for stream in chosen)

    def workspace_report(self, streams: t.Iterable[StreamTraits] | None = None) -> str | None:
        """The line on the org's workspaces (None when the run reads none of them)."""
        return self._workspaces().summary() if self.reads_workspaces(streams) else None

    def check_not_listed_workspaces(self) -> None:
        """team_ids naming a workspace auth.teams.list does not list: skip or fail by policy
        (only when the run reads the org's workspaces)."""
        if not self.reads_workspaces():
            return
        workspaces = self._workspaces()
        for team_id in workspaces.not_listed:
            message = workspaces.not_listed_message(team_id)
            if not self.settings.skips_unavailable:
                raise StreamUnavailableError(message, code="team_access_not_granted")
            self.logger.warning("Skipping workspace %s (on_unavailable=skip): %s", team_id, message)

    def plan_when_it_matters(self, streams: t.Sequence[StreamTraits]) -> str | None:
        """The plan key, read (one team.billing.info call, once per run) only when it changes
        the report: a stream Slack refuses on some plans is selected.

        Only a standard workspace can be on Free or Pro; without the billing scope, or if
        the call fails, the plan stays unknown (then Slack's own answer decides).
        """
        if not any(s.name in FREE_PLAN_REFUSALS or s.name in PLANS_WITH for s in streams):
            return None
        return self.facts.plan

    def log(self, streams: t.Sequence[StreamTraits]) -> None:
        """Log the selected streams (in the order the run writes them), the edition and the
        scope report of a run (by stream name, as ``tap-slack-snow-auth check`` prints it)."""
        logger = self.logger
        logger.info("Selected streams: %s", ", ".join(s.name for s in streams) or "(none)")
        identity = self.facts.identity
        how = "detected" if self.settings.edition == "auto" else "set in config"
        logger.info(
            "Slack edition: %s (%s); team %s, enterprise %s, org-level token: %s",
            self.facts.edition,
            how,
            printable(identity.team_id or "-"),
            printable(identity.enterprise_id or "-"),
            "yes" if identity.is_enterprise_install else "no",
        )
        mismatch = self.facts.team_id_mismatch()
        if mismatch:
            logger.warning("%s", mismatch)
        by_name = sorted(streams, key=lambda stream: stream.name)
        rows = self.scope_report(by_name, plan=self.plan_when_it_matters(streams))
        if not rows:
            return
        line = self.workspace_report()
        if line:
            logger.info("%s", line)
        self.check_not_listed_workspaces()
        granted = printable(", ".join(sorted(identity.scopes)), limit=2000) or "unknown"
        logger.info("Scope report (granted: %s):", granted)
        table = [(row.stream, row.needs, row.granted, row.outcome) for row in rows]
        for text in format_table(SCOPE_REPORT_HEADER, table):
            logger.info("  %s", text)


def format_table(header: t.Sequence[str], rows: t.Sequence[t.Sequence[str]]) -> list[str]:
    """Left-aligned text columns; the last column is not padded."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    return [
        "  ".join([*(cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])), row[-1]])
        for row in [header, *rows]
    ]
