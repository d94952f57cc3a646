"""Helpers of the ``tap-slack-snow-auth`` tests: the CLI in this process (click's runner),
its steps against an emulator, and the Snow Atlas scope lists written out.
"""

from __future__ import annotations

import os
import typing as t
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from click.testing import CliRunner, Result

from tap_slack_snow.auth import StoredTokens, open_store
from tap_slack_snow.cli import main
from tap_slack_snow.tap import TapSlackSnow
from tap_slack_snow_emulator import SlackEmulator
from tests._support import STREAM_NAMES, exchange_args

# The Snow Atlas lists, written out here rather than imported, so a typo in the CLI fails.
ENTERPRISE = [
    "admin",
    "users:read",
    "team:read",
    "users:read.email",
    "admin.users:read",
    "admin.analytics:read",
    "team.billing:read",
]
STANDARD = ["admin", "users:read", "team.billing:read"]
REDIRECT = "https://localhost"
STREAMS = set(STREAM_NAMES)


def cli(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, input=stdin, catch_exceptions=False)


def state_home() -> Path:
    return Path(os.environ["XDG_STATE_HOME"]) / "tap-slack-snow"


def authorize(emu: SlackEmulator, *extra: str, edition: str = "standard") -> dict[str, str]:
    """Run authorize-url and return its query parameters."""
    result = cli("authorize-url", "--edition", edition, "--client-id", emu.client_id, *extra)
    assert result.exit_code == 0, result.output
    url = result.stdout.strip()
    assert url.startswith("https://slack.com/oauth/v2/authorize?")
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def exchange(emu: SlackEmulator, *args: str, secret: str | None = None) -> Result:
    return cli(
        *exchange_args(emu, *args),
        env={"SLACK_CLIENT_SECRET": secret or emu.client_secret},
    )


def load_chain(emu: SlackEmulator, refresh_token: str, path: Path) -> StoredTokens | None:
    """The chain exchange stored for this refresh token (decrypted as the tap does)."""
    store = open_store(
        {
            "client_id": emu.client_id,
            "client_secret": emu.client_secret,
            "refresh_token": refresh_token,
            "token_store_path": str(path),
        }
    )
    content = store.load()
    return StoredTokens.from_content(content, str(path)) if content else None


def one_line_error(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    return lines[0]


def catalog_selecting(names: set[str]) -> dict[str, t.Any]:
    catalog = TapSlackSnow(config={}, validate_config=False).catalog_dict
    for entry in catalog["streams"]:
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = entry["tap_stream_id"] in names
    return catalog
