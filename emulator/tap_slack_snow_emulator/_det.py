"""Deterministic building blocks shared by the generators.

Everything the emulator generates is a pure function of ``(seed, kind, index)`` so a member,
an access-log entry or an analytics row can be computed on demand without materialising the
whole workspace. Randomness comes from BLAKE2b digests (fast, stable across Python versions
and processes, unaffected by ``PYTHONHASHSEED``); ``random.Random`` with a fixed seed is used
only where a sequence of choices is needed (e.g. picking entries to touch).

Also holds the opaque cursor codec used by every cursor-paginated method (Slack's
cursors are base64 strings that usually end in ``=``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

_MASK32 = 0xFFFFFFFF
_MUL32 = 0x9E3779B1  # odd, so multiplication is a bijection modulo 2**32
_INV32 = pow(_MUL32, -1, 1 << 32)
_MASK24 = 0xFFFFFF
_MUL24 = 0x5BD1E9  # odd
_INV24 = pow(_MUL24, -1, 1 << 24)


def digest(*parts: object) -> bytes:
    """A 32-byte digest of the parts (joined with a separator that never occurs in them)."""
    text = "\x1f".join(str(p) for p in parts)
    return hashlib.blake2b(text.encode(), digest_size=32).digest()


def hex_id(length: int, *parts: object) -> str:
    """Upper-case hex string of ``length`` characters derived from the parts."""
    return hashlib.blake2b("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:length].upper()


_STRUCT16 = struct.Struct("<16I")


def _unpack16(data: bytes) -> tuple[int, ...]:
    values: tuple[int, ...] = _STRUCT16.unpack(data)
    return values


def draws(*parts: object) -> tuple[int, ...]:
    """Sixteen unsigned 32-bit values derived from the parts (one hash)."""
    key = "\x1f".join([str(p) for p in parts]).encode()
    return _unpack16(hashlib.blake2b(key, digest_size=64).digest())


class Det:
    """A tiny deterministic random stream keyed by ``parts``."""

    __slots__ = ("_key", "_pos", "_round", "_vals")

    def __init__(self, *parts: object) -> None:
        self._key = "\x1f".join([str(p) for p in parts]).encode()
        self._round = 0
        self._vals = _unpack16(hashlib.blake2b(self._key, digest_size=64).digest())
        self._pos = 0

    def u32(self) -> int:
        """Next unsigned 32-bit value."""
        pos = self._pos
        if pos >= 16:
            self._round += 1
            self._vals = _unpack16(
                hashlib.blake2b(
                    self._key + b"\x1e" + str(self._round).encode(), digest_size=64
                ).digest()
            )
            pos = 0
        self._pos = pos + 1
        return self._vals[pos]

    def below(self, n: int) -> int:
        """Integer in ``[0, n)``."""
        return self.u32() % n if n > 0 else 0

    def between(self, low: int, high: int) -> int:
        """Integer in ``[low, high]``."""
        return low + self.u32() % (high - low + 1)

    def unit(self) -> float:
        """Float in ``[0, 1)``."""
        return self.u32() / 4294967296.0

    def chance(self, p: float) -> bool:
        """True with probability ``p``."""
        return self.u32() < p * 4294967296.0

    def pick(self, seq: Sequence[T]) -> T:
        """One element of a non-empty sequence."""
        return seq[self.u32() % len(seq)]

    def hex(self, length: int) -> str:
        """Lower-case hex string of ``length`` characters."""
        out = ""
        while len(out) < length:
            out += f"{self.u32():08x}"
        return out[:length]


def perm32(i: int, offset: int) -> int:
    """Bijection of ``[0, 2**32)`` (used to turn an index into an id)."""
    return ((i + offset) * _MUL32) & _MASK32


def unperm32(value: int, offset: int) -> int:
    """Inverse of :func:`perm32`."""
    return ((value * _INV32) - offset) & _MASK32


def perm24(i: int) -> int:
    """Bijection of ``[0, 2**24)`` (used to give every access-log entry its own IP)."""
    return ((i & _MASK24) * _MUL24 + 0x3A5F17) & _MASK24


def unperm24(value: int) -> int:
    """Inverse of :func:`perm24`."""
    return (((value - 0x3A5F17) & _MASK24) * _INV24) & _MASK24


_PAD = "~"


def encode_cursor(kind: str, *fields: object) -> str:
    """Opaque cursor: standard base64 of ``kind:field:…``, always ending in ``=``."""
    payload = ":".join([kind, *(str(f) for f in fields)])
    if len(payload.encode()) % 3 == 0:
        payload += _PAD
    return base64.b64encode(payload.encode()).decode()


def decode_cursor(cursor: str, kind: str) -> list[str] | None:
    """Fields of a cursor made by :func:`encode_cursor` for ``kind``; None when invalid."""
    try:
        payload = base64.b64decode(cursor.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    payload = payload.removesuffix(_PAD)
    parts = payload.split(":")
    if len(parts) < 2 or parts[0] != kind:
        return None
    return parts[1:]
