"""What ``exchange`` sets up for the tap: the token chain started in its store (or a rescue
file), the store options as the tap's settings, and the .env lines that point the tap at it.
"""

from __future__ import annotations

import os
import time
import typing as t
from dataclasses import dataclass
from pathlib import Path

import click

from tap_slack_snow.auth import open_store
from tap_slack_snow.auth.chain import ChainNotStoredError, keep_chain
from tap_slack_snow.auth.links import BrokenLinkError, describe_broken_link, follow_links
from tap_slack_snow.auth.store import describe_os_error
from tap_slack_snow.cli.common import DEFAULT_API_URL, UserError
from tap_slack_snow.cli.env_file import upsert_env_file
from tap_slack_snow.errors import TapSlackError
from tap_slack_snow.settings import ENV_PREFIX

if t.TYPE_CHECKING:
    from tap_slack_snow.auth.grant import Grant


@dataclass(frozen=True)
class StoreOptions:
    """The token store options, as the tap's settings of the same names."""

    path: Path | None
    url: str | None
    schema: str | None

    @classmethod
    def given(cls, path: Path | None, url: str | None, schema: str | None) -> StoreOptions:
        """The options as given; a usage error when both a path and a URL are."""
        if path and url:
            raise click.UsageError("give at most one of --token-store-path and --token-store-url")
        return cls(path, url, schema)

    def check(self, *, client_id: str, client_secret: str) -> None:
        """The store options as the tap will read them, checked before the code is spent: a
        store path through a dangling or looping link (followed, never replaced:
        :mod:`tap_slack_snow.auth.links`), or a store setting the tap refuses, is one line
        while the authorisation is still unused."""
        still_unused = (
            "; the authorisation is still unused: fix it and run the same exchange command "
            "again within 10 minutes"
        )
        if self.path is not None:
            try:
                follow_links(self.path.expanduser())
            except BrokenLinkError as exc:
                line = describe_broken_link(exc, "--token-store-path")
                raise UserError(line + still_unused) from None
        settings = self.settings(
            client_id=client_id, client_secret=client_secret, refresh_token="not-yet"
        )
        try:
            open_store(settings)
        except TapSlackError as exc:
            raise UserError(f"{exc}{still_unused}") from None

    def settings(
        self, *, client_id: str, client_secret: str, refresh_token: str
    ) -> dict[str, t.Any]:
        """The tap settings that choose the store of this chain."""
        return {
            "client_id": client_id,
            "client_secret": client_secret,
            "refresh_token": refresh_token,
            "token_store_path": str(self.path.expanduser()) if self.path else None,
            "token_store_url": self.url,
            "token_store_schema": self.schema,
            "token_store_key": os.environ.get(ENV_PREFIX + "TOKEN_STORE_KEY") or None,
        }

    def env(self, location: str) -> dict[str, str]:
        """The .env lines that point the tap at the same store (none for the default)."""
        values: dict[str, str] = {}
        if self.path:
            values[ENV_PREFIX + "TOKEN_STORE_PATH"] = location
        if self.url:
            values[ENV_PREFIX + "TOKEN_STORE_URL"] = self.url
            if self.schema:
                values[ENV_PREFIX + "TOKEN_STORE_SCHEMA"] = self.schema
        return values


@dataclass
class TapSetup:
    """How the tap is to be configured: the lines saying so, the .env values, and the
    store's error to end with (the .env is written even then: it holds the refresh token).

    ``chain`` and ``location`` name where a rotating chain was started (for
    ``show-refresh-token``); ``rescue_file`` where it went when the store failed.
    """

    lines: list[str]
    env_values: dict[str, str]
    env_remove: list[str]
    store_error: UserError | None = None
    rotating: bool = True
    chain: str | None = None
    location: str | None = None
    rescue_file: Path | None = None


