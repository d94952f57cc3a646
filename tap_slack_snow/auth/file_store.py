"""The file backend of the token store: a JSON file of sealed chains, one entry per chain,
written atomically under a file lock; a store named through a symbolic link is the file the
link names (:mod:`.links`)."""

from __future__ import annotations

import contextlib
import json
import time
import typing as t
from pathlib import Path

import filelock

from tap_slack_snow.auth.crypto import EnvelopeError, StoreKey, describe_envelope_error
from tap_slack_snow.auth.links import BrokenLinkError, describe_broken_link, follow_links
from tap_slack_snow.auth.store import StoreWriteError, describe_os_error, write_private_file
from tap_slack_snow.errors import TapSlackError

FILE_FORMAT = "tap-slack-snow token store"
FILE_VERSION = 2


class FileChainStore:
    """A JSON file (mode 0600) of sealed chains, written atomically under a file lock.

    File format 2: ``{"format", "version": 2, "chains": {chain id: {"envelope",
    "updated_at"}}}``. A format-1 file (one plaintext chain, what releases before 0.2
    wrote) is read as it is: the chain it holds is adopted by the config it descends from
    (same ``origin``) and rewritten encrypted; until then it is kept as it is under
    ``plaintext_v1``, so a second app sharing the file never destroys it.
    """

    def __init__(
        self, path: Path, *, chain: str, origin: str, key: StoreKey, lock_timeout: float
    ) -> None:
        """Point at the file (created on the first write)."""
        self.path = path
        self._chain = chain
        self._origin = origin
        self._key = key
        self.lock_timeout = lock_timeout

    @property
    def location(self) -> str:
        """The file's path."""
        return str(self.path)

    @property
    def key(self) -> StoreKey:
        """The sealing key."""
        return self._key

    @property
    def chain(self) -> str:
        """The chain id."""
        return self._chain

    def real_path(self) -> Path:
        """The file the store is, its symbolic links followed (:mod:`.links`): where it is
        read, written and locked; a StoreWriteError for a dangling link or a loop."""
        try:
            return follow_links(self.path)
        except BrokenLinkError as exc:
            # An empty file is an empty store: "create the file" starts the chain there.
            line = describe_broken_link(exc, "token_store_path")
            raise StoreWriteError(f"{line} (no refresh token was spent)") from None

    @contextlib.contextmanager
    def locked(self) -> t.Iterator[None]:
        """Hold the store's lock (a ``.lock`` file beside the real file) for a
        read-refresh-write: two links to one file share it."""
        real = self.real_path()
        try:
            real.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise StoreWriteError(
                f"cannot create the token store folder {real.parent}: "
                f"{describe_os_error(exc)}; fix it or set token_store_path to a writable place "
                "(no refresh token was spent)"
            ) from None
        lock = filelock.FileLock(str(real) + ".lock", timeout=self.lock_timeout)
        try:
            with lock:
                yield
        except filelock.Timeout:
            raise TapSlackError(
                f"another tap-slack-snow run has held the token store lock {lock.lock_file} "
                f"for over {self.lock_timeout:g} s; wait for it to finish"
            ) from None
        except OSError as exc:
            if exc.filename and str(exc.filename).endswith(".lock"):
                raise StoreWriteError(
                    f"cannot create the token store lock {lock.lock_file}: "
                    f"{describe_os_error(exc)}; fix it or set token_store_path to a writable "
                    "place (no refresh token was spent)"
                ) from None
            raise

    def _read_document(self) -> dict[str, t.Any]:
        try:
            raw = self.real_path().read_text(encoding="utf-8")
        except FileNotFoundError:
            raw = ""
        except UnicodeDecodeError:
            raw = "binary"  # garbage: not a store (the line below says so)
        except OSError as exc:
            raise TapSlackError(
                f"cannot read the token store {self.path}: {describe_os_error(exc)}"
            ) from None
        if not raw.strip():
            # No file yet, or an empty one (``touch``: "start the chain here").
            return {"format": FILE_FORMAT, "version": FILE_VERSION, "chains": {}}
        try:
            document = json.loads(raw)
        except ValueError:
            document = None
        if isinstance(document, dict) and "chains" not in document:
            document = self._from_format_1(document)
        if not isinstance(document, dict) or not isinstance(document.get("chains"), dict):
            raise TapSlackError(
                f"token store {self.path} is not a valid tap-slack-snow token store; "
                "restore it from a backup, or delete it and re-authorise"
            )
        return document

    @staticmethod
    def _from_format_1(plain: dict[str, t.Any]) -> dict[str, t.Any] | None:
        if not isinstance(plain.get("origin"), str) or not isinstance(
            plain.get("refresh_token"), str
        ):
            return None
        return {"format": FILE_FORMAT, "version": FILE_VERSION, "chains": {}, "plaintext_v1": plain}

    def load(self) -> dict[str, t.Any] | None:
        """This chain, decrypted (or adopted from a format-1 file); None when absent."""
        document = self._read_document()
        entry = document["chains"].get(self._chain)
        if entry is None:
            legacy = document.get("plaintext_v1")
            if isinstance(legacy, dict) and legacy.get("origin") == self._origin:
                return {key: value for key, value in legacy.items() if key != "version"}
            return None
        try:
            return self._key.open(self._chain, entry.get("envelope"))
        except (EnvelopeError, AttributeError) as exc:
            error = exc if isinstance(exc, EnvelopeError) else EnvelopeError("damaged")
            raise TapSlackError(
                describe_envelope_error(error, where=f"token store {self.path}", key=self._key)
            ) from None

    def holds_plaintext(self) -> bool:
        """Whether this chain is still in a format-1 (plaintext) file, to be rewritten."""
        legacy = self._read_document().get("plaintext_v1")
        return isinstance(legacy, dict) and legacy.get("origin") == self._origin

    def check_writable(self) -> None:
        """Rewrite the file as it is (creating it if new): the next save will fit too."""
        document = self._read_document()
        try:
            self._write(document)
        except StoreWriteError as exc:
            raise StoreWriteError(
                f"{exc}: make room or fix its permissions, or set token_store_path to a "
                "writable place (no refresh token was spent)"
            ) from None

    def save(self, content: dict[str, t.Any]) -> None:
        """Seal ``content`` into this chain's entry, leaving every other chain as it was."""
        document = self._read_document()
        document["chains"][self._chain] = {
            "envelope": self._key.seal(self._chain, content),
            "updated_at": time.time(),
        }
        legacy = document.get("plaintext_v1")
        if isinstance(legacy, dict) and legacy.get("origin") == self._origin:
            del document["plaintext_v1"]  # migrated: no token stays in clear
        self._write(document)

    def _write(self, document: dict[str, t.Any]) -> None:
        try:
            write_private_file(self.real_path(), json.dumps(document, indent=1) + "\n")
        except OSError as exc:
            raise StoreWriteError(
                f"cannot write the token store {self.path}: {describe_os_error(exc)}"
            ) from None
