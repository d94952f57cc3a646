"""OAuth v2 token rotation for Slack user tokens, with a durable token store.

Slack refresh tokens are single-use and access tokens live 12 hours. Meltano deletes the
tap's config file after each run, so a rotated refresh token kept only in config (or only in
memory) would be lost and the next run could not authenticate. The design:

- One :class:`RotatingTokenProvider` per tap process hands out the access token.
- The token store (a file, or a PostgreSQL table: ``file_store``, ``pg_store``) keeps the
  current refresh token, access token and expiry, encrypted (``crypto``), one chain per
  Slack app and authorisation: a new configured refresh token (the user re-authorised)
  starts a new chain, and another app's chain is never touched.
- The store's lock (a file lock, or a row lock) is held while reading, refreshing and
  writing, so two concurrent runs never spend the same refresh token: the second one waits
  and then reuses the access token the first one stored.
- Before a refresh token is spent, the store proves it can take the new chain; if it still
  fails after Slack rotated, the new chain goes to a rescue file (``rescue``), never lost.
- A stored access token is reused while it has more than ``REFRESH_MARGIN_SECONDS`` left,
  so most runs do not rotate at all.
- Every token the run reads or receives is registered with the log redactor.

Why not the SDK's ``OAuthAuthenticator``: it refreshes in memory and keeps the new token on
the authenticator, with no hook between Slack's answer and the next request. A Slack refresh
token is single-use, so the new one must be persisted, under the store's lock, before
anything else happens (before the lock is released, before any request uses the new access
token); otherwise a crash or a second run loses the chain. The provider owns that
read-refresh-write under one lock; :class:`SlackAuthenticator` only puts its token in the
header.

Modules: :mod:`.store` (the chain, the backend interface and the atomic write every
private file uses), :mod:`.crypto` (the encrypted envelope), :mod:`.file_store` and
:mod:`.pg_store` (the backends), :mod:`.store_choice` (which backend a config means),
:mod:`.rescue` (rescue files and their restore), :mod:`.grant` (the one reading of an
oauth.v2.access answer, refresh or code exchange), :mod:`.chain` (keeping a new chain: the
store, else a rescue file), :mod:`.providers` (static and rotating token sources),
:mod:`.authenticator` (the header).
"""

from __future__ import annotations

from tap_slack_snow.auth.authenticator import SlackAuthenticator
from tap_slack_snow.auth.grant import DEFAULT_EXPIRES_IN
from tap_slack_snow.auth.providers import (
    REFRESH_MARGIN_SECONDS,
    RotatingTokenProvider,
    StaticTokenProvider,
    TokenProvider,
)
from tap_slack_snow.auth.store import (
    ChainStore,
    StoredTokens,
    StoreWriteError,
    default_token_store_path,
    fingerprint,
    write_private_file,
)
from tap_slack_snow.auth.store_choice import open_store

__all__ = [
    "DEFAULT_EXPIRES_IN",
    "REFRESH_MARGIN_SECONDS",
    "ChainStore",
    "RotatingTokenProvider",
    "SlackAuthenticator",
    "StaticTokenProvider",
    "StoreWriteError",
    "StoredTokens",
    "TokenProvider",
    "default_token_store_path",
    "fingerprint",
    "open_store",
    "write_private_file",
]
