"""OAuth v2 token rotation for Slack user tokens, with a durable token store.

Slack refresh tokens are single-use and access tokens live 12 hours. Meltano deletes the
tap's config file after each run, so a rotated refresh token kept only in config (or only in
memory) would be lost and the next run could not authenticate. The design:

- One :class:`RotatingTokenProvider` per tap process hands out the access token.
- The token store (a JSON file, mode 0600) keeps the current refresh token, access token and
  expiry. It is written atomically (temp file, fsync, rename) right after each refresh.
- A file lock next to the store is held while reading, refreshing and writing, so two
  concurrent runs never spend the same refresh token: the second one waits and then reuses
  the access token the first one stored.
- A stored access token is reused while it has more than ``REFRESH_MARGIN_SECONDS`` left,
  so most runs do not rotate at all.
- The store records a hash of the configured refresh token it descends from. A different
  configured refresh token (the user re-authorised) starts a new chain.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import time
import typing as t
from dataclasses import asdict, dataclass
from pathlib import Path

import filelock
import requests
from requests.auth import AuthBase, HTTPBasicAuth

from tap_slack_snow.errors import SlackAPIError, TapSlackError
from tap_slack_snow.transport import CallStats, RetryPolicy, read_slack_response

#: Refresh when the access token has less than this left (Slack's are 12 h long).
REFRESH_MARGIN_SECONDS = 15 * 60
#: Slack documents ``expires_in`` as always 43200 s; used if an answer omits it.
DEFAULT_EXPIRES_IN = 43200
#: How long a run waits for another run that is rotating the same token.
LOCK_TIMEOUT_SECONDS = 300.0
STORE_VERSION = 1


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
        """Write atomically: temp file in the same folder, fsync, rename, fsync the folder."""
        folder = self.path.parent
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp_name = tempfile.mkstemp(prefix=self.path.name + ".", suffix=".tmp", dir=folder)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(asdict(tokens), handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


class TokenProvider(t.Protocol):
    """Hands out the access token to put in the Authorization header."""

    def current(self) -> str:
        """A token believed valid now."""

    def refresh_after_expiry(self, failed_token: str) -> None:
        """Slack said ``token_expired`` for ``failed_token``: make ``current()`` valid."""


class StaticTokenProvider:
    """A non-rotating user token (``access_token`` setting)."""

    def __init__(self, access_token: str) -> None:
        """Keep the token."""
        self._token = access_token

    def current(self) -> str:
        """The configured token."""
        return self._token

    def refresh_after_expiry(self, failed_token: str) -> None:  # noqa: ARG002
        """A static token cannot be rotated."""
        raise TapSlackError(
            "Slack says access_token has expired: it is a rotating token. Configure "
            "client_id, client_secret and refresh_token instead of access_token"
        )


class RotatingTokenProvider:
    """Keeps a valid access token from a rotating refresh-token chain."""

    def __init__(
        self,
        *,
        api_url: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        store: TokenStore,
        retry: RetryPolicy,
        session: requests.Session,
        logger: logging.Logger,
        timeout: float = 60.0,
        clock: t.Callable[[], float] = time.time,
    ) -> None:
        """Wire the provider; nothing is read or sent until a token is needed."""
        self.token_url = api_url.rstrip("/") + "/oauth.v2.access"
        self.client_id = client_id
        self._client_secret = client_secret
        self._configured_refresh_token = refresh_token
        self._origin = fingerprint(refresh_token)
        self.store = store
        self.retry = retry
        self.session = session
        self.logger = logger
        self.timeout = timeout
        self.clock = clock
        self.stats = CallStats()
        self.refreshes = 0
        self._tokens: StoredTokens | None = None

    def _usable(self, tokens: StoredTokens | None) -> bool:
        return bool(
            tokens is not None
            and tokens.access_token
            and tokens.expires_at is not None
            and tokens.expires_at - self.clock() > REFRESH_MARGIN_SECONDS
        )

    def current(self) -> str:
        """The access token, rotating first when it is missing or near expiry."""
        tokens = self._tokens
        if tokens is None or not self._usable(tokens):
            tokens = self._tokens = self._obtain(failed_token=None)
        return tokens.access_token or ""

    def refresh_after_expiry(self, failed_token: str) -> None:
        """Rotate because Slack rejected ``failed_token`` as expired."""
        self._tokens = self._obtain(failed_token=failed_token)

    def _obtain(self, *, failed_token: str | None) -> StoredTokens:
        with self.store.locked():
            stored = self.store.load()
            if stored is not None and stored.origin != self._origin:
                self.logger.info(
                    "token store %s holds a chain from an earlier refresh_token; the config "
                    "has a new one, so starting a new chain",
                    self.store.path,
                )
                stored = None
            # Another run may have rotated while we waited for the lock: reuse its token.
            if self._usable(stored) and (
                failed_token is None or (stored is not None and stored.access_token != failed_token)
            ):
                assert stored is not None
                self.logger.info(
                    "Reusing the stored access token (valid for %.0f more minutes)",
                    ((stored.expires_at or 0) - self.clock()) / 60,
                )
                return stored
            refresh_token = stored.refresh_token if stored else self._configured_refresh_token
            fresh = self._refresh(refresh_token)
            self.store.save(fresh)
            self.refreshes += 1
            self.logger.info(
                "Rotated the Slack access token; the new refresh token is saved in %s",
                self.store.path,
            )
            return fresh

    def _refresh(self, refresh_token: str) -> StoredTokens:
        # Request-level auth: the shared session may carry the streams' Bearer auth.
        basic = HTTPBasicAuth(self.client_id, self._client_secret)

        def send() -> dict[str, t.Any]:
            sent_at = self.clock()
            response = self.session.post(
                self.token_url,
                data={"grant_type": "refresh_token", "refresh_token": refresh_token},
                auth=basic,
                timeout=self.timeout,
            )
            payload = read_slack_response(response, "oauth.v2.access")
            payload["_sent_at"] = sent_at
            return payload

        faults_before = self.stats.retries
        try:
            payload = self.retry.call(
                "oauth.v2.access", send, self.stats, api_url=self.token_url.rsplit("/", 1)[0]
            )
        except SlackAPIError as exc:
            if exc.code != "invalid_refresh_token" or self.stats.retries == faults_before:
                raise
            # An earlier attempt of this very refresh failed in transit: Slack most likely
            # rotated the token then, and its answer (the only copy of the new refresh token)
            # was lost. The old token is spent once Slack's grace period is over; nothing can
            # revive the chain, so say so instead of blaming the configuration.
            raise TapSlackError(
                f"{exc}. Here the answer to an earlier attempt of the same refresh was lost "
                "(network fault) after Slack had probably rotated the token, so the refresh "
                "token is spent: re-authorise the Slack app and put the new refresh_token in "
                "the config"
            ) from None
        return self._tokens_from(payload)

    def _tokens_from(self, payload: dict[str, t.Any]) -> StoredTokens:
        # A user-token refresh answers flat; some answers nest the user token under
        # authed_user (as the code exchange does). Prefer the user token when nested.
        nested = payload.get("authed_user")
        source = nested if isinstance(nested, dict) and nested.get("access_token") else payload
        access_token = source.get("access_token")
        new_refresh = source.get("refresh_token")
        if not isinstance(access_token, str) or not access_token:
            raise TapSlackError("oauth.v2.access answered ok but without an access_token")
        if not isinstance(new_refresh, str) or not new_refresh:
            raise TapSlackError(
                "oauth.v2.access answered without a new refresh_token: turn on token "
                "rotation for the app, or use the access_token setting"
            )
        expires_in = source.get("expires_in")
        if not isinstance(expires_in, int | float) or expires_in <= 0:
            expires_in = DEFAULT_EXPIRES_IN
        now = self.clock()
        return StoredTokens(
            origin=self._origin,
            refresh_token=new_refresh,
            access_token=access_token,
            expires_at=float(payload.get("_sent_at", now)) + float(expires_in),
            updated_at=now,
        )


class SlackAuthenticator(AuthBase):
    """Puts the current token in the Authorization header (never in a URL or body)."""

    def __init__(self, provider: TokenProvider) -> None:
        """Wrap a token provider."""
        self.provider = provider
        self.last_token = ""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Authenticate one request (called again on every retry)."""
        self.last_token = self.provider.current()
        request.headers["Authorization"] = f"Bearer {self.last_token}"
        return request

    def rotate_after_expiry(self) -> None:
        """Slack said ``token_expired`` for the last request: rotate that token.

        Requests are sent one at a time, so the last token handed out is the one rejected.
        """
        self.provider.refresh_after_expiry(self.last_token)


class SecretRedactor:
    """Replaces known secret values in every log record, whoever logs it.

    Installed as the logging record factory, so it also covers the SDK's and requests'
    loggers. Secrets never reach a log line on purpose; this is the safety net.
    """

    _secrets: t.ClassVar[set[str]] = set()
    _installed: t.ClassVar[bool] = False

    @classmethod
    def add(cls, *values: str | None) -> None:
        """Register secret values (short values are ignored to avoid mangling text)."""
        cls._secrets.update(v for v in values if v and len(v) >= 6)
        cls._install()

    @classmethod
    def redact(cls, text: str) -> str:
        """Mask every registered secret in ``text``."""
        for secret in cls._secrets:
            if secret in text:
                text = text.replace(secret, "***")
        return text

    @classmethod
    def _install(cls) -> None:
        if cls._installed:
            return
        cls._installed = True
        previous = logging.getLogRecordFactory()

        def factory(*args: t.Any, **kwargs: t.Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            if cls._secrets:
                try:
                    message = record.getMessage()
                except (TypeError, ValueError):
                    return record
                redacted = cls.redact(message)
                if redacted != message:
                    record.msg, record.args = redacted, None
            return record

        logging.setLogRecordFactory(factory)
