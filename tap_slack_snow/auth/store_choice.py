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

STORE_SETTINGS = ("token_store_path", "token_store_url", "token_store_schema", "token_store_key")


def store_setting_errors(config: t.Mapping[str, t.Any]) -> list[str]:
    """Mistakes in the store settings, each a line naming the setting and the fix."""
    errors = []
    url = str(config.get("token_store_url") or "")
    if url and config.get("token_store_path"):
        errors.append("Set token_store_url (a database) or token_store_path (a file), not both")
    if url:
        from tap_slack_snow.auth.pg_store import is_database_url  # noqa: PLC0415

        if not is_database_url(url):
            errors.append(
                "token_store_url must be a PostgreSQL URL (postgresql://USER:PASSWORD@HOST:"
                "PORT/DATABASE, or postgresql+psycopg://...)"
            )
    key = config.get("token_store_key")
    if key is not None and len(str(key)) < 16:
        errors.append(
            "token_store_key is too short: use at least 16 random characters "
            "(e.g. the output of: openssl rand -hex 32)"
        )
    return errors


def open_store(
    config: t.Mapping[str, t.Any],
    *,
    chain: str | None = None,
    lock_timeout: float = LOCK_TIMEOUT_SECONDS,
) -> ChainStore:
    """The store of this config's chain (or of ``chain``, e.g. a rescue file's)."""
    errors = store_setting_errors(config)
    if errors:
        raise TapSlackError(errors[0])
    client_id = str(config["client_id"])
    refresh_token = str(config.get("refresh_token") or "")
    if chain is None:
        chain = chain_id(client_id, refresh_token)
    key = StoreKey.derive(
        client_secret=str(config["client_secret"]),
        token_store_key=config.get("token_store_key") or None,
    )
    url = config.get("token_store_url")
    if url:
        from tap_slack_snow.auth.pg_store import DEFAULT_SCHEMA, PostgresChainStore  # noqa: PLC0415

        return PostgresChainStore(
            str(url),
            chain=chain,
            key=key,
            lock_timeout=lock_timeout,
            schema=str(config.get("token_store_schema") or DEFAULT_SCHEMA),
        )
    path = (
        Path(str(config["token_store_path"])).expanduser()
        if config.get("token_store_path")
        else default_token_store_path(client_id, refresh_token)
    )
    return FileChainStore(
        path,
        chain=chain,
        origin=fingerprint(refresh_token),
        key=key,
        lock_timeout=lock_timeout,
    )
