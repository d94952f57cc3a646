"""The Slack emulator's answers edited on their way out, for values Slack may send but the
emulator never makes (a lone surrogate, a NUL character, a 50 MB line). The answers still go
over real HTTP, encoded as the emulator encodes them (``json.dumps``: non-ASCII as escapes).
"""

from __future__ import annotations

import gzip
import typing as t

from tap_slack_snow_emulator import SlackEmulator
from tap_slack_snow_emulator.api import Reply


def _wrap(emu: SlackEmulator, method: str, edit: t.Callable[[Reply], None]) -> None:
    handle = emu.api.handle

    def edited(method_name: str, *args: t.Any, **kwargs: t.Any) -> Reply:
        reply = handle(method_name, *args, **kwargs)
        if method_name == method and reply.status == 200:
            edit(reply)
        return reply

    emu.api.handle = edited  # type: ignore[method-assign]


def edit_json(emu: SlackEmulator, method: str, edit: t.Callable[[dict[str, t.Any]], None]) -> None:
    """``edit(payload)`` changes every ``ok`` JSON answer of ``method`` in place."""

    def apply(reply: Reply) -> None:
        if reply.payload is not None and reply.payload.get("ok"):
            edit(reply.payload)
            reply.body = None

    _wrap(emu, method, apply)


def edit_day_files(emu: SlackEmulator, edit: t.Callable[[list[bytes]], list[bytes]]) -> None:
    """``edit(lines)`` gives the lines of every member_analytics day file served."""

    def apply(reply: Reply) -> None:
        if reply.content_type != "application/gzip":
            return
        lines = gzip.decompress(reply.materialize()).splitlines()
        reply.body = gzip.compress(b"".join(line + b"\n" for line in edit(lines)), 1)
        reply.stream = None

    _wrap(emu, "admin.analytics.getFile", apply)
