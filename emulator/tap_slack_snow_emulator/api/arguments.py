"""One authenticated call and the parsing of its arguments, shared by every method."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .replies import ApiError

if TYPE_CHECKING:
    from ..oauth import AccessToken


@dataclass
class Call:
    """One authenticated method call."""

    method: str
    args: dict[str, Any]
    token: AccessToken

    @property
    def scopes(self) -> tuple[str, ...]:
        """Scopes of the calling token."""
        return self.token.grant.scopes


def arg_str(args: dict[str, Any], name: str) -> str | None:
    """A string argument; empty and null count as absent."""
    value = args.get(name)
    if value is None or value == "":
        return None
    return str(value)


def arg_int(args: dict[str, Any], name: str, default: int) -> int:
    """An integer argument (``invalid_arguments`` when not a number)."""
    value = args.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise ApiError("invalid_arguments")
    try:
        return int(str(value).strip())
    except ValueError:
        raise ApiError("invalid_arguments") from None


def arg_bool(args: dict[str, Any], name: str, default: bool) -> bool:
    """A boolean argument (``true``/``1``/``false``/``0``)."""
    value = args.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ApiError("invalid_arguments")


def paging(count: int, total: int, page: int) -> dict[str, int]:
    """The ``paging`` object of the classic page-numbered methods."""
    return {"count": count, "total": total, "page": page, "pages": max(1, math.ceil(total / count))}
