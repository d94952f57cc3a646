"""The one reading of an oauth.v2.access answer (auth/grant.py) and the one way a new chain
is kept (auth/chain.py): into the store, else a rescue file that restore reads back.

Stores are real files in the test's folder; a store that fails to save is a file store
whose save raises as a full disk makes it raise.
"""

from __future__ import annotations

import signal
import stat
import time
import typing as t
from pathlib import Path

import pytest

from tap_slack_snow.auth.chain import keep_chain
from tap_slack_snow.auth.crypto import StoreKey
from tap_slack_snow.auth.file_store import FileChainStore
from tap_slack_snow.auth.grant import (
    DEFAULT_EXPIRES_IN,
    NO_NEW_REFRESH_TOKEN,
    NO_USER_TOKEN,
    Grant,
    Named,
    parse_grant,
)
from tap_slack_snow.auth.rescue import read_rescue, restore_from_file
from tap_slack_snow.auth.store import StoredTokens, StoreWriteError, fingerprint
from tap_slack_snow.errors import TapSlackError
from tap_slack_snow.interrupts import defer_signal
from tap_slack_snow.redact import SecretRedactor

SENT_AT = 1_700_000_000.0
USER_ACCESS = "xoxe.xoxp-1-user-access-token-value"
USER_REFRESH = "xoxe-1-user-refresh-token-value"
BOT_ACCESS = "xoxe.xoxb-1-bot-access-token-value"
BOT_REFRESH = "xoxe-1-bot-refresh-token-value"
SECRETS = (USER_ACCESS, USER_REFRESH, BOT_ACCESS, BOT_REFRESH)


def code_answer(**authed_user: t.Any) -> dict[str, t.Any]:
    """A code exchange answer as Slack documents it (rotation on), authed_user overridden."""
    user = {
        "id": "U0123",
        "scope": "users:read,admin,team.billing:read",
        "access_token": USER_ACCESS,
        "expires_in": 43200,
        "refresh_token": USER_REFRESH,
        "token_type": "user",
    }
    user.update(authed_user)
    return {
        "ok": True,
        "access_token": BOT_ACCESS,
        "token_type": "bot",
        "scope": "bookmarks:read",
        "expires_in": 43200,
        "refresh_token": BOT_REFRESH,
        "team": {"id": "T0123", "name": "Acme"},
        "enterprise": None,
        "is_enterprise_install": False,
        "authed_user": {k: v for k, v in user.items() if v is not ...},
    }


def refresh_answer(**fields: t.Any) -> dict[str, t.Any]:
    """A user-token refresh answer (flat), fields overridden (``...`` drops one)."""
    answer = {
        "ok": True,
        "scope": "users:read,admin",
        "token_type": "user",
        "access_token": USER_ACCESS,
        "expires_in": 43200,
        "refresh_token": USER_REFRESH,
        "user_id": "U0123",
        "team": {"id": "T0123", "name": "Acme"},
    }
    answer.update(fields)
    return {k: v for k, v in answer.items() if v is not ...}


def refused(payload: dict[str, t.Any], grant_type: t.Literal["code", "refresh"]) -> str:
    """The one line parse_grant raises; it never holds a token."""
    with pytest.raises(TapSlackError) as caught:
        parse_grant(payload, sent_at=SENT_AT, grant_type=grant_type)
    message = str(caught.value)
    assert "\n" not in message
    for secret in SECRETS:
        assert secret not in message
    return message


# --- grant.py: good answers ----------------------------------------------------------------


def test_a_code_exchange_grants_the_user_token_never_the_bot_token() -> None:
    grant = parse_grant(code_answer(), sent_at=SENT_AT, grant_type="code")
    assert grant == Grant(
        access_token=USER_ACCESS,
        refresh_token=USER_REFRESH,
        expires_in=43200.0,
        expires_at=SENT_AT + 43200,
        user_id="U0123",
        user_scopes=("admin", "team.billing:read", "users:read"),
        bot_scopes="bookmarks:read",
        team=Named("T0123", "Acme"),
        enterprise=None,
        is_enterprise_install=False,
    )
    assert grant.team is not None
    assert grant.team.label == "Acme (T0123)"
    assert Named("E0123").label == "E0123"
    for secret in SECRETS:
        assert secret not in repr(grant)


def test_a_code_exchange_without_a_refresh_token_is_a_grant_without_rotation() -> None:
    for missing in (..., "", None, 123):
        grant = parse_grant(code_answer(refresh_token=missing), sent_at=SENT_AT, grant_type="code")
        assert grant.access_token == USER_ACCESS
        assert grant.refresh_token is None
    with pytest.raises(TapSlackError) as caught:
        grant.chain(updated_at=SENT_AT)
    assert str(caught.value) == NO_NEW_REFRESH_TOKEN


