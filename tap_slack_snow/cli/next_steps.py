"""What ``exchange`` ends with: a "Next:" line and the commands it names, each on a line of
its own (copied as is), every one a step the user can take now, never one that needs the
browser flow again when the tokens are already kept somewhere.

The token store and rescue files are encrypted, so without ``--write-env`` or
``--show-secrets`` the refresh token is read back with ``show-refresh-token`` (the command
names the chain id and the store, or the rescue file).
"""

from __future__ import annotations

import shlex
import typing as t

if t.TYPE_CHECKING:
    from pathlib import Path

    from tap_slack_snow.cli.tap_setup import StoreOptions, TapSetup

AUTH = "tap-slack-snow-auth"
CHECK_CONFIG = f"  {AUTH} check --config config.json"


def quoted(path: Path | str | None) -> str:
    """A path as a shell word."""
    return shlex.quote(str(path))


def next_step(
    setup: TapSetup, stores: StoreOptions, *, env_file: Path | None, show_secrets: bool
) -> list[str]:
    """The Next line and its commands for this set-up and these options."""
    if env_file is not None and setup.store_error is None:
        return [
            "Next: check the tap's set-up with",
            f"  {AUTH} check --env-file {quoted(env_file)}",
        ]
    if not setup.rotating:
        return static_step(show_secrets=show_secrets)
    if setup.store_error is not None:
        return rescued_step(setup, env_file, show_secrets=show_secrets)
    settings = store_settings(setup, stores)
    if show_secrets:
        return [
            f"Next: put {settings} in the tap's config (the refresh token is printed above), "
            "then run",
            CHECK_CONFIG,
        ]
    return [
        f"Next: put {settings} in the tap's config. The store keeps the refresh token "
        "encrypted: print it once with",
        *show_command(setup, stores),
        "then run",
        CHECK_CONFIG,
    ]


def store_settings(setup: TapSetup, stores: StoreOptions) -> str:
    """The settings the config needs: the credentials, and the store's unless it is the
    default."""
    names = ["client_id", "client_secret", "refresh_token"]
    if stores.url:
        names += ["token_store_url", *(["token_store_schema"] if stores.schema else [])]
    elif stores.path:
        names.append(f"token_store_path {setup.location}")
    return ", ".join(names[:-1]) + " and " + names[-1]


def show_command(setup: TapSetup, stores: StoreOptions) -> list[str]:
    """``show-refresh-token`` for the chain exchange just stored."""
    command = f"  {AUTH} show-refresh-token --chain {setup.chain}"
    if stores.url:
        schema = " and TAP_SLACK_SNOW_TOKEN_STORE_SCHEMA" if stores.schema else ""
        return [command, f"(with TAP_SLACK_SNOW_TOKEN_STORE_URL{schema} set as for this exchange)"]
    return [f"{command} --token-store-path {quoted(setup.location)}"]


def rescued_step(setup: TapSetup, env_file: Path | None, *, show_secrets: bool) -> list[str]:
    """The store failed: restore the rescue file once it is fixed (the last line says why)."""
    rescue = setup.rescue_file
    if rescue is None:
        return ["Next: once the disk is fixed, run authorize-url and exchange again"]
    restore = f"  {AUTH} restore --from {quoted(rescue)}"
    if env_file is not None:
        env = quoted(env_file)
        return [
            "Next: once the token store is fixed, run",
            f"{restore} --env-file {env}",
            f"  {AUTH} check --env-file {env}",
        ]
    if show_secrets:
        first = ["Next: put client_id, client_secret and the refresh token printed above"]
    else:
        first = [
            "Next: print the refresh token once with",
            f"  {AUTH} show-refresh-token --from {quoted(rescue)}",
            "put client_id, client_secret and that refresh token",
        ]
    return [
        *first,
        "in the tap's config and, once the token store is fixed, run",
        f"{restore} --config config.json",
        CHECK_CONFIG,
    ]


def static_step(*, show_secrets: bool) -> list[str]:
    """No rotation: the user token is the tap's access_token, kept only where it was put."""
    if show_secrets:
        return [
            "Next: put the access token printed above in the tap's access_token setting, then run",
            CHECK_CONFIG,
        ]
    return [
        "Next: this app does not rotate tokens and its access token was neither printed nor "
        "written (--show-secrets, --write-env), so nothing keeps it: turn on token rotation "
        "in the app (recommended), then run authorize-url and exchange again with "
        "--write-env .env"
    ]
