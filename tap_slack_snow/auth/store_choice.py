"""Which token store a config means: the file (default) or a PostgreSQL table.

Settings: ``token_store_path`` (a file), ``token_store_url`` (a PostgreSQL URL, also in
SQLAlchemy's ``postgresql+psycopg://`` spelling), ``token_store_schema`` (the table's
schema, default ``public``) and ``token_store_key`` (the encryption key; default: derived
from ``client_secret``).
"""

from __future__ import annotations

import typing as t
from pathlib import Path

from tap_slack_snow.auth.crypto import StoreKey, chain_id
from tap_slack_snow.auth.file_store import FileChainStore
from tap_slack_snow.auth.store import (
    LOCK_TIMEOUT_SECONDS,
    ChainStore,
    default_token_store_path,
    fingerprint,
)
from tap_slack_snow.errors import TapSlackError
from tap_slack_snow.settings import Settings


def open_store(
    settings: Settings | t.Mapping[str, t.Any],
    *,
    chain: str | None = None,
    lock_timeout: float = LOCK_TIMEOUT_SECONDS,
) -> ChainStore:
    """The store of these settings' chain (or of ``chain``, e.g. a rescue file's).

    ``settings`` may be a config mapping (the set-up CLI's and the tests'), read as the tap
    reads it.
    """
    if not isinstance(settings, Settings):
        settings = Settings.from_config(settings)
    errors = settings.store_errors()
    if errors:
        raise TapSlackError(errors[0])
    client_id = settings.client_id or ""
    refresh_token = settings.refresh_token or ""
    if chain is None:
        chain = chain_id(client_id, refresh_token)
    key = StoreKey.derive(
        client_secret=settings.client_secret or "",
        token_store_key=settings.token_store_key or None,
    )
    if settings.token_store_url:
        from tap_slack_snow.auth.pg_store import PostgresChainStore  # noqa: PLC0415

        return PostgresChainStore(
            settings.token_store_url,
            chain=chain,
            key=key,
            lock_timeout=lock_timeout,
            schema=settings.token_store_schema,
        )
    path = (
        Path(settings.token_store_path).expanduser()
        if settings.token_store_path
        else default_token_store_path(client_id, refresh_token)
    )
    return FileChainStore(
        path,
        chain=chain,
        origin=fingerprint(refresh_token),
        key=key,
        lock_timeout=lock_timeout,
    )
