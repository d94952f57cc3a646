"""The SCIM side of the licence-model checks: what the emulator's SCIM roster says about each
member (department, cost centre, manager, created date), read from the SCIM resources the
emulator serves at ``/scim/v2/Users`` (never re-derived from its generator), and the models'
columns and per-department counts against it, member by member."""

from __future__ import annotations

import datetime as dt
import typing as t
from collections import defaultdict

from tap_slack_snow_emulator.data.scim import ENTERPRISE_URN
from tests.e2e.dbt_support import GUEST_KINDS, MODELS, Truth, Warehouse, money

if t.TYPE_CHECKING:
    from tap_slack_snow_emulator.data import Workspace

#: seats' SCIM columns -> the enterprise extension's field.
HR_FIELDS = {
    "department": "department",
    "cost_center": "costCenter",
    "division": "division",
    "organization": "organization",
    "employee_number": "employeeNumber",
}


def _text(value: t.Any) -> str | None:
    return None if value in (None, "") else str(value)


def _utc(value: t.Any) -> dt.datetime | None:
    """A SCIM or warehouse date-time as naive UTC (the models' timestamp type)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


def scim_roster(ws: Workspace) -> dict[str, dict[str, t.Any]]:
    """Per SCIM user id: the HR columns, manager and created date the SCIM answer carries."""
    roster: dict[str, dict[str, t.Any]] = {}
    for user in ws.scim_users():
        hr = user.get(ENTERPRISE_URN) or {}
        row = {column: _text(hr.get(name)) for column, name in HR_FIELDS.items()}
        row["manager_id"] = _text((hr.get("manager") or {}).get("managerId"))
        row["created_at"] = _utc(user["meta"]["created"])
        roster[user["id"]] = row
    return roster


def assert_scim_matches(
    wh: Warehouse, truth: Truth, roster: dict[str, dict[str, t.Any]], scope_id: str
) -> None:
    """slack__seats' SCIM columns, slack__licence_by_department's counts and the reclaim
    list's department and manager equal what the SCIM roster says, member by member."""
    got = wh.seats()
    assert set(got) == set(truth.kinds)
    for user, seat in got.items():
        held = roster.get(user)
        assert seat["has_scim_record"] == (held is not None), user
        for column in (*HR_FIELDS, "manager_id"):
            assert seat[column] == (held and held[column]), (user, column)
        if held is not None:
            assert _utc(seat["created_at"]) == held["created_at"], user
            assert seat["created_at_source"] == "scim_users", user
        else:
            assert seat["created_at_source"] != "scim_users", user
    # The check can tell departments apart: several, some members without one.
    departments = [roster[u]["department"] for u in truth.kinds if u in roster]
    assert len(set(departments) - {None}) > 2
    assert None in departments

    idle = truth.idle()
    expected: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for user in truth.kinds:
        department = (roster.get(user) or {}).get("department") or "(none)"
        paid = user in truth.billable
        expected[department]["accounts"] += 1
        expected[department]["seats_billed"] += paid
        expected[department]["idle_paid_seats"] += user in idle
        expected[department]["active_paid_seats"] += paid and truth.status(user) == "active"
        expected[department]["guest_seats_billed"] += paid and truth.kinds[user] in GUEST_KINDS
    by_department = {
        r["department"]: r
        for r in wh.rows(
            f"SELECT * FROM {MODELS}.slack__licence_by_department "
            f"WHERE grain = 'workspace' AND scope_id = '{scope_id}'"
        )
    }
    assert set(by_department) == set(expected)
    for department, counts in expected.items():
        row = by_department[department]
        for column, value in counts.items():
            assert row[column] == value, (department, column)
        assert money(row["idle_paid_cost_month"]) == money(
            (truth.price or 0) * counts["idle_paid_seats"]
        )

    reclaim = wh.rows(f"SELECT * FROM {MODELS}.slack__reclaim_candidates")
    assert reclaim
    for candidate in reclaim:
        held = roster.get(candidate["user_id"]) or {}
        manager = held.get("manager_id")
        assert candidate["department"] == held.get("department"), candidate["user_id"]
        assert candidate["manager_id"] == manager, candidate["user_id"]
        expected_name = got[manager]["real_name"] if manager in got else None
        assert candidate["manager_name"] == expected_name, candidate["user_id"]
