"""Pending OAuth states of ``authorize-url``, each usable once by ``exchange``; the file they
are kept in, read defensively."""

from __future__ import annotations

import json
import os
import time
import typing as t
from dataclasses import dataclass
from pathlib import Path

import click

from tap_slack_snow.auth import default_token_store_path, fingerprint, write_private_file
from tap_slack_snow.auth.links import BrokenLinkError, describe_broken_link, follow_links
from tap_slack_snow.auth.store import describe_os_error
from tap_slack_snow.cli.common import UserError

#: Slack's authorisation codes live 10 minutes; a state older than that cannot be useful.
STATE_MAX_AGE_SECONDS = 600
#: Expired states are kept this long only to say "expired" instead of "unknown".
STATE_KEEP_SECONDS = 24 * 3600
STATE_FILE_NAME = "oauth-states.json"


def default_state_file() -> Path:
    """The OAuth state file, in the folder of the default token store.

    ``default_token_store_path`` owns the folder choice (the user state folder); the file name it
    derives from the (here irrelevant) token arguments is dropped.
    """
    return default_token_store_path("state", "state").parent / STATE_FILE_NAME


@dataclass
class PendingState:
    """One authorize-url awaiting its exchange (the state itself is kept only as a hash)."""

    state_sha256: str
    created_at: float
    client_id: str
    redirect_uri: str | None
    edition: str
    user_scopes: list[str]

    @classmethod
    def from_entry(cls, entry: t.Any) -> PendingState | None:
        """An entry of the file, or None when any field has the wrong type (an edit)."""
        if not isinstance(entry, dict):
            return None
        created_at = entry.get("created_at")
        scopes = entry.get("user_scopes")
        texts = [entry.get(name) for name in ("state_sha256", "client_id", "edition")]
        redirect_uri = entry.get("redirect_uri")
        if (
            not all(isinstance(text, str) for text in texts)
            or not isinstance(created_at, int | float)
            or isinstance(created_at, bool)
            or not isinstance(redirect_uri, str | None)
            or not isinstance(scopes, list)
            or not all(isinstance(scope, str) for scope in scopes)
        ):
            return None
        return cls(
            state_sha256=entry["state_sha256"],
            created_at=float(created_at),
            client_id=entry["client_id"],
            redirect_uri=redirect_uri,
            edition=entry["edition"],
            user_scopes=list(scopes),
        )


def parse_states(raw: bytes) -> list[PendingState] | None:
    """The states of a state file's bytes, or None when the file is damaged."""
    try:
        text = raw.decode("utf-8")
        document = json.loads(text) if text.strip() else {"states": []}  # empty: touched
    except ValueError:  # UnicodeDecodeError too
        return None
    entries = document.get("states") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        return None
    states = [PendingState.from_entry(entry) for entry in entries]
    return None if None in states else [state for state in states if state is not None]


class DamagedStateFileError(UserError):
    """The state file could not be read as one: it was set aside (``aside``)."""

    def __init__(self, path: Path, aside: Path) -> None:
        """Say where the damaged file went."""
        super().__init__(
            f"the OAuth state file {path} is damaged (edited by hand?); it was set aside as {aside}"
        )
        self.path = path
        self.aside = aside


