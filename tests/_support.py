"""Helpers the tests share: run the tap (in-process or as a process), read its output and
build configs. Fixtures live in conftest.py; the emulator factory and catalog selection, which
the benchmarks and scripts use too, are in the dev kit (``tap_slack_snow_devkit``)."""

from __future__ import annotations

import gzip
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
from tap_slack_snow_emulator import ENTERPRISE_USER_SCOPES, SlackEmulator

# Fast retries in tests: the policy is the same, only the first wait is shorter.
FAST_RETRIES = {"retry_initial_wait": 0.01, "retry_max_attempts": 4}

#: Every stream the tap offers, written out (not read from the tap) so a lost stream fails.
STREAM_NAMES = (
    "users",
    "team",
    "billing",
    "billable_info",
    "access_logs",
    "integration_logs",
    "admin_users",
    "member_analytics",
)


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


def sync_catching(config: dict[str, t.Any], catalog: dict[str, t.Any]) -> tuple[SyncResult, str]:
    """Run in this process like the CLI: a TapSlackError is the one line the user reads (returned
    with exit_code 1); any other exception propagates (a traceback: the test fails)."""
    out = io.StringIO()
    error = ""
    with redirect_stdout(out):
        try:
            TapSlackSnow(config=config, catalog=catalog).sync_all()
        except TapSlackError as exc:
            error = str(exc)
    return SyncResult(parse_messages(out.getvalue()), exit_code=1 if error else 0), error


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
        "scim_url": emu.scim_url,
        "token_store_path": str(tmp_path / "tokens.json"),
        **FAST_RETRIES,
        **extra,
    }


def refresh_config(emu: SlackEmulator, **extra: t.Any) -> dict[str, t.Any]:
    """Config with a fresh rotating refresh token; ``extra`` names the token store."""
    return {
        "client_id": emu.client_id,
        "client_secret": emu.client_secret,
        "refresh_token": emu.issue_refresh_token(),
        "api_url": emu.url,
        "scim_url": emu.scim_url,
        **FAST_RETRIES,
        **extra,
    }


def org_config(
    emu: SlackEmulator, tmp_path: Path, start_date: str, **extra: t.Any
) -> dict[str, t.Any]:
    """An org-level Enterprise token for the emulator's first team, reading from ``start_date``."""
    return oauth_config(
        emu,
        tmp_path,
        scopes=ENTERPRISE_USER_SCOPES,
        org_level=True,
        team_id=emu.workspace.team_ids[0],
        start_date=start_date,
        **extra,
    )


def bookmarks(state: dict[str, t.Any] | None) -> dict[str, t.Any]:
    """The per-stream bookmarks of a Singer state (empty without one)."""
    marks: dict[str, t.Any] = (state or {}).get("bookmarks", {})
    return marks


def all_tokens(emu: SlackEmulator) -> set[str]:
    """Every refresh and access token the emulator ever issued."""
    return set(emu.tokens._chains) | set(emu.tokens._access)


def run_failed_lines(result: SyncResult) -> list[str]:
    """The tap's one-line failure messages in a run's stderr."""
    return [line for line in result.stderr.splitlines() if "Run failed" in line]


def one_line_failure(result: SyncResult) -> str:
    """Assert the run failed with exit 1, one "Run failed" line and no traceback; return it."""
    assert result.exit_code == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    lines = run_failed_lines(result)
    assert len(lines) == 1, result.stderr[-3000:]
    return lines[0]


