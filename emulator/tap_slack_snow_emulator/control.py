"""The emulator's control API: how a separately started emulator is driven over HTTP.

Paths outside ``/api/``:

* ``POST /_emulator/faults`` — JSON Fault (or list of them): ``{"method", "kind", "on_call",
  "times", "workspace", …extra}``
* ``POST /_emulator/reset-faults``
* ``GET  /_emulator/stats`` — ``{"calls", "rate_limited", "refreshes", "query_token_requests",
  "buckets"}`` (``buckets``: requests let through per rate-limit bucket, ``[{"method",
  "workspace", "allowed"}]``, while rate limits are on)
* ``POST /_emulator/issue-refresh-token`` — optional JSON ``{"scopes", "org_level",
  "user_is_admin"}``; answers ``{"refresh_token": …}``
* ``POST /_emulator/issue-access-token`` — same plus ``rotating``/``bot``; ``{"access_token"}``
* ``POST /_emulator/advance`` ``{"seconds": n}``, ``POST /_emulator/expire-access-tokens``,
  ``POST /_emulator/settings`` ``{"minute_seconds", "refresh_grace_seconds", "cache_pages",
  "scim_reads_per_minute"}``, ``POST /_emulator/scim/other-app-reads`` ``{"n"}`` (another
  app's SCIM reads, counted in the org's one SCIM bucket),
  ``POST /_emulator/access-logs/touch`` / ``/_emulator/access-logs/add`` ``{"n", "at"}``,
  ``POST /_emulator/integration-logs/add`` ``{"n"}``
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .api import JSON_TYPE, Reply
from .faults import Fault

if TYPE_CHECKING:
    from .server import SlackEmulator


def control_reply(emu: SlackEmulator, verb: str, path: str, body: bytes) -> Reply:
    """The answer to one control request (a 400 for a body that is not a JSON object or
    list, or a value of the wrong type)."""
    try:
        data: Any = json.loads(body) if body.strip() else {}
    except ValueError:
        return Reply(status=400, payload={"ok": False, "error": "invalid_json"})
    if not isinstance(data, (dict, list)):
        return Reply(status=400, payload={"ok": False, "error": "json_not_object"})
    opts: dict[str, Any] = data if isinstance(data, dict) else {}
    try:
        return _control_action(emu, verb, path, data, opts)
    except (KeyError, TypeError, ValueError) as exc:
        return Reply(status=400, payload={"ok": False, "error": str(exc)})


def _control_action(
    emu: SlackEmulator, verb: str, path: str, data: Any, opts: dict[str, Any]
) -> Reply:
    ok: dict[str, Any] = {"ok": True}
    if path == "/_emulator/stats" and verb == "GET":
        return Reply(payload=emu.stats(), content_type=JSON_TYPE)
    if verb != "POST":
        return Reply(status=405, payload={"ok": False, "error": "method_not_allowed"})
    if path == "/_emulator/faults":
        for item in data if isinstance(data, list) else [data]:
            emu.add_fault(Fault.from_json(item))
        return Reply(payload=ok)
    if path == "/_emulator/reset-faults":
        emu.clear_faults()
        return Reply(payload=ok)
    if path == "/_emulator/reset-stats":
        emu.reset_stats()
        return Reply(payload=ok)
    if path == "/_emulator/issue-refresh-token":
        token = emu.issue_refresh_token(
            opts.get("scopes"),
            org_level=bool(opts.get("org_level", False)),
            user_is_admin=bool(opts.get("user_is_admin", True)),
            team_id=opts.get("team_id"),
        )
        return Reply(payload={"ok": True, "refresh_token": token})
    if path == "/_emulator/issue-access-token":
        token = emu.issue_access_token(
            opts.get("scopes"),
            org_level=bool(opts.get("org_level", False)),
            user_is_admin=bool(opts.get("user_is_admin", True)),
            rotating=bool(opts.get("rotating", False)),
            bot=bool(opts.get("bot", False)),
            team_id=opts.get("team_id"),
        )
        return Reply(payload={"ok": True, "access_token": token})
    if path == "/_emulator/advance":
        emu.advance(float(opts.get("seconds", 0)))
        return Reply(payload={"ok": True, "now": emu.now()})
    if path == "/_emulator/expire-access-tokens":
        emu.expire_access_tokens()
        return Reply(payload=ok)
    if path == "/_emulator/settings":
        if "minute_seconds" in opts:
            value = opts["minute_seconds"]
            emu.minute_seconds = None if value is None else float(value)
        if "refresh_grace_seconds" in opts:
            emu.refresh_grace_seconds = float(opts["refresh_grace_seconds"])
        if "cache_pages" in opts:
            emu.cache_pages = bool(opts["cache_pages"])
        if "scim_reads_per_minute" in opts:
            emu.scim_reads_per_minute = int(opts["scim_reads_per_minute"])
        return Reply(payload=ok)
    if path == "/_emulator/scim/other-app-reads":
        allowed = emu.scim_other_app_reads(int(opts.get("n", 1)))
        return Reply(payload={"ok": True, "allowed": allowed})
    if path.startswith(("/_emulator/access-logs/", "/_emulator/integration-logs/")):
        emu.workspace_changed()
    if path == "/_emulator/access-logs/touch":
        entries = emu.workspace.touch_access_logs(int(opts.get("n", 1)), opts.get("at"))
        return Reply(payload={"ok": True, "entries": len(entries)})
    if path == "/_emulator/access-logs/add":
        entries = emu.workspace.add_access_logs(int(opts.get("n", 1)), opts.get("at"))
        return Reply(payload={"ok": True, "entries": len(entries)})
    if path == "/_emulator/integration-logs/add":
        logs = emu.workspace.add_integration_logs(int(opts.get("n", 1)))
        return Reply(payload={"ok": True, "entries": len(logs)})
    return Reply(status=404, payload={"ok": False, "error": "unknown_control_path"})
