"""Pending OAuth states of ``authorize-url``, each usable once by ``exchange``."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from tap_slack_snow.auth import default_token_store_path, fingerprint, write_private_file
from tap_slack_snow.cli.common import UserError

#: Slack's authorisation codes live 10 minutes; a state older than that cannot be useful.
STATE_MAX_AGE_SECONDS = 600
#: Expired states are kept this long only to say "expired" instead of "unknown".
STATE_KEEP_SECONDS = 24 * 3600
STATE_FILE_NAME = "oauth-states.json"


def default_state_file() -> Path:
    """The OAuth state file, in the folder of the default token store.

    ``default_token_store_path`` owns the folder choice (XDG_STATE_HOME); the file name it
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


class StateBook:
    """The file of pending OAuth states (mode 0600); each state can be used once."""

    def __init__(self, path: Path) -> None:
        """Point at the state file (created by the first ``add``)."""
        self.path = path

    def _load(self) -> list[PendingState]:
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        try:
            return [PendingState(**entry) for entry in json.loads(raw)["states"]]
        except (ValueError, KeyError, TypeError):
            raise UserError(
                f"the OAuth state file {self.path} is damaged; delete it and run "
                "authorize-url again"
            ) from None

    def _save(self, states: list[PendingState]) -> None:
        payload = {"version": 1, "states": [state.__dict__ for state in states]}
        write_private_file(self.path, json.dumps(payload, indent=1) + "\n")

    def add(self, state: str, entry: PendingState) -> None:
        """Remember a new state (and forget ones too old to matter)."""
        now = time.time()
        kept = [s for s in self._load() if now - s.created_at < STATE_KEEP_SECONDS]
        entry.state_sha256 = fingerprint(state)
        self._save([*kept, entry])

    def forget(self, state: str) -> None:
        """Remove ``state``: a replayed redirect must not pass again."""
        digest = fingerprint(state)
        states = self._load()
        kept = [s for s in states if s.state_sha256 != digest]
        if len(kept) != len(states):
            self._save(kept)

    def verify(self, state: str, client_id: str) -> PendingState:
        """The pending authorisation ``state`` belongs to, left in place (an expired one is
        removed); raise a UserError saying what is wrong.

        ``exchange`` forgets the state once Slack has answered, so a mistyped client secret
        does not mean redoing the browser flow.
        """
        states = self._load()
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