def start_tap(
    config: dict[str, t.Any],
    tmp_path: Path,
    catalog: dict[str, t.Any],
    env: dict[str, str] | None = None,
) -> subprocess.Popen[str]:
    """Start ``python -m tap_slack_snow`` in the background; collect it with ``finish``."""
    config_path = tmp_path / f"config-{os.urandom(4).hex()}.json"
    config_path.write_text(json.dumps(config))
    catalog_path = tmp_path / f"catalog-{os.urandom(4).hex()}.json"
    catalog_path.write_text(json.dumps(catalog))
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tap_slack_snow",
            "--config",
            str(config_path),
            "--catalog",
            str(catalog_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def finish(process: subprocess.Popen[str], timeout: float = 180) -> SyncResult:
    """Wait for a tap started by ``start_tap`` and read what it wrote."""
    stdout, stderr = process.communicate(timeout=timeout)
    return SyncResult(
        parse_messages(stdout), exit_code=process.returncode, stderr=stderr, stdout=stdout
    )


def auth_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``tap-slack-snow-auth`` as a real process."""
    return subprocess.run(
        [sys.executable, "-c", "from tap_slack_snow.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )


def exchange_args(emu: SlackEmulator, *args: str) -> list[str]:
    """``tap-slack-snow-auth exchange`` against the emulator's app, then ``args``."""
    return ["exchange", "--client-id", emu.client_id, "--api-url", emu.url, *args]


def stored_chain(config: dict[str, t.Any]) -> dict[str, t.Any]:
    """The chain a config's token store holds, decrypted as the tap reads it."""
    content = open_store(config).load()
    assert content is not None, "the token store holds no chain for this config"
    return content


# --- the tap as a user runs it: files as given (broken ones too), no TAP_SLACK_SNOW_*
# variables, no .env; and the one line it fails with

ENV_PREFIX = "TAP_SLACK_SNOW_"


def run_tap(
    tmp_path: Path,
    *,
    config: dict[str, t.Any] | str | None = None,
    state: dict[str, t.Any] | str | None = None,
    catalog: dict[str, t.Any] | str | None = None,
    args: t.Sequence[str] = (),
    env: dict[str, str] | None = None,
    timeout: float = 90,
) -> SyncResult:
    """The tap as a process; a str is written to the file as is (for broken files)."""
    command = [sys.executable, "-m", "tap_slack_snow", *args]
    for flag, value in (("--config", config), ("--state", state), ("--catalog", catalog)):
        if value is None:
            continue
        path = tmp_path / f"{flag[2:]}-{os.urandom(3).hex()}.json"
        path.write_text(value if isinstance(value, str) else json.dumps(value))
        command += [flag, str(path)]
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    completed = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**clean_env, **(env or {})},
        check=False,
        cwd=tmp_path,  # no .env of the repository is picked up
    )
    return SyncResult(
        parse_messages(completed.stdout),
        exit_code=completed.returncode,
        stderr=completed.stderr,
        stdout=completed.stdout,
    )


def failure_line(result: SyncResult, *secrets: str | None) -> str:
    """Exit 1, no traceback, no secret, nothing emitted: return the last stderr line."""
    assert result.exit_code == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    for secret in secrets:
        if secret:
            assert secret not in result.stderr
            assert secret not in result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, "no error line"
    return lines[-1]


def warning_lines(result: SyncResult) -> list[str]:
    return [line for line in result.stderr.splitlines() if "WARNING" in line]


def static_config(url: str, token: str, **extra: t.Any) -> dict[str, t.Any]:
    return {
        "access_token": token,
        "api_url": url,
        # the emulator's (or a test server's) SCIM beside its Web API
        **(
            {"scim_url": url.removesuffix("/api") + "/scim/v2"} if url.startswith("http://") else {}
        ),
        "retry_initial_wait": 0.01,
        "retry_max_attempts": 2,
        **extra,
    }


# --- answers the emulator has no fault kind for: edited before they go over HTTP


def change_answers(emu: SlackEmulator, method: str, change: t.Callable[[t.Any, int], None]) -> None:
    """Edit the emulator's answers to ``method`` before it sends them over HTTP:
    ``change(reply, call_no)`` edits the :class:`~tap_slack_snow_emulator.api.Reply` in place
    (``reply.payload`` for a JSON answer; see :func:`change_gzip_rows` for a file). Calls count
    from 1, every request of the method included, as for the emulator's faults."""
    handle = emu.api.handle

    def changed(name: str, *args: t.Any, **kwargs: t.Any) -> t.Any:
        reply = handle(name, *args, **kwargs)
        if name == method and reply.status == 200:
            change(reply, int(kwargs["call_no"]))
        return reply

    emu.api.handle = changed  # type: ignore[method-assign]


def change_gzip_rows(reply: t.Any, change: t.Callable[[dict[str, t.Any]], None]) -> None:
    """Apply ``change(row)`` to every row of a gzip JSON Lines answer (an analytics file)."""
    if reply.content_type != "application/gzip":
        return
    rows = [json.loads(line) for line in gzip.decompress(reply.materialize()).splitlines()]
    for row in rows:
        change(row)
    reply.body = gzip.compress(b"".join(json.dumps(row).encode() + b"\n" for row in rows))
    reply.stream = None
