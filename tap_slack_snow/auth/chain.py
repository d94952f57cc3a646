"""Keeping a new token chain: into the token store, or else into a rescue file.

Once oauth.v2.access has answered, the chain Slack handed out (a rotated refresh token, or
the first one of a code exchange) exists only in memory: the tap's refresh and the CLI's
``exchange`` both keep it with :func:`keep_chain`. When the store fails, the chain is
sealed into a rescue file (:mod:`.rescue`) and the run ends with one line naming the
``restore`` command that loads it back.
"""

from __future__ import annotations

import typing as t

from tap_slack_snow.auth.rescue import RESTORE_COMMAND, write_rescue
from tap_slack_snow.errors import TapSlackError
from tap_slack_snow.interrupts import signals_deferred

if t.TYPE_CHECKING:
    from pathlib import Path

    from tap_slack_snow.auth.store import ChainStore, StoredTokens

#: What a SIGTERM or SIGINT waits for while a new chain is only in memory.
SAVING_STEP = "the rotated Slack token is being saved"


def new_chain_pending() -> t.ContextManager[None]:
    """From the request that rotates until the chain is kept: defer SIGTERM and SIGINT."""
    return signals_deferred(SAVING_STEP)


def keep_chain(store: ChainStore, chain: StoredTokens, *, take_lock: bool) -> None:
    """Save ``chain`` into ``store``; if the store fails, rescue it and raise the error.

    ``take_lock``: take the store's lock for the save (the CLI); False when the caller
    already holds it (the tap's read-refresh-write). Any TapSlackError of the store (its
    lock included) sends the chain to a rescue file; the TapSlackError raised then says
    where it is and the command that restores it, or that no folder could take it.
    """
    with new_chain_pending():
        try:
            if take_lock:
                with store.locked():
                    store.save(chain.content())
            else:
                store.save(chain.content())
        except TapSlackError as exc:
            raise rescue_error(exc, write_rescue(store, chain.content())) from None


class ChainNotStoredError(TapSlackError):
    """A new chain the store could not take: the line says where it went instead."""

    def __init__(self, message: str, rescue_file: Path | None) -> None:
        """The line, and the rescue file holding the chain (None: no folder took it)."""
        super().__init__(message)
        self.rescue_file = rescue_file


def rescue_error(exc: TapSlackError, rescue_file: Path | None) -> ChainNotStoredError:
    """The one line a failed save ends with: the store's error, and where the chain went."""
    if rescue_file is None:
        return ChainNotStoredError(
            f"{exc}, and no other folder could take the new tokens either (state folder, "
            "home, temp, working folder): the refresh token is lost; re-authorise the "
            "Slack app once the disk is fixed",
            None,
        )
    return ChainNotStoredError(
        f"{exc}. Slack had already rotated the token, so the new tokens are kept in "
        f"{rescue_file} (encrypted, mode 0600): once the store is fixed, run "
        f"'{RESTORE_COMMAND} {rescue_file}' with this tap's config (--config FILE or the "
        "TAP_SLACK_SNOW_* variables) before the next run",
        rescue_file,
    )
