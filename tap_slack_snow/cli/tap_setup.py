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
from tap_slack_snow.auth.chain import keep_chain
from tap_slack_snow.auth.links import BrokenLinkError, describe_broken_link, follow_links
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

    def check_path(self) -> None:
        """A store path through a dangling or looping link: one line, before the code is
        spent (the link is followed, never replaced: :mod:`tap_slack_snow.auth.links`)."""
        if self.path is None:
            return
        try:
            follow_links(self.path.expanduser())
        except BrokenLinkError as exc:
            raise UserError(
                f"{describe_broken_link(exc, '--token-store-path')}; the authorisation is "
                "still unused: run the same exchange command again within 10 minutes"
            ) from None

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
    store's error to end with (the .env is written even then: it holds the refresh token)."""

    lines: list[str]
    env_values: dict[str, str]
    env_remove: list[str]
    store_error: UserError | None = None


def start_chain(
    grant: Grant, refresh_token: str, stores: StoreOptions, *, client_id: str, client_secret: str
) -> tuple[str, UserError | None]:
    """Start the tap's chain in its store (or a rescue file); the store's location, and the
    error to end with when it could not be written.

    The chain's origin is the fingerprint of this refresh token, the one the user puts in
    the config: the tap then recognises the chain and reuses the access token.
    """
    settings = stores.settings(
        client_id=client_id, client_secret=client_secret, refresh_token=refresh_token
    )
    try:
        store = open_store(settings)
    except TapSlackError as exc:
        raise UserError(str(exc)) from None
    try:
        keep_chain(store, grant.chain(updated_at=time.time()), take_lock=True)
    except TapSlackError as exc:
        return store.location, UserError(str(exc))
    return store.location, None


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
    location, store_error = start_chain(
        grant, refresh_token, stores, client_id=client_id, client_secret=client_secret
    )
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
    return TapSetup(lines, env_values, [ENV_PREFIX + "ACCESS_TOKEN"], store_error)


def set_up_static(grant: Grant) -> TapSetup:
    """A grant without rotation: the user token never expires; it is the access_token."""
    return TapSetup(
        [
            "  token rotation:    OFF (the user token never expires; configure it as "
            "access_token, or enable rotation in the app and authorise again)"
        ],
        {ENV_PREFIX + "ACCESS_TOKEN": grant.access_token},
        [ENV_PREFIX + k for k in ("CLIENT_ID", "CLIENT_SECRET", "REFRESH_TOKEN")],
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
    """Set the tap's values in the .env file; the lines saying so and what comes next."""
    try:
        upsert_env_file(path, setup.env_values, setup.env_remove)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc}") from None
    return [
        f"  .env:              {path} ({', '.join(setup.env_values)})",
        f"Next: tap-slack-snow-auth check --env-file {path}",
    ]
