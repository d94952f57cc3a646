"""The workspaces one run reads.

A workspace-level token reads its own workspace, as it always did: no listing, no
partitions. An org-level token (Enterprise Grid, app installed on the whole org) must name a
workspace (``team_id``) for Slack's workspace-level methods, so the run lists the workspaces
the org-wide app is approved for with ``auth.teams.list`` (no scope needed; cursor pages of
at most 1000), once per run, keeps those named in ``team_ids`` / ``team_id`` when set, and
hands each per-workspace stream one partition ``{"team_id": T…}`` per workspace.

A workspace Slack refuses (``team_access_not_granted``) is remembered for the rest of the
run: the first stream that meets it warns once, later streams skip it without a request.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from functools import cached_property

from tap_slack_snow.errors import TapSlackError

if t.TYPE_CHECKING:
    import logging

#: Slack error codes meaning "this token cannot read this workspace" (not "this stream").
WORKSPACE_ACCESS_ERRORS = frozenset({"team_access_not_granted"})

#: Slack's largest ``auth.teams.list`` page.
TEAMS_LIST_MAX_PAGE = 1000

#: ``call(method, params)`` sends one Slack call with the run's retry policy and returns
#: the parsed payload.
SlackCall = t.Callable[[str, dict[str, t.Any]], dict[str, t.Any]]


@dataclass(frozen=True)
class Workspace:
    """One workspace of the org, as auth.teams.list names it."""

    id: str
    name: str

    def __str__(self) -> str:
        return f"{self.id} ({self.name})" if self.name else self.id


class MalformedTeamsListError(TapSlackError):
    """auth.teams.list answered ok with a shape the tap cannot read."""


def wanted_team_ids(config: t.Mapping[str, t.Any]) -> list[str] | None:
    """The workspaces the settings restrict the run to (``team_ids``, or ``team_id`` as a
    list of one); None = every workspace the token can read."""
    many = config.get("team_ids")
    if many:
        return list(dict.fromkeys(str(team) for team in many))
    one = config.get("team_id")
    return [str(one)] if one else None


def setting_errors(config: t.Mapping[str, t.Any]) -> list[str]:
    """Contradictory workspace settings (reported before any call)."""
    if config.get("team_id") and config.get("team_ids"):
        return [
            "Set team_id or team_ids, not both (team_id is the same as team_ids with one workspace)"
        ]
    return []


class OrgWorkspaces:
    """The workspaces of this run and which of them Slack refused."""

    def __init__(
        self,
        *,
        call: SlackCall,
        page_size: int,
        wanted: list[str] | None,
        logger: logging.Logger,
    ) -> None:
        """``wanted`` is the ``team_ids`` restriction (None: all)."""
        self._call = call
        self._page_size = max(1, min(page_size, TEAMS_LIST_MAX_PAGE))
        self._wanted = wanted
        self._logger = logger
        self._refused: dict[str, str] = {}

    @cached_property
    def listed(self) -> list[Workspace]:
        """Every workspace auth.teams.list names, in Slack's order (all pages, once)."""
        found: list[Workspace] = []
        cursor: str | None = ""
        while True:
            params: dict[str, t.Any] = {"limit": self._page_size}
            if cursor:
                params["cursor"] = cursor
            payload = self._call("auth.teams.list", params)
            teams = payload.get("teams")
            if not isinstance(teams, list):
                raise MalformedTeamsListError(
                    "Slack method auth.teams.list returned no 'teams' list"
                )
            for team in teams:
                if not isinstance(team, dict) or not isinstance(team.get("id"), str):
                    raise MalformedTeamsListError(
                        "Slack method auth.teams.list returned a team without a string 'id'"
                    )
                name = team.get("name")
                found.append(Workspace(team["id"], name if isinstance(name, str) else ""))
            metadata = payload.get("response_metadata")
            cursor = metadata.get("next_cursor") if isinstance(metadata, dict) else None
            if not cursor or not isinstance(cursor, str):
                break
        return list({workspace.id: workspace for workspace in found}.values())

    @cached_property
    def to_read(self) -> list[Workspace]:
        """The listed workspaces this run reads (``team_ids`` keeps some), Slack's order."""
        if self._wanted is None:
            return list(self.listed)
        wanted = set(self._wanted)
        return [workspace for workspace in self.listed if workspace.id in wanted]

    @cached_property
    def not_listed(self) -> list[str]:
        """Ids in ``team_ids`` that auth.teams.list does not name."""
        if self._wanted is None:
            return []
        listed = {workspace.id for workspace in self.listed}
        return [team for team in self._wanted if team not in listed]

    @cached_property
    def partitions(self) -> list[dict[str, t.Any]]:
        """One stream partition per workspace to read (stable for the whole run)."""
        return [{"team_id": workspace.id} for workspace in self.to_read]

    def describe(self, team_id: str) -> str:
        """``T… (name)`` for log lines."""
        for workspace in self.listed:
            if workspace.id == team_id:
                return str(workspace)
        return team_id

    def refuse(self, team_id: str, reason: str) -> bool:
        """Remember that Slack refused a workspace; True the first time (warn then)."""
        first = team_id not in self._refused
        self._refused.setdefault(team_id, reason)
        return first

    def refused(self, team_id: str) -> str | None:
        """Why Slack refused this workspace earlier in the run (None: not refused)."""
        return self._refused.get(team_id)

    def summary(self) -> str:
        """The report line: how many workspaces were found and how many are read."""
        line = (
            f"Workspaces: {len(self.listed)} found by auth.teams.list, {len(self.to_read)} to read"
        )
        if self._wanted is not None:
            line += " (team_ids)"
        if self.not_listed:
            line += f"; {len(self.not_listed)} of team_ids not listed"
        return line

    def not_listed_message(self, team_id: str) -> str:
        """Why a workspace named in team_ids is not read, and the fix."""
        return (
            f"workspace {team_id} is not among the {len(self.listed)} workspaces this "
            "org-level token can read (auth.teams.list): approve the app for that workspace "
            "in the org's app management, or remove it from team_ids"
        )