def test_a_refresh_reads_a_flat_answer_and_prefers_a_nested_user_token() -> None:
    flat = parse_grant(refresh_answer(), sent_at=SENT_AT, grant_type="refresh")
    assert (flat.access_token, flat.refresh_token) == (USER_ACCESS, USER_REFRESH)
    assert flat.expires_at == SENT_AT + 43200
    assert flat.user_scopes == ("admin", "users:read")
    assert flat.bot_scopes is None  # the answer's scope is the user's here
    # An answer shaped like the code exchange: the nested user token, not the flat bot one.
    nested = parse_grant(code_answer(), sent_at=SENT_AT, grant_type="refresh")
    assert (nested.access_token, nested.refresh_token) == (USER_ACCESS, USER_REFRESH)
    # A nested object without an access token is not where the token is.
    odd = parse_grant(
        refresh_answer(authed_user={"id": "U0123"}), sent_at=SENT_AT, grant_type="refresh"
    )
    assert odd.access_token == USER_ACCESS


@pytest.mark.parametrize("expires_in", [..., None, 0, -5, "43200", [1]])
def test_an_unusable_expires_in_means_slacks_documented_12_hours(expires_in: t.Any) -> None:
    for grant in (
        parse_grant(code_answer(expires_in=expires_in), sent_at=SENT_AT, grant_type="code"),
        parse_grant(refresh_answer(expires_in=expires_in), sent_at=SENT_AT, grant_type="refresh"),
    ):
        assert grant.expires_in == DEFAULT_EXPIRES_IN
        assert grant.expires_at == SENT_AT + DEFAULT_EXPIRES_IN
    short = parse_grant(refresh_answer(expires_in=600), sent_at=SENT_AT, grant_type="refresh")
    assert short.expires_at == SENT_AT + 600


def test_every_token_granted_is_redacted_at_once() -> None:
    parse_grant(code_answer(), sent_at=SENT_AT, grant_type="code")
    assert SecretRedactor.redact(f"{USER_ACCESS} {USER_REFRESH}") == "*** ***"


def test_the_chain_of_a_grant_descends_from_its_refresh_token_or_the_given_origin() -> None:
    grant = parse_grant(code_answer(), sent_at=SENT_AT, grant_type="code")
    started = grant.chain(updated_at=SENT_AT + 1)
    assert started == StoredTokens(
        origin=fingerprint(USER_REFRESH),
        refresh_token=USER_REFRESH,
        access_token=USER_ACCESS,
        expires_at=SENT_AT + 43200,
        updated_at=SENT_AT + 1,
    )
    assert grant.chain(updated_at=SENT_AT, origin="configured").origin == "configured"


# --- grant.py: each missing or malformed field, its one line ---------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(code_answer(access_token=...), id="authed_user without access_token"),
        pytest.param(code_answer(access_token=""), id="empty access_token"),
        pytest.param(code_answer(access_token=12345678), id="access_token not a string"),
        pytest.param({**code_answer(), "authed_user": None}, id="no authed_user"),
        pytest.param({**code_answer(), "authed_user": USER_ACCESS}, id="authed_user a string"),
    ],
)
def test_a_code_exchange_without_a_user_token_says_so(payload: dict[str, t.Any]) -> None:
    # The flat access_token is the bot token: never taken for the user's.
    assert refused(payload, "code") == NO_USER_TOKEN


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(refresh_answer(access_token=...), id="no access_token"),
        pytest.param(refresh_answer(access_token=""), id="empty access_token"),
        pytest.param(refresh_answer(access_token=["x"]), id="access_token not a string"),
        pytest.param(
            refresh_answer(access_token=..., authed_user={"access_token": 7}),
            id="nested access_token not a string",
        ),
    ],
)
def test_a_refresh_without_an_access_token_says_so(payload: dict[str, t.Any]) -> None:
    assert refused(payload, "refresh") == NO_USER_TOKEN


@pytest.mark.parametrize("refresh_token", [..., "", None, 42])
def test_a_refresh_without_a_new_refresh_token_says_rotation_is_off(refresh_token: t.Any) -> None:
    message = refused(refresh_answer(refresh_token=refresh_token), "refresh")
    assert message == NO_NEW_REFRESH_TOKEN
    assert "token rotation" in message
    nested = code_answer(refresh_token=refresh_token)
    assert refused(nested, "refresh") == NO_NEW_REFRESH_TOKEN  # not the bot's refresh token


# --- chain.py: save, or rescue ---------------------------------------------------------------

KEY = StoreKey.derive(client_secret="0123456789abcdef0123456789abcdef")
CHAIN_ID = "c" * 64


def file_store(path: Path) -> FileChainStore:
    return FileChainStore(path, chain=CHAIN_ID, origin="o", key=KEY, lock_timeout=5)


