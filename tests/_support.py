"""Helpers the tests share: run the tap (in-process or as a process), read its output,
build configs and catalogs, and start emulators. Fixtures live in conftest.py."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import typing as t
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

from tap_slack_snow.auth import open_store
from tap_slack_snow.errors import TapSlackError
from tap_slack_snow.tap import TapSlackSnow
from tap_slack_snow_emulator import SlackEmulator, WorkspaceConfig

# Fast retries in tests: the policy is the same, only the first wait is shorter.
FAST_RETRIES = {"retry_initial_wait": 0.01, "retry_max_attempts": 4}


@dataclass
class SyncResult:
    """What a tap run wrote: Singer messages, records per stream, last state, logs."""

    messages: list[dict[str, t.Any]]
    exit_code: int = 0
    stderr: str = ""
    stdout: str = ""
    records: dict[str, list[dict[str, t.Any]]] = field(default_factory=dict)
    states: list[dict[str, t.Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for message in self.messages:
            if message["type"] == "RECORD":
                self.records.setdefault(message["stream"], []).append(message["record"])
            elif message["type"] == "STATE":
                self.states.append(message["value"])

    @property
    def state(self) -> dict[str, t.Any] | None:
        return self.states[-1] if self.states else None

    def count(self, stream: str) -> int:
        return len(self.records.get(stream, []))


def parse_messages(text: str) -> list[dict[str, t.Any]]:
    """Singer messages: one JSON object with a ``type`` per line (other output ignored)."""
    messages = []
    for line in text.splitlines():
        if line.startswith('{"type"'):
            messages.append(json.loads(line))
    return messages


def sync(
    config: dict[str, t.Any],
    state: dict[str, t.Any] | None = None,
    catalog: dict[str, t.Any] | None = None,
) -> SyncResult:
    """Run the tap in this process (fast); a user error shows as exit_code 1."""
    out = io.StringIO()
    code = 0
    with redirect_stdout(out):
        try:
            tap = TapSlackSnow(config=config, state=state, catalog=catalog)
            tap.sync_all()
        except SystemExit as exc:
            code = int(exc.code or 0)
        except TapSlackError:  # the CLI turns these into one line and exit code 1
            code = 1
    return SyncResult(parse_messages(out.getvalue()), exit_code=code, stdout=out.getvalue())


def run_cli(
    config: dict[str, t.Any] | None,
    tmp_path: Path,
    *args: str,
    state: dict[str, t.Any] | None = None,
    catalog: dict[str, t.Any] | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> SyncResult:
    """Run ``python -m tap_slack_snow`` as a real process."""
    command = [sys.executable, "-m", "tap_slack_snow", *args]
    if config is not None:
        config_path = tmp_path / f"config-{os.urandom(4).hex()}.json"
        config_path.write_text(json.dumps(config))
        command += ["--config", str(config_path)]
    if state is not None:
        state_path = tmp_path / f"state-{os.urandom(4).hex()}.json"
        state_path.write_text(json.dumps(state))
        command += ["--state", str(state_path)]
    if catalog is not None:
        catalog_path = tmp_path / f"catalog-{os.urandom(4).hex()}.json"
        catalog_path.write_text(json.dumps(catalog))
        command += ["--catalog", str(catalog_path)]
    completed = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )
    return SyncResult(
        parse_messages(completed.stdout),
        exit_code=completed.returncode,
        stderr=completed.stderr,
        stdout=completed.stdout,
    )


def oauth_config(emu: SlackEmulator, tmp_path: Path, **extra: t.Any) -> dict[str, t.Any]:
    """Config with a fresh rotating refresh token and a private token store."""
    scopes = extra.pop("scopes", None)
    org_level = extra.pop("org_level", False)
    refresh_token = emu.issue_refresh_token(scopes=scopes, org_level=org_level)
    return {
        "client_id": emu.client_id,
        "client_secret": emu.client_secret,
        "refresh_token": refresh_token,
        "api_url": emu.url,
        "token_store_path": str(tmp_path / "tokens.json"),
        **FAST_RETRIES,
        **extra,
    }


def stored_chain(config: dict[str, t.Any]) -> dict[str, t.Any]:
    """The chain a config's token store holds, decrypted as the tap reads it."""
    content = open_store(config).load()
    assert content is not None, "the token store holds no chain for this config"
    return content


def select_only(*names: str) -> dict[str, t.Any]:
    """A catalog selecting only ``names`` (built from the tap's own discovery)."""
    tap = TapSlackSnow(config={"access_token": "xoxp-discovery"}, validate_config=False)
    catalog = tap.catalog_dict
    for entry in catalog["streams"]:
        selected = entry["tap_stream_id"] in names
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = selected
    return catalog


class EmulatorFactory:
    """Starts emulators for one test and stops them all at its end (the one factory)."""

    def __init__(self, **defaults: t.Any) -> None:
        """``defaults`` are WorkspaceConfig settings for ``make(**settings)``."""
        self.defaults = defaults
        self.started: list[SlackEmulator] = []

    def __call__(self, workspace: WorkspaceConfig | None = None, **kwargs: t.Any) -> SlackEmulator:
        """Start an emulator of ``workspace`` (default: 250 members, seed 1)."""
        emu = SlackEmulator(workspace or WorkspaceConfig(seed=1, users=250), **kwargs)
        emu.start()
        self.started.append(emu)
        return emu

    def make(self, **settings: t.Any) -> SlackEmulator:
        """Start an emulator of ``WorkspaceConfig(**defaults, **settings)``."""
        return self(WorkspaceConfig(**{**self.defaults, **settings}))

    def stop_all(self) -> None:
        """Stop every emulator this factory started."""
        for emu in self.started:
            emu.stop()
