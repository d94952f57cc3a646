"""Encryption at rest of a token chain (every store backend, and rescue files).

A leaked store file, CI cache or database dump alone must not give access to Slack, so a
chain is kept only as an *envelope*:

- The key is 32 bytes derived with HKDF-SHA256 from ``token_store_key`` when it is set,
  else from ``client_secret`` (a random 32-hex-digit value Slack generates, so a fast KDF is
  enough; a dedicated key should be as random, e.g. ``openssl rand -hex 32``).
- The chain is sealed with AES-256-GCM (authenticated encryption) under a fresh random
  96-bit nonce per write. The associated data binds the ciphertext to its chain id, so an
  envelope copied onto another chain's entry or row does not open.
- The envelope also carries a short key id (a second HKDF output, not the key): a store
  written under another key (the client secret was rotated, or ``token_store_key``
  changed) is told apart from one that was altered, and each gets its own fix.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import typing as t
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

#: Name of the cipher in an envelope, so a future scheme can be told apart.
ALGORITHM = "A256GCM+HKDF-SHA256"
_SALT = b"tap-slack-snow token store"
_NONCE_BYTES = 12


class EnvelopeError(Exception):
    """An envelope that cannot be opened; ``reason`` is ``other_key`` or ``damaged``."""

    def __init__(self, reason: t.Literal["other_key", "damaged"]) -> None:
        """Keep why."""
        super().__init__(reason)
        self.reason = reason


def chain_id(client_id: str, refresh_token: str) -> str:
    """The id of the chain one authorisation of one Slack app starts.

    Derived from the app (client ID) and the configured refresh token, so two apps, or two
    organisations of one app, never share an entry, and a re-authorisation (a new
    configured refresh token) starts a new chain. Not reversible: it is stored in clear.
    """
    digest = hashlib.sha256(f"tap-slack-snow chain\0{client_id}\0{refresh_token}".encode())
    return digest.hexdigest()[:32]


def _derive(secret: str, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=info).derive(secret.encode())


@dataclass(frozen=True)
class StoreKey:
    """The key one run reads and writes its chain with."""

    key: bytes
    key_id: str
    source: str  # the setting it came from, for error messages

    @classmethod
    def derive(cls, *, client_secret: str, token_store_key: str | None = None) -> StoreKey:
        """From ``token_store_key`` when given, else from ``client_secret``."""
        secret = token_store_key or client_secret
        return cls(
            key=_derive(secret, b"aes-256-gcm key v1"),
            key_id=_derive(secret, b"key id v1")[:6].hex(),
            source="token_store_key" if token_store_key else "client_secret",
        )

    def seal(self, chain: str, content: dict[str, t.Any]) -> dict[str, str]:
        """Encrypt ``content`` (JSON-able) for the chain ``chain``."""
        nonce = os.urandom(_NONCE_BYTES)
        plaintext = json.dumps(content, separators=(",", ":")).encode()
        ciphertext = AESGCM(self.key).encrypt(nonce, plaintext, _associated_data(chain))
        return {
            "alg": ALGORITHM,
            "key_id": self.key_id,
            "nonce": base64.b64encode(nonce).decode(),
            "ciphertext": base64.b64encode(ciphertext).decode(),
        }

    def open(self, chain: str, envelope: t.Any) -> dict[str, t.Any]:
        """Decrypt an envelope of ``chain``; raise EnvelopeError saying why it cannot be."""
        if not isinstance(envelope, dict) or envelope.get("alg") != ALGORITHM:
            raise EnvelopeError("damaged")
        if envelope.get("key_id") != self.key_id:
            raise EnvelopeError("other_key")
        try:
            nonce = base64.b64decode(str(envelope["nonce"]), validate=True)
            ciphertext = base64.b64decode(str(envelope["ciphertext"]), validate=True)
            plaintext = AESGCM(self.key).decrypt(nonce, ciphertext, _associated_data(chain))
            content = json.loads(plaintext)
        except (KeyError, ValueError, binascii.Error, InvalidTag):
            raise EnvelopeError("damaged") from None
        if not isinstance(content, dict):
            raise EnvelopeError("damaged")
        return content


def _associated_data(chain: str) -> bytes:
    return f"tap-slack-snow/{chain}/v1".encode()


def describe_envelope_error(exc: EnvelopeError, *, where: str, key: StoreKey) -> str:
    """The one line that says what to do about an envelope that does not open."""
    if exc.reason == "other_key":
        return (
            f"the token chain in {where} was encrypted with another key than the "
            f"{key.source} now configured (was the Slack app's client secret rotated, or "
            "token_store_key changed?). Set token_store_key to the previous client secret "
            "(or key) to keep this chain, or authorise the app again "
            "(tap-slack-snow-auth authorize-url, then exchange) to start a new one"
        )
    return (
        f"the token chain in {where} fails its integrity check (it was altered or damaged) "
        "and cannot be used: restore the store from a backup, or authorise the app again "
        "(tap-slack-snow-auth authorize-url, then exchange) to start a new chain"
    )
