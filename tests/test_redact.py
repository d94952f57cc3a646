"""Secrets never reach the output, the logs or the state, even at DEBUG level
(``tap_slack_snow.redact`` is the safety net); the token only travels in the
Authorization header.
"""

from __future__ import annotations

import json
from pathlib import Path

from tap_slack_snow_emulator import Fault, SlackEmulator
from tests._support import oauth_config, run_cli, stored_chain


def test_no_secret_in_debug_output_or_state(emulator: SlackEmulator, tmp_path: Path) -> None:
    config = oauth_config(emulator, tmp_path)
    emulator.add_fault(Fault(method="users.list", kind="token_expired", on_call=1))
    result = run_cli(config, tmp_path, env={"LOGLEVEL": "DEBUG"})
    assert result.exit_code == 0, result.stderr[-2000:]
    store = stored_chain(config)
    secrets = {
        config["client_secret"],
        config["refresh_token"],
        store["refresh_token"],
        store["access_token"],
    }
    assert "DEBUG" in result.stderr  # it really ran at DEBUG level
    for secret in secrets:
        assert secret not in result.stdout
        assert secret not in result.stderr
    assert all(secret not in json.dumps(result.states) for secret in secrets)
    # and the token only ever travelled in the Authorization header
    for request in emulator.requests:
        assert not any(s in json.dumps(request.query) for s in secrets)
        assert "token" not in request.query
