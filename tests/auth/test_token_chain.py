"""The token chain survives what users do to it: two apps on one store, a full or unwritable
disk at the worst moment, one refresh token configured on two machines, a plaintext store
from an older release, and tokens that only the store or Slack knows.

Every run is a real tap process against the emulator over HTTP; disks are real (a tmpfs of a
few kilobytes; `chattr +i` for a folder even root cannot write).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import stat
import subprocess
import time
import typing as t
from pathlib import Path

import pytest
import requests

from tap_slack_snow.tap import TapSlackSnow
from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_devkit.emulators import EmulatorFactory
from tap_slack_snow_emulator import Fault, SlackEmulator, WorkspaceConfig
from tests._support import (
    all_tokens,
    auth_cli,
    exchange_args,
    finish,
    one_line_failure,
    refresh_config,
    run_cli,
    start_tap,
)

USERS = select_only("users")


def config_for(emu: SlackEmulator, store: Path, **extra: t.Any) -> dict[str, t.Any]:
    return refresh_config(emu, token_store_path=str(store), **extra)


@pytest.fixture
def emulators() -> t.Iterator[t.Callable[..., SlackEmulator]]:
    factory = EmulatorFactory()

    def make(seed: int = 1, **kwargs: t.Any) -> SlackEmulator:
        return factory(WorkspaceConfig(seed=seed, users=40, plan="plus"), **kwargs)

    yield make
    factory.stop_all()


@pytest.fixture
def tiny_disk(tmp_path: Path) -> t.Iterator[Path]:
    """A 256 KiB tmpfs, unmounted afterwards (needs root, as the test machine has)."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        for folder in (mount_point, *mount_point.iterdir()):
            subprocess.run(["chattr", "-i", str(folder)], capture_output=True, check=False)
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(disk: Path) -> Path:
    """Fill the disk to the last byte; returns the filler to delete."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as handle, contextlib.suppress(OSError):
        while True:
            handle.write(b"\0" * 4096)
    return filler


def immutable(folder: Path, on: bool) -> None:
    """chattr +i: not even root may create or rename files in the folder."""
    subprocess.run(["chattr", "+i" if on else "-i", str(folder)], check=True)


def wait_for_refresh_request(emu: SlackEmulator, count: int = 1) -> None:
    deadline = time.monotonic() + 60
    while emu.calls["oauth.v2.access"] < count:
        assert time.monotonic() < deadline, "the tap never asked for a refresh"
        time.sleep(0.02)


# --- item 1: two Slack apps on one token store ------------------------------------------------


def test_two_apps_on_one_store_path_keep_their_own_chains(
    emulators: t.Callable[..., SlackEmulator], tmp_path: Path
) -> None:
    app_a = emulators(seed=1, refresh_grace_seconds=0)
    app_b = emulators(seed=2, refresh_grace_seconds=0)
    assert app_a.client_id != app_b.client_id
    shared = tmp_path / "machine" / "tokens.json"
    config_a = config_for(app_a, shared)
    config_b = config_for(app_b, shared)

    for config in (config_a, config_b):
        run = run_cli(config, tmp_path, catalog=USERS)
        assert run.exit_code == 0, run.stderr[-3000:]
    # A's access token is gone: the next run of A must refresh with A's rotated token,
    # which only the shared store knows (the configured one is spent, no grace).
    app_a.expire_access_tokens()
    again = run_cli(config_a, tmp_path, catalog=USERS)
    assert again.exit_code == 0, again.stderr[-3000:]
    assert again.count("users") == app_a.workspace.user_count
    assert app_a.refreshes == 2
    app_b.expire_access_tokens()
    b_again = run_cli(config_b, tmp_path, catalog=USERS)
    assert b_again.exit_code == 0, b_again.stderr[-3000:]
    assert app_b.refreshes == 2


def test_two_orgs_of_one_app_on_one_store_path_keep_their_own_chains(
    emulators: t.Callable[..., SlackEmulator], tmp_path: Path
) -> None:
    emu = emulators(refresh_grace_seconds=0)
    shared = tmp_path / "tokens.json"
    org_1 = config_for(emu, shared)
    org_2 = config_for(emu, shared)  # same client_id, another authorisation
    for config in (org_1, org_2):
        assert run_cli(config, tmp_path, catalog=USERS).exit_code == 0
    emu.expire_access_tokens()
    for config in (org_1, org_2):
        run = run_cli(config, tmp_path, catalog=USERS)
        assert run.exit_code == 0, run.stderr[-3000:]
    assert emu.refreshes == 4


# --- item 2: a store that cannot take the new chain -------------------------------------------


def test_a_full_disk_is_found_before_the_refresh_token_is_spent(
    emulators: t.Callable[..., SlackEmulator], tmp_path: Path, tiny_disk: Path
) -> None:
    emu = emulators(refresh_grace_seconds=0)
    config = config_for(emu, tiny_disk / "store" / "tokens.json")
    (tiny_disk / "store").mkdir()
    filler = fill(tiny_disk)

    failed = run_cli(config, tmp_path, catalog=USERS)
    line = one_line_failure(failed)
    assert "No space left on device" in line
    assert str(tiny_disk / "store") in line
    assert "no refresh token was spent" in line
    assert "Errno" not in line  # the reason in words, not "[Errno 28]"
    assert emu.calls["oauth.v2.access"] == 0

    filler.unlink()
    ok = run_cli(config, tmp_path, catalog=USERS)
    assert ok.exit_code == 0, ok.stderr[-3000:]
    assert ok.count("users") == emu.workspace.user_count


@pytest.mark.parametrize("fault", ["disk full", "folder not writable"])
def test_a_store_failing_after_slack_rotated_keeps_the_new_tokens_in_a_rescue_file(
    emulators: t.Callable[..., SlackEmulator], tmp_path: Path, tiny_disk: Path, fault: str
) -> None:
    emu = emulators(refresh_grace_seconds=0)
    store = tiny_disk / "store" / "tokens.json"
    store.parent.mkdir()
    config = config_for(emu, store)
    # Slack's answer is held back 2 s: the store breaks while the refresh is under way.
    emu.add_fault(Fault("oauth.v2.access", "timeout", seconds=2))
    process = start_tap(config, tmp_path, USERS)
    wait_for_refresh_request(emu)
    filler = fill(tiny_disk) if fault == "disk full" else None
    if fault == "folder not writable":
        immutable(store.parent, on=True)
    failed = finish(process)

    line = one_line_failure(failed)
    assert "Traceback" not in failed.stderr
    assert "restore --from" in line
    rescue = Path(line.split("kept in ", 1)[1].split(" ", 1)[0])
    assert rescue.is_file()
    assert not str(rescue).startswith(str(tiny_disk))
    assert stat.S_IMODE(rescue.stat().st_mode) == 0o600
    text = rescue.read_text()
    for token in all_tokens(emu) | {emu.client_secret}:
        assert token not in text
        assert token not in failed.stdout
        assert token not in failed.stderr
    assert emu.refreshes == 1

    # Fix the disk, load the rescued chain back, and the chain goes on (no grace, so the
    # spent configured token cannot help).
    if filler is not None:
        filler.unlink()
    else:
        immutable(store.parent, on=False)
    config_path = tmp_path / "restore-config.json"
    config_path.write_text(json.dumps(config))
    restored = auth_cli("restore", "--from", str(rescue), "--config", str(config_path))
    assert restored.returncode == 0, restored.stderr
    assert not rescue.exists()
    emu.clear_faults()
    ok = run_cli(config, tmp_path, catalog=USERS)
    assert ok.exit_code == 0, ok.stderr[-3000:]
    assert ok.count("users") == emu.workspace.user_count
    assert emu.refreshes == 1  # the rescued access token was still good


# --- item 5: one configured refresh token on two machines --------------------------------------


def test_the_configured_token_spent_on_another_machine_says_so(
    emulators: t.Callable[..., SlackEmulator], tmp_path: Path
) -> None:
    emu = emulators(refresh_grace_seconds=0)
    config = config_for(emu, tmp_path / "unused.json")
    del config["token_store_path"]  # each "machine" has its own default store
    first = run_cli(config, tmp_path, catalog=USERS, env={"XDG_STATE_HOME": str(tmp_path / "a")})
    assert first.exit_code == 0, first.stderr[-3000:]
    second = run_cli(config, tmp_path, catalog=USERS, env={"XDG_STATE_HOME": str(tmp_path / "b")})
    line = one_line_failure(second)
    assert "another run with another token store" in line
    assert "token_store_url" in line


# --- item 13 (half): exchange into a store it cannot write ---------------------------------------


def test_exchange_into_an_unwritable_store_keeps_the_tokens_in_a_rescue_file(
    emulators: t.Callable[..., SlackEmulator], tmp_path: Path
) -> None:
    emu = emulators()
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store's folder should be\n")
    env = {"SLACK_CLIENT_SECRET": emu.client_secret}
    authorized = auth_cli(
        "authorize-url", "--edition", "standard", "--client-id", emu.client_id, env=env
    )
    assert authorized.returncode == 0, authorized.stderr
    state = authorized.stdout.split("state=", 1)[1].split("&", 1)[0].strip()
    code = emu.issue_auth_code(redirect_uri="https://localhost")
    env_file = tmp_path / "pipeline.env"
    exchanged = auth_cli(
        *exchange_args(emu, "--redirect-response", f"https://localhost/?code={code}&state={state}"),
        "--token-store-path",
        str(blocker / "tokens.json"),
        "--write-env",
        str(env_file),
        env=env,
    )
    assert exchanged.returncode == 1, exchanged.stdout + exchanged.stderr
    assert "Traceback" not in exchanged.stderr
    line = exchanged.stderr.strip().splitlines()[-1]
    assert "restore --from" in line
    rescue = Path(line.split("kept in ", 1)[1].split(" ", 1)[0])
    assert stat.S_IMODE(rescue.stat().st_mode) == 0o600
    for token in all_tokens(emu):
        assert token not in rescue.read_text()
        assert token not in exchanged.stdout + exchanged.stderr

    # Restore into a writable store; the tap then syncs on the exchanged access token.
    store = tmp_path / "store" / "tokens.json"
    values = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    config = {
        "client_id": emu.client_id,
        "client_secret": emu.client_secret,
        "refresh_token": values["TAP_SLACK_SNOW_REFRESH_TOKEN"],
        "api_url": emu.url,
        "scim_url": emu.scim_url,
        "token_store_path": str(store),
    }
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    restored = auth_cli("restore", "--from", str(rescue), "--config", str(config_path))
    assert restored.returncode == 0, restored.stderr
    run = run_cli(config, tmp_path, catalog=USERS)
    assert run.exit_code == 0, run.stderr[-3000:]
    assert emu.refreshes == 0
    assert emu.calls["oauth.v2.access"] == 1  # the exchange only


# --- issue 13: encryption at rest of the file store, and the migration ---------------------------


def test_the_file_store_holds_no_token_in_clear_and_fails_clearly_on_another_key(
    emulators: t.Callable[..., SlackEmulator], tmp_path: Path
) -> None:
    emu = emulators()
    store = tmp_path / "tokens.json"
    config = config_for(emu, store)
    run = run_cli(config, tmp_path, catalog=USERS)
    assert run.exit_code == 0, run.stderr[-3000:]
    text = store.read_text()
    for secret in all_tokens(emu) | {emu.client_secret}:
        assert secret not in text
        assert secret not in run.stdout + run.stderr

    # The client secret was rotated: the store cannot be read with the new one.
    rotated = run_cli({**config, "client_secret": "f" * 32}, tmp_path, catalog=USERS)
    line = one_line_failure(rotated)
    assert "encrypted with another key" in line
    assert "token_store_key" in line
    # ...and works again with the old secret as token_store_key.
    kept = run_cli(
        {**config, "client_secret": "f" * 32, "token_store_key": emu.client_secret},
        tmp_path,
        catalog=USERS,
    )
    assert kept.exit_code == 0, kept.stderr[-3000:]

    # A tampered chain fails its integrity check.
    document = json.loads(store.read_text())
    (entry,) = document["chains"].values()
    ciphertext = entry["envelope"]["ciphertext"]
    entry["envelope"]["ciphertext"] = ("A" if ciphertext[0] != "A" else "B") + ciphertext[1:]
    store.write_text(json.dumps(document))
    tampered = run_cli(config, tmp_path, catalog=USERS)
    assert "integrity check" in one_line_failure(tampered)
    assert emu.refreshes == 1


def test_a_plaintext_store_of_the_previous_release_is_migrated(
    emulators: t.Callable[..., SlackEmulator], tmp_path: Path
) -> None:
    emu = emulators(refresh_grace_seconds=0)
    store = tmp_path / "tokens.json"
    config = config_for(emu, store)
    # What release 0.1 left after its first run: one plaintext chain (format 1).
    answer = requests.post(
        emu.url + "/oauth.v2.access",
        data={"grant_type": "refresh_token", "refresh_token": config["refresh_token"]},
        auth=(emu.client_id, emu.client_secret),
        timeout=10,
    ).json()
    store.write_text(
        json.dumps(
            {
                "origin": hashlib.sha256(config["refresh_token"].encode()).hexdigest(),
                "refresh_token": answer["refresh_token"],
                "access_token": answer["access_token"],
                "expires_at": time.time() + 43000,
                "updated_at": time.time(),
                "version": 1,
            }
        )
    )
    run = run_cli(config, tmp_path, catalog=USERS)
    assert run.exit_code == 0, run.stderr[-3000:]
    assert emu.refreshes == 1  # the stored access token was reused
    text = store.read_text()
    assert answer["refresh_token"] not in text
    assert answer["access_token"] not in text
    assert json.loads(text)["version"] == 2
    # The migrated refresh token is the live one: the chain goes on.
    emu.expire_access_tokens()
    again = run_cli(config, tmp_path, catalog=USERS)
    assert again.exit_code == 0, again.stderr[-3000:]
    assert emu.refreshes == 2


# --- item 14: every token the run holds is redacted ----------------------------------------------


def test_tokens_from_the_store_and_from_slack_are_redacted(
    emulators: t.Callable[..., SlackEmulator],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    emu = emulators()
    config = config_for(emu, tmp_path / "tokens.json")
    issued_run = TapSlackSnow(config=config)
    issued = issued_run.run.token_provider.current()  # from Slack during this run
    assert emu.refreshes == 1
    # A new process would start with an empty registry; so does this second tap.
    from tap_slack_snow.redact import SecretRedactor  # noqa: PLC0415

    SecretRedactor._secrets.clear()
    stored_run = TapSlackSnow(config=config)
    from_store = stored_run.run.token_provider.current()
    assert from_store == issued
    assert emu.refreshes == 1
    refresh_now = next(
        chain.current for chain in emu.tokens._chains.values() if chain.access == [issued]
    )
    with caplog.at_level(logging.INFO):
        logging.getLogger("tap-slack-snow").info("leak %s and %s", from_store, refresh_now)
    message = caplog.records[-1].getMessage()
    assert from_store not in message
    assert refresh_now not in message
    assert message == "leak *** and ***"
