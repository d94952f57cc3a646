"""What every token store shares: the chain's content, the backend interface, its errors,
and the atomic write of private files.

A *chain* is what one authorisation of one Slack app needs next time: the current refresh
token, access token and expiry (:class:`StoredTokens`). A store keeps any number of chains,
each under its chain id (``crypto.chain_id``), each sealed in its own encrypted envelope,
so two apps or two organisations sharing one store never touch each other's chain.

Every backend (``file_store``, ``pg_store``) offers the same steps, used by the provider as
``with store.locked(): load -> check_writable -> (refresh) -> save``:

- ``locked()`` holds the chain's lock across the read-refresh-write (a file lock, or a row
  lock in PostgreSQL), so a refresh token is spent exactly once;
- ``check_writable()`` proves the store can take the new chain before a refresh token is
  spent on it;
- ``save()`` raises :class:`StoreWriteError` (a one-line reason, never a bare errno) when
  the new chain could not be written, so the provider can rescue it (``rescue``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import typing as t
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import platformdirs

from tap_slack_snow.auth.links import follow_links
from tap_slack_snow.errors import TapSlackError

if t.TYPE_CHECKING:
    from tap_slack_snow.auth.crypto import StoreKey

#: The name of the tap's folder in the platform's user state folder.
APP_FOLDER = "tap-slack-snow"
#: How long a run waits for another run that is rotating the same token.
LOCK_TIMEOUT_SECONDS = 300.0
STORE_VERSION = 1


def write_private_file(path: Path, text: str) -> None:
    """Write ``text`` atomically with mode 0600: temp file in the same folder, fsync, rename,
    fsync the folder.

    Every private file the project writes goes through here (token store, ``.env``, OAuth
    states, rescue files): a crash or a full disk leaves the old file or the new one, never
    half of one. A symbolic link is followed: the file it names is written, in its own
    folder, and the link stays (:mod:`.links`); a dangling link or a loop raises
    :class:`~.links.BrokenLinkError` (an OSError) before anything is written.
    """
    path = follow_links(path)
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp_name = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=folder)
    try:
        if hasattr(os, "fchmod"):  # POSIX, and Windows from Python 3.13
            os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    if os.name == "nt":
        return  # Windows cannot open a folder to fsync it; NTFS journals the rename
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def state_folder() -> Path:
    """The tap's own folder for private state: token stores, OAuth states, rescue files.

    The platform's user state folder (platformdirs): ``$XDG_STATE_HOME/tap-slack-snow`` on
    Linux (``~/.local/state`` when unset), ``~/Library/Application Support/tap-slack-snow``
    on macOS, ``%LOCALAPPDATA%\\tap-slack-snow`` on Windows. Where an earlier version already
    keeps a folder at the Linux-style path (macOS before this change), that folder is kept,
    so the chains in it stay found.
    """
    folder = Path(platformdirs.user_state_dir(APP_FOLDER, appauthor=False))
    legacy = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / APP_FOLDER
    if legacy != folder and legacy.is_dir():
        return legacy
    return folder


def default_token_store_path(client_id: str, refresh_token: str) -> Path:
    """Where tokens are kept when ``token_store_path`` is not set.

    In :func:`state_folder`, one file per app and authorisation, so two configs never share
    (and break) one chain.
    """
    digest = hashlib.sha256(f"{client_id}\0{refresh_token}".encode()).hexdigest()[:16]
    return state_folder() / f"tokens-{digest}.json"


def fingerprint(secret: str) -> str:
    """A non-reversible tag of a secret, to recognise it without storing it twice."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass
class StoredTokens:
    """The content of the token store."""

    origin: str  # fingerprint of the configured refresh token this chain descends from
    refresh_token: str
    access_token: str | None = None
    expires_at: float | None = None  # Unix time
    updated_at: float | None = None
    version: int = STORE_VERSION

    @classmethod
    def from_content(cls, content: dict[str, t.Any], where: str) -> StoredTokens:
        """From a store's decrypted content; a TapSlackError when it is not a chain."""
        known = {f.name for f in fields(cls)}
        try:
            tokens = cls(**{k: v for k, v in content.items() if k in known})
        except TypeError:
            tokens = None
        if tokens is None or not isinstance(tokens.refresh_token, str):
            raise TapSlackError(
                f"{where} holds no valid token chain; restore it from a backup, or "
                "re-authorise the Slack app"
            )
        # A hand-edited value of the wrong type would only fail later, mid-run.
        if not (
            isinstance(tokens.access_token, str | None)
            and _is_unix_time(tokens.expires_at)
            and _is_unix_time(tokens.updated_at)
        ):
            raise TapSlackError(
                f"{where} has an access_token, expires_at or updated_at of the wrong type "
                "(expires_at must be Unix seconds); restore it from a backup, or re-authorise "
                "the Slack app"
            )
        return tokens

    def content(self) -> dict[str, t.Any]:
        """What a store seals."""
        return asdict(self)


class StoreWriteError(TapSlackError):
    """The store could not take a write; the message says where and why."""


class ChainStore(t.Protocol):
    """One chain's view of a token store (see the module docstring)."""

    @property
    def location(self) -> str:
        """Where the chain lives, for messages (a path, or a table and its database)."""

    @property
    def key(self) -> StoreKey:
        """The key the chain is sealed with."""

    @property
    def chain(self) -> str:
        """The chain id."""

    def locked(self) -> t.ContextManager[None]:
        """Hold the chain's lock for one read-refresh-write."""

    def load(self) -> dict[str, t.Any] | None:
        """The chain, decrypted; ``None`` when the store has none yet."""

    def check_writable(self) -> None:
        """Raise StoreWriteError when a save would fail now (call it under the lock)."""

    def save(self, content: dict[str, t.Any]) -> None:
        """Store the chain, sealed; raise StoreWriteError when it cannot be stored."""

    def holds_plaintext(self) -> bool:
        """Whether the chain is still kept in clear (an older store), to be rewritten."""


def describe_os_error(exc: OSError) -> str:
    """``No space left on device`` rather than ``[Errno 28] ...`` or a bare ``28``."""
    reason = exc.strerror or type(exc).__name__
    return f"{reason} ({exc.filename})" if exc.filename else reason


def _is_unix_time(value: t.Any) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))
