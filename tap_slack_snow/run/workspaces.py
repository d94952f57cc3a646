"""The workspaces one run reads.

A workspace-level token reads its own workspace, as it always did: no listing, no
partitions. An org-level token (Enterprise Grid, app installed on the whole org) must name a
workspace (``team_id``) for Slack's workspace-level methods, so the run lists the workspaces
the org-wide app is approved for with ``auth.teams.list`` (no scope needed; cursor pages of
at most 1000), once per run, keeps those named in ``team_ids`` / ``team_id`` when set, and
hands each per-workspace stream one partition ``{"team_id": T…}`` per workspace.

A workspace Slack refuses (``team_access_not_granted``) is asked once per run, even while
several streams are fetched side by side: the first request any stream (any thread) makes to a
workspace goes out, and the others' first requests to it wait for that first answer
(:meth:`OrgWorkspaces.before_request`). If Slack refused, they raise the same refusal without
a request; otherwise they go on. The skip itself, its one warning and the ``on_unavailable``
policy stay in the main thread, when the SDK reaches the partition (:meth:`OrgWorkspaces.report`),
so they come in the order of a sequential run whichever thread asked first.
"""

from __future__ import annotations

import threading
import time
import typing as t
from dataclasses import dataclass
from functools import cached_property

from tap_slack_snow.errors import TapSlackError
from tap_slack_snow.run.spool import SpoolStopped
from tap_slack_snow.text import printable

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
        """``T… (name)`` for log lines, printable (both come from Slack)."""
        shown = printable(self.id)
        return f"{shown} ({printable(self.name)})" if self.name else shown


class MalformedTeamsListError(TapSlackError):
    """auth.teams.list answered ok with a shape the tap cannot read."""


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
        # Each workspace's first answer: None while the first request is out, else the
        # refusal's Slack error code, or "" when Slack answered anything else.
        self._first_answers: dict[str, str | None] = {}
        self._answered = threading.Condition()
        self._stopped = False
        self._reported: set[str] = set()

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
        """``T… (name)`` for log lines (printable)."""
        for workspace in self.listed:
            if workspace.id == team_id:
                return str(workspace)
        return printable(team_id)

    #: How long a request waits for another thread's first answer from the same workspace
    #: (that request may be waiting out a rate limit). After it, the request goes out: the
    #: workspace may then be asked twice, nothing is lost.
    FIRST_ANSWER_WAIT_SECONDS: t.ClassVar[float] = 300.0

    def before_request(self, team_id: str) -> str | None:
        """Called before every request naming ``team_id``: the refusal code if Slack refused
        the workspace's first request (send nothing then), else None (send it).

        The first caller for a workspace returns at once and must pass Slack's answer to
        :meth:`after_answer`; callers meanwhile wait for that answer (at most
        :attr:`FIRST_ANSWER_WAIT_SECONDS`).

        Raises:
            SpoolStopped: the run is ending (:meth:`stop`) while waiting.
        """
        deadline = time.monotonic() + self.FIRST_ANSWER_WAIT_SECONDS
        with self._answered:
            if team_id not in self._first_answers:
                self._first_answers[team_id] = None  # this caller's request is the first
                return None
            while self._first_answers[team_id] is None:
                if self._stopped:
                    raise SpoolStopped
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._answered.wait(left)
            return self._first_answers[team_id] or None

    def after_answer(self, team_id: str, refusal: str | None) -> None:
        """Slack's answer to a request naming ``team_id`` (``refusal``: the code of a
        workspace refusal, else None); the first one is shared with waiting requests."""
        with self._answered:
            if self._first_answers.get(team_id) is None:
                self._first_answers[team_id] = refusal or ""
                self._answered.notify_all()

    def stop(self) -> None:
        """The run is ending: wake every waiting request (it raises SpoolStopped)."""
        with self._answered:
            self._stopped = True
            self._answered.notify_all()

    def report(self, team_id: str) -> bool:
        """The main thread skips a refused workspace: True the first time (warn then)."""
        first = team_id not in self._reported
        self._reported.add(team_id)
        return first

    def reported(self, team_id: str) -> bool:
        """A stream skipped this workspace earlier in the run (later streams skip it too)."""
        return team_id in self._reported

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
