"""Whether a stream can run here: skip reasons, the scope check and the scope report.

The report is one table for the run's log and for ``tap-slack-snow-auth check``.
"""

from __future__ import annotations

import typing as t

from tap_slack_snow.errors import TapSlackError
from tap_slack_snow.run.workspaces import wanted_team_ids
from tap_slack_snow.slack.errors import StreamUnavailableError, describe, rule_for

if t.TYPE_CHECKING:
    from tap_slack_snow.run.session import SlackSession
    from tap_slack_snow.streams.base import SlackStream

#: Streams Slack refuses on the Free plan, with the error code it answers (team.accessLogs
#: answers ``paid_only`` on Free).
FREE_PLAN_REFUSALS: dict[str, str] = {"access_logs": "paid_only"}

SCOPE_REPORT_HEADER = ("stream", "needs", "granted", "what will happen")


def reason_to_skip(session: SlackSession, stream: SlackStream) -> str | None:
    """Why a selected stream is skipped by edition before any request (else None)."""
    if stream.enterprise_only and session.edition != "enterprise":
        return "Enterprise Grid only; this workspace is not on Enterprise Grid"
    if stream.per_workspace and session.org_level and not session.workspaces.to_read:
        return (
            f"{stream.slack_method} is per workspace and this org-level token can read no "
            "workspace (auth.teams.list names none"
            + (" of team_ids)" if wanted_team_ids(session.config) else ")")
        )
    return None


def missing_scope(session: SlackSession, stream: SlackStream) -> str | None:
    """The scope to add when the token's granted scopes (x-oauth-scopes) lack it."""
    granted = session.identity.scopes
    if not granted or not stream.required_scopes:
        return None  # unknown: let Slack decide
    if granted.intersection(stream.required_scopes):
        return None
    return stream.required_scopes[0]


def check_available(session: SlackSession, stream: SlackStream) -> str | None:
    """Skip reason by edition; raise StreamUnavailableError when a scope is missing."""
    reason = reason_to_skip(session, stream)
    if reason:
        return reason
    needed = missing_scope(session, stream)
    if needed:
        raise StreamUnavailableError(
            describe("missing_scope", stream.slack_method, needed), code="missing_scope"
        )
    return None


def can_run(session: SlackSession, stream: SlackStream) -> bool:
    """Whether a stream will send requests: not skipped by edition, no scope missing."""
    return reason_to_skip(session, stream) is None and missing_scope(session, stream) is None


def scope_report(
    session: SlackSession, streams: t.Iterable[SlackStream], plan: str | None = None
) -> list[tuple[str, str, str, str]]:
    """Rows of (stream, needed scopes, granted, what will happen) for ``streams``.

    ``plan`` is the team.billing.info key when known (tap-slack-snow-auth check reads
    it); it adds what Slack refuses on that plan (e.g. access_logs on Free).
    """
    policy = session.config.get("on_unavailable", "skip")
    refused_on_plan = FREE_PLAN_REFUSALS if plan in {"free", ""} else {}
    granted = session.identity.scopes
    rows = []
    for stream in streams:
        needs = " or ".join(stream.required_scopes) or "-"
        has = "unknown" if not granted else ("yes" if not missing_scope(session, stream) else "no")
        skip_reason = reason_to_skip(session, stream)
        if skip_reason:
            outcome = f"skipped: {skip_reason}"
        elif stream.name in refused_on_plan:
            code = refused_on_plan[stream.name]
            outcome = (
                f"{'skipped' if policy == 'skip' else 'FAILS the run'}: Slack answers "
                f"{code}: {rule_for(code).fix}"
            )
        elif has == "no":
            outcome = (
                f"{'skipped' if policy == 'skip' else 'FAILS the run'}: add user scope "
                f"{stream.required_scopes[0]} in the Slack app and re-authorise"
            )
        else:
            outcome = (
                "runs"
                + where_it_runs(session, stream)
                + (f" ({stream.availability_note})" if stream.availability_note else "")
            )
        if stream.name == "users" and granted and "users:read.email" not in granted:
            outcome += " (no emails: add users:read.email for profile.email)"
        rows.append((stream.name, needs, has, outcome))
    return rows


def where_it_runs(session: SlackSession, stream: SlackStream) -> str:
    """Where a stream runs with an org-level token: per workspace, or once for the org."""
    if not session.org_level:
        return ""
    if stream.per_workspace:
        count = len(session.workspaces.to_read)
        return f" in {count} workspace{'s' if count != 1 else ''}"
    return " org-wide"


def workspace_report(session: SlackSession) -> str | None:
    """The line on the org's workspaces (None for a workspace-level token)."""
    return session.workspaces.summary() if session.org_level else None


def check_not_listed_workspaces(session: SlackSession) -> None:
    """team_ids naming a workspace auth.teams.list does not list: skip or fail by policy."""
    workspaces = session.workspaces
    for team_id in workspaces.not_listed:
        message = workspaces.not_listed_message(team_id)
        if session.config.get("on_unavailable", "skip") != "skip":
            raise StreamUnavailableError(message, code="team_access_not_granted")
        session.logger.warning("Skipping workspace %s (on_unavailable=skip): %s", team_id, message)


def plan_when_it_matters(session: SlackSession, streams: t.Sequence[SlackStream]) -> str | None:
    """The plan key, read (one team.billing.info call) only when it changes the report.

    Only a standard workspace can be on Free, and only streams Slack refuses on Free care;
    without the billing scope, or if the call fails, the plan stays unknown.
    """
    if not any(stream.name in FREE_PLAN_REFUSALS for stream in streams):
        return None
    if session.edition == "enterprise":
        return None
    granted = session.identity.scopes
    if granted and "team.billing:read" not in granted:
        return None
    try:
        plan = session.call("team.billing.info").payload.get("plan")
    except TapSlackError:
        return None
    return plan if isinstance(plan, str) else None


def format_table(header: t.Sequence[str], rows: t.Sequence[t.Sequence[str]]) -> list[str]:
    """Left-aligned text columns; the last column is not padded."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    return [
        "  ".join([*(cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])), row[-1]])
        for row in [header, *rows]
    ]


def log_run_plan(session: SlackSession, streams: t.Sequence[SlackStream]) -> None:
    """Log the selected streams, the edition and the scope report of a run."""
    logger = session.logger
    logger.info("Selected streams: %s", ", ".join(s.name for s in streams) or "(none)")
    identity = session.identity
    how = "detected" if session.edition_setting == "auto" else "set in config"
    logger.info(
        "Slack edition: %s (%s); team %s, enterprise %s, org-level token: %s",
        session.edition,
        how,
        identity.team_id or "-",
        identity.enterprise_id or "-",
        "yes" if identity.is_enterprise_install else "no",
    )
    mismatch = session.team_id_mismatch()
    if mismatch:
        logger.warning("%s", mismatch)
    rows = scope_report(session, streams, plan=plan_when_it_matters(session, streams))
    if not rows:
        return
    line = workspace_report(session)
    if line:
        logger.info("%s", line)
    check_not_listed_workspaces(session)
    logger.info("Scope report (granted: %s):", ", ".join(sorted(identity.scopes)) or "unknown")
    for line in format_table(SCOPE_REPORT_HEADER, rows):
        logger.info("  %s", line)
