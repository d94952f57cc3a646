"""The token store: one JSON file per token chain, locked while rotating, written atomically."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import typing as t
from dataclasses import asdict, dataclass
from pathlib import Path

import filelock

from tap_slack_snow.errors import TapSlackError

#: How long a run waits for another run that is rotating the same token.
LOCK_TIMEOUT_SECONDS = 300.0
STORE_VERSION = 1


def write_private_file(path: Path, text: str) -> None:
    """Write ``text`` atomically with mode 0600: temp file in the same folder, fsync, rename,
    fsync the folder.

    Every private file the project writes goes through here (token store, ``.env``, OAuth
    states): a crash or a full disk leaves the old file or the new one, never half of one.
    """
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp_name = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=folder)
    try:
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
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def default_token_store_path(client_id: str, refresh_token: str) -> Path:
    """Where tokens are kept when ``token_store_path`` is not set.

    ``$XDG_STATE_HOME/tap-slack-snow/`` (default ``~/.local/state/tap-slack-snow/``), one
    file per app and authorisation, so two configs never share (and break) one chain.
    """
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    digest = hashlib.sha256(f"{client_id}\0{refresh_token}".encode()).hexdigest()[:16]
    return Path(base) / "tap-slack-snow" / f"tokens-{digest}.json"


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


class TokenStore:
    """A JSON file holding the current token chain, written atomically under a lock."""

    def __init__(self, path: Path, *, lock_timeout: float = LOCK_TIMEOUT_SECONDS) -> None:
        """Point at the store file (created on first refresh)."""
        self.path = path
        self.lock_timeout = lock_timeout

    @contextlib.contextmanager
    def locked(self) -> t.Iterator[None]:
        """Hold the store's lock (a ``.lock`` file beside it) for a read-refresh-write."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock = filelock.FileLock(str(self.path) + ".lock", timeout=self.lock_timeout)
        try:
            with lock:
                yield
        except filelock.Timeout:
            raise TapSlackError(
                f"another tap-slack-snow run has held the token store lock {lock.lock_file} "
                f"for over {self.lock_timeout:.0f} s; wait for it to finish"
            ) from None

    def load(self) -> StoredTokens | None:
        """Read the store; ``None`` when it does not exist yet."""
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            data = json.loads(raw)
            return StoredTokens(
                origin=str(data["origin"]),
                refresh_token=str(data["refresh_token"]),
                access_token=data.get("access_token"),
                expires_at=data.get("expires_at"),
                updated_at=data.get("updated_at"),
                version=int(data.get("version", STORE_VERSION)),
            )
        except (ValueError, KeyError, TypeError):
            raise TapSlackError(
                f"token store {self.path} is not a valid tap-slack-snow token store; "
                "restore it from a backup, or delete it and re-authorise"
            ) from None

    def save(self, tokens: StoredTokens) -> None:
        """Replace the store atomically (see :func:`write_private_file`)."""
        write_private_file(self.path, json.dumps(asdict(tokens)))
