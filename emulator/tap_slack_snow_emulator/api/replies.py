"""What a method answers: a Slack error, or the reply the HTTP layer sends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

JSON_TYPE = "application/json; charset=utf-8"


class ApiError(Exception):
    """A Slack error answer."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


@dataclass
class Reply:
    """What the HTTP layer sends."""

    status: int = 200
    payload: dict[str, Any] | None = None
    body: bytes | None = None
    content_type: str = JSON_TYPE
    headers: list[tuple[str, str]] = field(default_factory=list)
    stream: Iterator[bytes] | None = None
    reset: bool = False
    hard_reset: bool = False
    delay: float = 0.0

    def materialize(self) -> bytes:
        """The whole body (serialising the payload / draining the stream)."""
        if self.body is None:
            if self.payload is not None:
                self.body = json.dumps(self.payload, separators=(",", ":")).encode()
            elif self.stream is not None:
                self.body = b"".join(self.stream)
            else:
                self.body = b""
            self.stream = None
        return self.body
