"""The workspace streams (``tap_slack_snow.streams.workspace``): users, team and billing
against the emulator, exact.
"""

from __future__ import annotations

from pathlib import Path

from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_emulator import ENTERPRISE_USER_SCOPES, SlackEmulator
from tests._support import oauth_config, sync

CORE = select_only("users", "team", "billing")


def test_users_team_billing_exact(emulator: SlackEmulator, tmp_path: Path) -> None:
    config = oauth_config(emulator, tmp_path, scopes=ENTERPRISE_USER_SCOPES)
    result = sync(config, catalog=CORE)
    assert result.exit_code == 0
    users = result.records["users"]
    assert len(users) == emulator.workspace.user_count
    assert len({u["id"] for u in users}) == len(users)
    assert {u["deleted"] for u in users} == {True, False}
    assert any(u["is_bot"] for u in users)
    assert any(u.get("is_restricted") for u in users)
    assert all("email" in u["profile"] for u in users if not u["is_bot"] and u["id"] != "USLACKBOT")
    # Unix time kept raw, shown as a date-time
    sample = next(u for u in users if u.get("updated_unix"))
    assert sample["updated"].endswith("+00:00")
    assert result.count("team") == 1
    assert result.records["billing"] == [
        {
            "team_id": result.records["team"][0]["id"],
            "enterprise_id": None,
            "plan": "plus",
            "plan_label": "Business+",
        }
    ]
    # one page of 1000 members, one team.info, one team.billing.info, auth.test, one refresh
    assert emulator.calls["users.list"] == 1
    assert emulator.calls["oauth.v2.access"] == 1
