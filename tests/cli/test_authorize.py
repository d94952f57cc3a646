"""``tap-slack-snow-auth authorize-url`` (``tap_slack_snow.cli.authorize``): the scopes, and a
fresh state remembered for ``exchange``.
"""

from __future__ import annotations

import json
import re
import stat
import time

from tap_slack_snow.auth import fingerprint
from tap_slack_snow_emulator import SlackEmulator
from tests.cli.cli_support import ENTERPRISE, REDIRECT, STANDARD, authorize, state_home


def test_authorize_url_asks_for_the_scopes_with_a_fresh_remembered_state(
    emu: SlackEmulator,
) -> None:
    first = authorize(emu, edition="enterprise")
    second = authorize(emu, edition="enterprise")
    assert first["client_id"] == emu.client_id
    assert first["scope"] == "bookmarks:read"
    assert first["user_scope"].split(",") == ENTERPRISE
    assert first["redirect_uri"] == REDIRECT
    assert first["state"] != second["state"]
    for params in (first, second):
        assert len(params["state"]) >= 43
        assert re.fullmatch(r"[A-Za-z0-9_-]+", params["state"])
    state_file = state_home() / "oauth-states.json"
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600
    stored = json.loads(state_file.read_text())["states"]
    assert [s["state_sha256"] for s in stored] == [
        fingerprint(first["state"]),
        fingerprint(second["state"]),
    ]
    assert first["state"] not in state_file.read_text()  # only a hash is kept
    assert all(abs(s["created_at"] - time.time()) < 60 for s in stored)
    standard = authorize(emu, "--extra-scopes", "--redirect-url", "https://etl.example.com/cb")
    assert standard["user_scope"].split(",") == [*STANDARD, "team:read", "users:read.email"]
    assert standard["redirect_uri"] == "https://etl.example.com/cb"
