"""Whether a stream can run with this token, here: typed verdicts, never outcome strings.

A stream is described by its :class:`StreamTraits` (the declarative knobs every stream class
has); nothing here imports a stream class.
"""

from __future__ import annotations

import enum
import typing as t
from dataclasses import dataclass

from tap_slack_snow.slack.errors import StreamUnavailableError, describe, rule_for

if t.TYPE_CHECKING:
    from tap_slack_snow.run.facts import RunFacts
    from tap_slack_snow.run.workspaces import OrgWorkspaces
    from tap_slack_snow.settings import Settings

#: Streams Slack refuses on the Free plan, with the error code it answers (team.accessLogs
#: answers ``paid_only`` on Free).
FREE_PLAN_REFUSALS: dict[str, str] = {"access_logs": "paid_only"}

#: Slack's plan keys (team.billing.info; ``""`` is Free) and the names its pricing page uses.
PLAN_LABELS = {
    "free": "Free",
    "std": "Pro",
    "plus": "Business+",
    "enterprise": "Enterprise Grid",
    "compliance": "Enterprise Select / Compliance",
}

#: Streams Slack offers on some plans only: those plans, and the error table's code for the
#: others. Checked before the stream's first request once the plan is known (one
#: team.billing.info call, only when such a stream is selected), so nothing is sent that
#: Slack would refuse, and the line names the plan.
PLANS_WITH: dict[str, tuple[frozenset[str], str]] = {
    "scim_users": (frozenset({"plus", "enterprise", "compliance"}), "scim_unavailable_on_plan"),
}


def refused_on_plan(name: str, plan: str | None) -> str | None:
    """The error code Slack answers stream ``name`` with on ``plan`` (None: it is offered,
    or the plan is unknown)."""
    if plan is None:
        return None
    if plan in {"free", ""} and name in FREE_PLAN_REFUSALS:
        return FREE_PLAN_REFUSALS[name]
    plans, code = PLANS_WITH.get(name, (None, ""))
    if plans is not None and (plan or "free") not in plans:
        return code
    return None


def plan_refusal_message(stream: StreamTraits, plan: str) -> str:
    """The one line for a stream its plan does not offer: the plan named, and the fix."""
    code = refused_on_plan(stream.name, plan) or ""
    key = plan or "free"
    return (
        f"{stream.slack_method}: this workspace is on {PLAN_LABELS.get(key, key)} "
        f"(team.billing.info plan '{key}'); {rule_for(code).fix}"
    )


class StreamTraits(t.Protocol):
    """What a stream declares about where it can run (class attributes of every stream)."""

    @property
    def name(self) -> str:
        """The stream's name."""

    @property
    def slack_method(self) -> str:
        """The Slack method it reads."""

    @property
    def required_scopes(self) -> tuple[str, ...]:
        """User-token scopes the method checks (any one of them is enough)."""

    @property
    def per_workspace(self) -> bool:
        """A workspace-level method (once per workspace with an org-level token)."""

    @property
    def enterprise_only(self) -> bool:
        """Only meaningful on Enterprise Grid."""

    @property
    def availability_note(self) -> str:
        """Plan or role conditions shown in the scope report."""


class Verdict(enum.Enum):
    """What will happen to a selected stream, before any of its requests."""

    RUNS = "runs"
    #: Skipped by edition or workspaces, whatever ``on_unavailable`` says.
    SKIPPED = "skipped"
    #: The token lacks the scope: skipped or fails the run by ``on_unavailable``.
    MISSING_SCOPE = "missing scope"
    #: Slack refuses the method on the workspace's plan (access_logs on Free).
    REFUSED_ON_PLAN = "refused on plan"


@dataclass(frozen=True)
class Availability:
    """A stream's verdict, with the reason (a skip reason, the missing scope, the code)."""

    verdict: Verdict
    reason: str = ""

    @property
    def runs(self) -> bool:
        """The stream will send requests."""
        return self.verdict is Verdict.RUNS


class Availabilities:
    """Verdicts for the run's streams from the token's facts and the org's workspaces."""

    def __init__(
        self,
        settings: Settings,
        facts: RunFacts,
        workspaces: t.Callable[[], OrgWorkspaces],
    ) -> None:
        """``workspaces`` gives the org's workspaces (listed on first use)."""
        self.settings = settings
        self.facts = facts
        self._workspaces = workspaces

    def reason_to_skip(self, stream: StreamTraits) -> str | None:
        """Why a selected stream is skipped by edition before any request (else None)."""
        if stream.enterprise_only and self.facts.edition != "enterprise":
            return "Enterprise Grid only; this workspace is not on Enterprise Grid"
        if stream.per_workspace and self.facts.org_level and not self._workspaces().to_read:
            return (
                f"{stream.slack_method} is per workspace and this org-level token can read no "
                "workspace (auth.teams.list names none"
                + (" of team_ids)" if self.settings.wanted_team_ids else ")")
            )
        return None

    def missing_scope(self, stream: StreamTraits) -> str | None:
        """The scope to add when the token's granted scopes (x-oauth-scopes) lack it."""
        granted = self.facts.identity.scopes
        if not granted or not stream.required_scopes:
            return None  # unknown: let Slack decide
        if granted.intersection(stream.required_scopes):
            return None
        return stream.required_scopes[0]

    def of(self, stream: StreamTraits, plan: str | None = None) -> Availability:
        """The stream's verdict; ``plan`` (team.billing.info's key, when known) adds what
        Slack refuses on that plan."""
        reason = self.reason_to_skip(stream)
        if reason:
            return Availability(Verdict.SKIPPED, reason)
        refusal = refused_on_plan(stream.name, plan)
        if refusal:
            return Availability(Verdict.REFUSED_ON_PLAN, refusal)
        needed = self.missing_scope(stream)
        if needed:
            return Availability(Verdict.MISSING_SCOPE, needed)
        return Availability(Verdict.RUNS)

    def plan_refusal(self, stream: StreamTraits) -> str | None:
        """The line for a stream of :data:`PLANS_WITH` the workspace's plan does not offer
        (the plan is read only for such a stream); else None."""
        if stream.name not in PLANS_WITH:
            return None
        plan = self.facts.plan
        if refused_on_plan(stream.name, plan) is None or plan is None:
            return None
        return plan_refusal_message(stream, plan)

    def check(self, stream: StreamTraits) -> str | None:
        """The skip reason by edition; raise StreamUnavailableError when a scope is missing
        or the plan does not offer the stream (it then skips or fails by
        ``on_unavailable``)."""
        reason = self.reason_to_skip(stream)
        if reason:
            return reason
        needed = self.missing_scope(stream)
        if needed:
            raise StreamUnavailableError(
                describe("missing_scope", stream.slack_method, needed), code="missing_scope"
            )
        refusal = self.plan_refusal(stream)
        if refusal:
            code = PLANS_WITH[stream.name][1]
            raise StreamUnavailableError(refusal, code=code)
        return None

    def can_run(self, stream: StreamTraits) -> bool:
        """Whether a stream will send requests: not skipped by edition, no scope missing,
        offered on the plan."""
        return (
            self.reason_to_skip(stream) is None
            and self.missing_scope(stream) is None
            and self.plan_refusal(stream) is None
        )
