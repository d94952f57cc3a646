"""The guide's privacy example: stream maps that hash e-mail addresses and drop IP addresses.

The stream maps are read from docs/privacy.md itself (the JSON block after the
``privacy-stream-maps`` marker), so the documented config is the tested one. The tap runs as
a real process against the emulator; the test then looks for every e-mail address and IP
address the emulator holds in the whole Singer output.
"""

from __future__ import annotations

import hashlib
import json
import re
import typing as t
from pathlib import Path

from tap_slack_snow_devkit.emulators import EmulatorFactory
from tap_slack_snow_emulator import (
    ENTERPRISE_USER_SCOPES,
    STANDARD_USER_SCOPES,
    WorkspaceConfig,
)
from tests._support import oauth_config, run_cli

PRIVACY_DOC = Path(__file__).resolve().parents[1] / "docs" / "privacy.md"
START_DATE = "2015-01-01T00:00:00Z"


def documented_privacy_config() -> dict[str, t.Any]:
    """The JSON block that follows the privacy-stream-maps marker in docs/privacy.md."""
    text = PRIVACY_DOC.read_text(encoding="utf-8")
    found = re.search(r"<!-- privacy-stream-maps.*?-->\n```json\n(.*?)\n```", text, re.DOTALL)
    assert found, "docs/privacy.md lost its privacy-stream-maps example"
    config = json.loads(found.group(1))
    assert set(config) == {"stream_maps", "stream_map_config"}
    return config


ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def salted_md5(salt: str, value: str) -> str:
    return hashlib.md5((salt + value).encode()).hexdigest()


def records(result: t.Any, stream: str) -> list[dict[str, t.Any]]:
    return [m["record"] for m in result.messages if m["type"] == "RECORD" and m["stream"] == stream]


def schema(result: t.Any, stream: str) -> dict[str, t.Any]:
    found = [m for m in result.messages if m["type"] == "SCHEMA" and m["stream"] == stream]
    assert found, f"no SCHEMA message for {stream}"
    return found[-1]


def test_documented_maps_hash_emails_and_drop_ips(
    emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    privacy = documented_privacy_config()
    salt = privacy["stream_map_config"]["salt"]
    emu = emulator_factory(WorkspaceConfig(seed=7, users=120, plan="plus", access_logs=300))
    config = oauth_config(
        emu,
        tmp_path,
        scopes=[*STANDARD_USER_SCOPES, "users:read.email"],
        start_date=START_DATE,
        **privacy,
    )
    result = run_cli(config, tmp_path)
    assert result.exit_code == 0, result.stderr[-2000:]

    members = {m["id"]: m for m in emu.workspace.members()}
    emails = {m["id"]: m["profile"]["email"] for m in members.values() if m["profile"].get("email")}
    entries = emu.workspace.access_log_entries()
    ips = {e["ip"] for e in entries}
    assert len(emails) > 50
    assert len(ips) > 10

    # Nothing the emulator knows as an e-mail address or an IP address reaches the output.
    output = result.stdout
    leaked = [e for e in emails.values() if e in output] + [ip for ip in ips if f'"{ip}"' in output]
    assert leaked == []

    users = records(result, "users")
    assert {u["id"] for u in users} == set(members)
    for user in users:
        assert "email" not in (user["profile"] or {})
        expected = salted_md5(salt, emails[user["id"]]) if user["id"] in emails else None
        assert user["email_hash"] == expected
        # The rest of the profile is kept.
        assert user["profile"]["real_name"] == members[user["id"]]["profile"]["real_name"]
    assert "email_hash" in schema(result, "users")["schema"]["properties"]

    logs = records(result, "access_logs")
    assert len(logs) == len(entries)
    assert all("ip" not in row for row in logs)
    assert sorted(row["ip_hash"] for row in logs) == sorted(
        salted_md5(salt, e["ip"]) for e in entries
    )
    access_schema = schema(result, "access_logs")
    assert access_schema["key_properties"] == ["user_id", "ip_hash", "user_agent"]
    assert "ip" not in access_schema["schema"]["properties"]

    roster = {u["id"]: u for u in emu.workspace.scim_users()}
    scim = records(result, "scim_users")
    assert {r["id"] for r in scim} == set(roster)
    for row in scim:
        assert not {"emails", "phone_numbers", "addresses"} & set(row)
        primary = [e for e in roster[row["id"]]["emails"] if e.get("primary")]
        first = (primary or roster[row["id"]]["emails"])[0]["value"]
        assert row["email"] == salted_md5(salt, first)
        assert row["department"] == (roster[row["id"]].get(ENTERPRISE) or {}).get("department")
    scim_emails = {e["value"] for u in roster.values() for e in u["emails"]}
    assert [e for e in scim_emails if e in output] == []


def test_documented_maps_hash_admin_user_emails_on_grid(
    emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    privacy = documented_privacy_config()
    salt = privacy["stream_map_config"]["salt"]
    emu = emulator_factory(
        WorkspaceConfig(seed=11, users=90, plan="enterprise", enterprise=True, workspaces=2)
    )
    config = oauth_config(
        emu,
        tmp_path,
        scopes=ENTERPRISE_USER_SCOPES,
        org_level=True,
        start_date=START_DATE,
        **privacy,
    )
    result = run_cli(config, tmp_path)
    assert result.exit_code == 0, result.stderr[-2000:]

    expected = {u["id"]: u.get("email") for u in emu.workspace.admin_users(is_active=None)}
    assert sum(1 for e in expected.values() if e) > 30
    rows = records(result, "admin_users")
    assert {r["id"] for r in rows} == set(expected)
    for row in rows:
        email = expected[row["id"]]
        assert row["email"] == (salted_md5(salt, email) if email else None)

    analytics = records(result, "member_analytics")
    assert analytics
    for row in analytics:
        email = expected.get(row["user_id"])
        if email:
            assert row["email_address"] == salted_md5(salt, email)

    # No address of the org's members appears anywhere in the output, in any stream.
    emails = {e for e in expected.values() if e}
    emails |= {m["profile"]["email"] for m in emu.workspace.members() if m["profile"].get("email")}
    assert [e for e in emails if e in result.stdout] == []
