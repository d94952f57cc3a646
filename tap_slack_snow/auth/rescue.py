"""Rescue files: where a new token chain goes when its store cannot take it.

Slack rotates a refresh token the moment it answers, so once a refresh succeeded the chain
it returned is the only way back in. When the store then fails (a full disk, a folder made
read-only, a database that stays away), the chain is sealed exactly as in a store (same
key, bound to the same chain id) and written, mode 0600, to the first writable of a few
folders on another path than the store. ``tap-slack-snow-auth restore --from FILE`` loads
it back into the configured store. Nothing of it goes to stdout or a log.
"""

from __future__ import annotations

import json
import tempfile
import time
import typing as t
from pathlib import Path

from tap_slack_snow.auth.crypto import EnvelopeError, StoreKey, describe_envelope_error
from tap_slack_snow.auth.links import BrokenLinkError, follow_links
from tap_slack_snow.auth.store import (
    ChainStore,
    StoredTokens,
    StoreWriteError,
    describe_os_error,
    state_folder,
    write_private_file,
)
from tap_slack_snow.errors import TapSlackError
from tap_slack_snow.text import printable

RESCUE_FORMAT = "tap-slack-snow rescued token chain"
RESTORE_COMMAND = "tap-slack-snow-auth restore --from"


def rescue_folders() -> list[Path]:
    """Candidate folders, most durable first: the state folder, home, temp, working dir."""
    return [
        state_folder() / "rescue",
        Path.home() / ".tap-slack-snow-rescue",
        Path(tempfile.gettempdir()) / "tap-slack-snow-rescue",
        Path.cwd(),
    ]


def write_rescue(store: ChainStore, content: dict[str, t.Any]) -> Path | None:
    """Seal ``content`` into a new rescue file; its path, or None if no folder took it."""
    document = {
        "format": RESCUE_FORMAT,
        "version": 1,
        "chain_id": store.chain,
        "store": store.location,
        "rescued_at": time.time(),
        "envelope": store.key.seal(store.chain, content),
    }
    name = f"tap-slack-snow-rescue-{store.chain[:12]}-{time.strftime('%Y%m%dT%H%M%S')}.json"
    for folder in rescue_folders():
        path = folder / name
        try:
            write_private_file(path, json.dumps(document, indent=1) + "\n")
        except OSError:
            continue
        return path
    return None


def _document(path: Path) -> dict[str, t.Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TapSlackError(
            f"cannot read the rescue file {path}: {describe_os_error(exc)}"
        ) from None
    except ValueError:
        document = None
    if not isinstance(document, dict) or document.get("format") != RESCUE_FORMAT:
        raise TapSlackError(f"{path} is not a tap-slack-snow rescue file")
    return document


def open_rescue(path: Path, key: StoreKey, chain: str | None = None) -> dict[str, t.Any]:
    """The chain in a rescue file, decrypted with ``key``; when ``chain`` is given, checked
    to be that chain's first (a TapSlackError otherwise, or when the key does not open it)."""
    document = _document(path)
    if chain is not None and document.get("chain_id") != chain:
        raise TapSlackError(
            f"the rescue file {path} holds the chain of another Slack app or authorisation "
            f"than this config (it came from {printable(document.get('store'))}): use the "
            "config of the run that wrote it (the same client_id and refresh_token); nothing "
            "was written and the file is kept"
        )
    try:
        return key.open(str(document.get("chain_id") or ""), document.get("envelope"))
    except EnvelopeError as exc:
        where = f"rescue file {path}"
        raise TapSlackError(describe_envelope_error(exc, where=where, key=key)) from None


def read_rescue(path: Path, store: ChainStore) -> dict[str, t.Any]:
    """The chain in a rescue file, checked to belong to ``store``'s chain and key."""
    return open_rescue(path, store.key, chain=store.chain)


def restore_from_file(path: Path, store: ChainStore) -> str:
    """Load a rescue file into the store (under its lock); say what was done.

    ``store`` is the configured chain's: a rescue file of another chain (another app or
    authorisation), or sealed under another key, is refused before anything is written. A
    store that already holds a chain updated after the rescue (another run restored it, or
    authorised again) is left alone: the rescued chain is then older and spent, and the file
    is kept. Only a restored file is deleted: the file a link names, not the link.
    """
    try:
        real = follow_links(path)
    except BrokenLinkError as exc:
        raise TapSlackError(f"the rescue file {path} is {exc.strerror}") from None
    rescued = StoredTokens.from_content(read_rescue(real, store), f"the rescue file {path}")
    with store.locked():
        content = store.load()
        current = None if content is None else StoredTokens.from_content(content, store.location)
        if current is not None and (current.updated_at or 0) >= (rescued.updated_at or 0):
            return (
                f"{store.location} already holds a chain as new as the rescued one; "
                f"nothing restored, {path} is kept"
            )
        try:
            store.save(rescued.content())
        except StoreWriteError as exc:
            raise TapSlackError(f"{exc}; the rescue file {path} is kept") from None
    try:
        real.unlink()
    except OSError as exc:
        return (
            f"restored the rescued token chain into {store.location}; delete {real} "
            f"({describe_os_error(exc)}): it is spent once the tap rotates"
        )
    return f"restored the rescued token chain into {store.location} and deleted {real}"
