"""Token providers: a static user token, or a rotating OAuth v2 refresh-token chain."""

from __future__ import annotations

import logging
import threading
import time
import typing as t

from requests.auth import HTTPBasicAuth

from tap_slack_snow.auth.chain import keep_chain, new_chain_pending
from tap_slack_snow.auth.grant import parse_grant
from tap_slack_snow.auth.store import ChainStore, StoredTokens, StoreWriteError, fingerprint
from tap_slack_snow.errors import TapSlackError
from tap_slack_snow.redact import SecretRedactor
from tap_slack_snow.slack.errors import SlackAPIError
from tap_slack_snow.slack.retry import CallStats

if t.TYPE_CHECKING:
    from tap_slack_snow.slack.client import SlackClient

#: Refresh when the access token has less than this left (Slack's are 12 h long).
REFRESH_MARGIN_SECONDS = 15 * 60


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
        client_id: str,
        client_secret: str,
        refresh_token: str,
        store: ChainStore,
        client: SlackClient,
        logger: logging.Logger,
        clock: t.Callable[[], float] = time.time,
    ) -> None:
        """Wire the provider; nothing is read or sent until a token is needed.

        ``client`` sends oauth.v2.access under the run's api_url with the run's retry policy.
        """
        self.client_id = client_id
        self._client_secret = client_secret
        self._configured_refresh_token = refresh_token
        self._origin = fingerprint(refresh_token)
        self.store = store
        self.client = client
        self.logger = logger
        self.clock = clock
        self.stats = CallStats()
        self.refreshes = 0
        self._tokens: StoredTokens | None = None
        # Streams fetch in several threads: one check-and-refresh at a time, so several
        # threads seeing the same expiry rotate once.
        self._lock = threading.Lock()

    def _usable(self, tokens: StoredTokens | None) -> bool:
        return bool(
            tokens is not None
            and tokens.access_token
            and tokens.expires_at is not None
            and tokens.expires_at - self.clock() > REFRESH_MARGIN_SECONDS
        )

    @property
    def held(self) -> StoredTokens | None:
        """The chain this run holds (None before the first ``current()``)."""
        return self._tokens

    def current(self) -> str:
        """The access token, rotating first when it is missing or near expiry."""
        tokens = self._tokens
        if tokens is None or not self._usable(tokens):
            with self._lock:
                tokens = self._tokens
                if tokens is None or not self._usable(tokens):
                    tokens = self._tokens = self._obtain(failed_token=None)
        return tokens.access_token or ""

    def refresh_after_expiry(self, failed_token: str) -> None:
        """Rotate because Slack rejected ``failed_token`` as expired.

        If another thread has already replaced that token, its new one is used as is.
        """
        with self._lock:
            tokens = self._tokens
            if tokens is not None and tokens.access_token and tokens.access_token != failed_token:
                return
            self._tokens = self._obtain(failed_token=failed_token)

    def _obtain(self, *, failed_token: str | None) -> StoredTokens:
        store = self.store
        with store.locked():
            stored = self._load()
            # Another run may have rotated while we waited for the lock: reuse its token.
            if self._usable(stored) and (
                failed_token is None or (stored is not None and stored.access_token != failed_token)
            ):
                assert stored is not None
                self._migrate(stored)
                self.logger.info(
                    "Reusing the stored access token (valid for %.0f more minutes)",
                    ((stored.expires_at or 0) - self.clock()) / 60,
                )
                return stored
            # Spend the refresh token only on a store that can take what it buys.
            store.check_writable()
            # Once Slack answers, the new refresh token exists only in memory until saved:
            # a SIGTERM or SIGINT meanwhile waits for the save (or the rescue file).
            with new_chain_pending():
                fresh = self._refresh(stored)
                keep_chain(store, fresh, take_lock=False)
                self.refreshes += 1
                self.logger.info(
                    "Rotated the Slack access token; the new refresh token is saved in %s",
                    store.location,
                )
            return fresh

    def _load(self) -> StoredTokens | None:
        content = self.store.load()
        if content is None:
            return None
        stored = StoredTokens.from_content(content, f"token store {self.store.location}")
        SecretRedactor.add(stored.refresh_token, stored.access_token)
        if stored.origin != self._origin:
            # A chain id collision of another authorisation: never spend its token.
            raise TapSlackError(
                f"token store {self.store.location} holds a chain of another authorisation "
                "under this chain's id; restore the store from a backup, or re-authorise"
            )
        return stored

    def _migrate(self, stored: StoredTokens) -> None:
        """Rewrite a chain still kept in clear (an older file store) encrypted."""
        if not self.store.holds_plaintext():
            return
        try:
            self.store.save(stored.content())
        except StoreWriteError as exc:
            self.logger.warning("Could not rewrite the token store encrypted yet: %s", exc)
        else:
            self.logger.info("Token store %s rewritten encrypted", self.store.location)

    def _refresh(self, stored: StoredTokens | None) -> StoredTokens:
        refresh_token = stored.refresh_token if stored else self._configured_refresh_token
        faults_before = self.stats.retries
        try:
            answer = self.client.call(
                "oauth.v2.access",
                data={"grant_type": "refresh_token", "refresh_token": refresh_token},
                # Request-level auth: the shared session may carry the streams' Bearer auth.
                auth=HTTPBasicAuth(self.client_id, self._client_secret),
                stats=self.stats,
            )
        except SlackAPIError as exc:
            if exc.code != "invalid_refresh_token":
                raise
            if self.stats.retries != faults_before:
                # An earlier attempt of this very refresh failed in transit: Slack most
                # likely rotated the token then, and its answer (the only copy of the new
                # refresh token) was lost. The old token is spent once Slack's grace period
                # is over; nothing can revive the chain, so say so instead of blaming the
                # configuration.
                raise TapSlackError(
                    f"{exc}. Here the answer to an earlier attempt of the same refresh was "
                    "lost (network fault) after Slack had probably rotated the token, so the "
                    "refresh token is spent: re-authorise the Slack app and put the new "
                    "refresh_token in the config"
                ) from None
            if stored is None:
                # This store never rotated the configured token, yet Slack says it is spent:
                # a run with another store (machine, CI cache) used it first.
                raise TapSlackError(
                    f"{exc}. This token store ({self.store.location}) never used the "
                    "configured refresh_token, so most likely another run with another token "
                    "store (another machine, container or CI cache) already rotated it and "
                    "holds the chain now: use that store, or share one store between all "
                    "runs (token_store_url, a PostgreSQL database)"
                ) from None
            raise
        grant = parse_grant(answer.payload, sent_at=answer.sent_at, grant_type="refresh")
        return grant.chain(origin=self._origin, updated_at=self.clock())