class StateBook:
    """The file of pending OAuth states (mode 0600); each state can be used once.

    Read defensively: a file that is not one (not JSON, a field of the wrong type) is set
    aside as ``<name>.damaged-<time>`` and :class:`DamagedStateFileError` says so, so the
    next authorize-url starts a new file instead of failing until it is deleted by hand.
    A state file behind a symbolic link is the file the link names.
    """

    def __init__(self, path: Path) -> None:
        """Point at the state file (created by the first ``add``)."""
        self.path = path

    def _load(self) -> list[PendingState]:
        try:
            raw = self._real_path().read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise UserError(
                f"cannot read the OAuth state file {self.path}: {describe_os_error(exc)}; fix "
                "it, or pass --state-file to authorize-url and exchange"
            ) from None
        states = parse_states(raw)
        if states is None:
            raise DamagedStateFileError(self.path, self._set_aside())
        return states

    def _real_path(self) -> Path:
        try:
            return follow_links(self.path)
        except BrokenLinkError as exc:
            raise UserError(describe_broken_link(exc, "--state-file")) from None

    def _set_aside(self) -> Path:
        """Rename the damaged file (beside the file a link names); an empty one replaces it,
        so a link to it stays valid."""
        real = self._real_path()
        aside = real.with_name(f"{real.name}.damaged-{time.strftime('%Y%m%dT%H%M%S')}")
        try:
            os.replace(real, aside)
        except OSError as exc:
            raise UserError(
                f"the OAuth state file {self.path} is damaged and cannot be set aside "
                f"({describe_os_error(exc)}): delete it, then run authorize-url again"
            ) from None
        self._save([], real)  # the link, if any, names a file again
        return aside

    def _save(self, states: list[PendingState], real: Path | None = None) -> None:
        payload = {"version": 1, "states": [state.__dict__ for state in states]}
        try:
            write_private_file(real or self.path, json.dumps(payload, indent=1) + "\n")
        except BrokenLinkError as exc:
            raise UserError(describe_broken_link(exc, "--state-file")) from None
        except OSError as exc:
            raise UserError(
                f"cannot write the OAuth state file {self.path}: {describe_os_error(exc)}; fix "
                "it, or pass --state-file to authorize-url and exchange"
            ) from None

    def add(self, state: str, entry: PendingState) -> None:
        """Remember a new state (and forget ones too old to matter); a damaged file is set
        aside with a warning first."""
        try:
            current = self._load()
        except DamagedStateFileError as exc:
            click.echo(
                f"Warning: {exc.message}; the authorisations started before it can no longer "
                "be exchanged",
                err=True,
            )
            current = []
        now = time.time()
        kept = [s for s in current if now - s.created_at < STATE_KEEP_SECONDS]
        entry.state_sha256 = fingerprint(state)
        self._save([*kept, entry])

    def forget(self, state: str) -> None:
        """Remove ``state``: a replayed redirect must not pass again.

        Called once Slack has looked at the code, so it never raises: the tokens Slack
        handed out matter more (a state left behind only finds its code spent).
        """
        digest = fingerprint(state)
        try:
            states = self._load()
            kept = [s for s in states if s.state_sha256 != digest]
            if len(kept) != len(states):
                self._save(kept)
        except UserError as exc:
            click.echo(
                f"Warning: could not remove the used state from {self.path}: "
                f"{exc.format_message()}",
                err=True,
            )

    def verify(self, state: str, client_id: str) -> PendingState:
        """The pending authorisation ``state`` belongs to, left in place (an expired one is
        removed); raise a UserError saying what is wrong.

        ``exchange`` forgets the state once Slack has answered, so a mistyped client secret
        does not mean redoing the browser flow.
        """
        try:
            states = self._load()
        except DamagedStateFileError as exc:
            raise UserError(
                f"{exc.message}, so the state of this redirect cannot be checked: run "
                "authorize-url again and use the address that browser session lands on"
            ) from None
        digest = fingerprint(state)
        match = next((s for s in states if s.state_sha256 == digest), None)
        if match is None:
            raise UserError(
                "the state in the redirect does not match any authorize-url made on this "
                f"machine (state file {self.path}); it may be forged or already used. Run "
                "authorize-url again and use the address that browser session lands on"
            )
        age = time.time() - match.created_at
        if age > STATE_MAX_AGE_SECONDS:
            self.forget(state)
            raise UserError(
                f"the state is {age / 60:.0f} minutes old; authorisations expire after "
                f"{STATE_MAX_AGE_SECONDS // 60} minutes. Run authorize-url again and exchange "
                "the new redirect at once"
            )
        if match.client_id != client_id:
            raise UserError(
                f"the state was issued for client_id {match.client_id}, not {client_id}; "
                "pass the same --client-id to authorize-url and exchange"
            )
        return match