class FullDiskStore(FileChainStore):
    """A file store whose save fails as on a full disk."""

    def save(self, content: dict[str, t.Any]) -> None:
        raise StoreWriteError(f"cannot write the token store {self.path}: No space left on device")


def new_chain() -> StoredTokens:
    return StoredTokens(
        origin=fingerprint("xoxe-1-configured"),
        refresh_token=USER_REFRESH,
        access_token=USER_ACCESS,
        expires_at=time.time() + 43200,
        updated_at=time.time(),
    )


def keep(store: FileChainStore, chain: StoredTokens, *, take_lock: bool) -> None:
    """As the CLI does (keep_chain takes the lock), or as the tap does (it holds it)."""
    if take_lock:
        keep_chain(store, chain, take_lock=True)
    else:
        with store.locked():
            keep_chain(store, chain, take_lock=False)


@pytest.mark.parametrize("take_lock", [True, False])
def test_a_new_chain_is_saved_in_the_store(tmp_path: Path, take_lock: bool) -> None:
    store = file_store(tmp_path / "tokens.json")
    chain = new_chain()
    keep(store, chain, take_lock=take_lock)
    assert store.load() == chain.content()
    assert not (tmp_path / "state-home" / "tap-slack-snow" / "rescue").exists()


def rescued_path(message: str) -> Path:
    return Path(message.split("kept in ", 1)[1].split(" ", 1)[0])


@pytest.mark.parametrize("take_lock", [True, False])
def test_a_store_that_fails_the_save_sends_the_chain_to_a_rescue_file_restore_reads(
    tmp_path: Path, take_lock: bool
) -> None:
    broken = FullDiskStore(
        tmp_path / "full" / "tokens.json", chain=CHAIN_ID, origin="o", key=KEY, lock_timeout=5
    )
    chain = new_chain()
    with pytest.raises(TapSlackError) as caught:
        keep(broken, chain, take_lock=take_lock)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"cannot write the token store {broken.path}: No space left")
    rescue = rescued_path(message)
    assert f"run 'tap-slack-snow-auth restore --from {rescue}' with this tap's config" in message
    assert rescue.parent == tmp_path / "state-home" / "tap-slack-snow" / "rescue"
    assert stat.S_IMODE(rescue.stat().st_mode) == 0o600
    for secret in SECRETS:
        assert secret not in message
        assert secret not in rescue.read_text()
    # What the file holds is what restore reads: the new chain, for the same chain id.
    fixed = file_store(tmp_path / "fixed" / "tokens.json")
    assert read_rescue(rescue, fixed) == chain.content()
    assert "restored the rescued token chain" in restore_from_file(rescue, fixed)
    assert fixed.load() == chain.content()
    assert not rescue.exists()


def test_a_store_whose_lock_fails_sends_the_chain_to_a_rescue_file(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store's folder should be\n")
    store = file_store(blocker / "tokens.json")
    chain = new_chain()
    with pytest.raises(TapSlackError) as caught:
        keep_chain(store, chain, take_lock=True)
    message = str(caught.value)
    assert message.startswith(f"cannot create the token store folder {blocker}")
    assert "restore --from" in message
    assert read_rescue(rescued_path(message), store) == chain.content()


def test_when_no_folder_takes_the_rescue_file_the_line_says_the_token_is_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    monkeypatch.setattr(
        "tap_slack_snow.auth.rescue.rescue_folders", lambda: [blocker / "a", blocker / "b"]
    )
    broken = FullDiskStore(
        tmp_path / "tokens.json", chain=CHAIN_ID, origin="o", key=KEY, lock_timeout=5
    )
    with pytest.raises(TapSlackError) as caught:
        keep_chain(broken, new_chain(), take_lock=True)
    message = str(caught.value)
    assert message == (
        f"cannot write the token store {broken.path}: No space left on device, and no other "
        "folder could take the new tokens either (state folder, home, temp, working folder): "
        "the refresh token is lost; re-authorise the Slack app once the disk is fixed"
    )


def test_a_sigterm_during_the_save_waits_for_it(tmp_path: Path) -> None:
    received: list[int] = []

    def handler(signum: int, frame: t.Any) -> None:
        if defer_signal(signum) is None:  # as the tap's handler does
            received.append(signum)

    class SignalledStore(FileChainStore):
        def save(self, content: dict[str, t.Any]) -> None:
            signal.raise_signal(signal.SIGTERM)
            assert received == []  # deferred: the save goes on
            super().save(content)

    store = SignalledStore(
        tmp_path / "tokens.json", chain=CHAIN_ID, origin="o", key=KEY, lock_timeout=5
    )
    chain = new_chain()
    previous = signal.signal(signal.SIGTERM, handler)
    try:
        keep_chain(store, chain, take_lock=True)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert received == [signal.SIGTERM]  # acted on once the chain was kept
    assert file_store(store.path).load() == chain.content()