@dataclass
class StartedChain:
    """Where ``start_chain`` put the chain: its store (and chain id), or the error and the
    rescue file that holds it instead."""

    location: str
    chain: str
    error: UserError | None = None
    rescue_file: Path | None = None


def start_chain(
    grant: Grant, refresh_token: str, stores: StoreOptions, *, client_id: str, client_secret: str
) -> StartedChain:
    """Start the tap's chain in its store (or a rescue file).

    The chain's origin is the fingerprint of this refresh token, the one the user puts in
    the config: the tap then recognises the chain and reuses the access token.
    """
    settings = stores.settings(
        client_id=client_id, client_secret=client_secret, refresh_token=refresh_token
    )
    try:
        store = open_store(settings)
    except TapSlackError as exc:  # checked before the code was spent (StoreOptions.check)
        raise UserError(str(exc)) from None
    try:
        keep_chain(store, grant.chain(updated_at=time.time()), take_lock=True)
    except ChainNotStoredError as exc:
        return StartedChain(store.location, store.chain, UserError(str(exc)), exc.rescue_file)
    except TapSlackError as exc:
        return StartedChain(store.location, store.chain, UserError(str(exc)))
    return StartedChain(store.location, store.chain)


def set_up_rotation(
    grant: Grant,
    refresh_token: str,
    stores: StoreOptions,
    *,
    client_id: str,
    client_secret: str,
    api_url: str,
) -> TapSetup:
    """A rotating grant: the chain goes to the token store, the .env gets the app's values."""
    started = start_chain(
        grant, refresh_token, stores, client_id=client_id, client_secret=client_secret
    )
    location, store_error = started.location, started.error
    lines = [
        f"  token rotation:    on (access token valid {grant.expires_in / 3600:.0f} h; the "
        "refresh token is single-use and the tap keeps rotating it)",
        f"  token store:       {location}" + (" (NOT written)" if store_error else ""),
    ]
    env_values = {
        ENV_PREFIX + "CLIENT_ID": client_id,
        ENV_PREFIX + "CLIENT_SECRET": client_secret,
        ENV_PREFIX + "REFRESH_TOKEN": refresh_token,
        **stores.env(location),
    }
    if api_url.rstrip("/") != DEFAULT_API_URL:
        # The refresh must go where the code was exchanged (e.g. GovSlack).
        env_values[ENV_PREFIX + "API_URL"] = api_url
    # The tap refuses access_token next to the refresh-token settings.
    return TapSetup(
        lines,
        env_values,
        [ENV_PREFIX + "ACCESS_TOKEN"],
        store_error,
        chain=started.chain,
        location=location,
        rescue_file=started.rescue_file,
    )


def set_up_static(grant: Grant) -> TapSetup:
    """A grant without rotation: the user token never expires; it is the access_token."""
    return TapSetup(
        [
            "  token rotation:    OFF (the user token never expires; configure it as "
            "access_token, or enable rotation in the app and authorise again)"
        ],
        {ENV_PREFIX + "ACCESS_TOKEN": grant.access_token},
        [ENV_PREFIX + k for k in ("CLIENT_ID", "CLIENT_SECRET", "REFRESH_TOKEN")],
        rotating=False,
    )


def set_up_tap(
    grant: Grant, stores: StoreOptions, *, client_id: str, client_secret: str, api_url: str
) -> TapSetup:
    """The tap's set-up for this grant: a rotating chain, or a static user token."""
    if grant.refresh_token is None:
        return set_up_static(grant)
    return set_up_rotation(
        grant,
        grant.refresh_token,
        stores,
        client_id=client_id,
        client_secret=client_secret,
        api_url=api_url,
    )


def write_env_file(path: Path, setup: TapSetup) -> list[str]:
    """Set the tap's values in the .env file; the line saying so."""
    try:
        upsert_env_file(path, setup.env_values, setup.env_remove)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {describe_os_error(exc)}") from None
    return [f"  .env:              {path} ({', '.join(setup.env_values)})"]
