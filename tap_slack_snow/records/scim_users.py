"""A SCIM user as a ``scim_users`` record: plain snake_case columns beside the raw objects.

SCIM names its fields in camelCase and puts HR attributes under extension URNs
(``urn:ietf:params:scim:schemas:extension:enterprise:2.0:User``), names no target stores as
a plain column: PostgreSQL folds case, others reject the colons and dots. So the record has a
top-level snake_case column for each field a licence team filters on (``department``,
``cost_center``, ``manager_id``, ``guest_expires_at``...), and keeps every object Slack sent
as it was (``name``, ``emails``, ``meta``, ``enterprise_extension``...), so nothing is lost.
Fields Slack adds later are kept as Slack sent them (the drift policy logs them once).
"""

from __future__ import annotations

import typing as t
from datetime import timezone

from tap_slack_snow.errors import MalformedPayloadError
from tap_slack_snow.inputs import parse_date_time
from tap_slack_snow.text import printable

ENTERPRISE_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GUEST_URN = "urn:ietf:params:scim:schemas:extension:slack:guest:2.0:User"

#: SCIM's top-level field -> the record's column (kept as sent, renamed only).
RENAMED: dict[str, str] = {
    "externalId": "external_id",
    "userName": "user_name",
    "nickName": "nick_name",
    "displayName": "display_name",
    "profileUrl": "profile_url",
    "phoneNumbers": "phone_numbers",
    ENTERPRISE_URN: "enterprise_extension",
    GUEST_URN: "guest_extension",
}
#: Enterprise extension field -> column.
ENTERPRISE_COLUMNS = {
    "employeeNumber": "employee_number",
    "costCenter": "cost_center",
    "organization": "organization",
    "division": "division",
    "department": "department",
}


def _object(value: t.Any) -> dict[str, t.Any]:
    return value if isinstance(value, dict) else {}


def _text(value: t.Any) -> str | None:
    """A string column: None for absent, null or empty (SCIM sends ``""`` for unset)."""
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def utc_date_time(value: t.Any) -> str | None:
    """A SCIM date-time (any offset) as UTC ISO 8601; None when absent, empty or not one."""
    parsed = parse_date_time(value) if isinstance(value, str) else None
    return parsed.astimezone(timezone.utc).isoformat() if parsed is not None else None


def primary_email(emails: t.Any) -> str | None:
    """The ``emails`` entry with ``primary: true``, else the first entry's value."""
    listed = emails if isinstance(emails, list) else []
    entries = [entry for entry in listed if isinstance(entry, dict)]
    chosen = next((entry for entry in entries if entry.get("primary") is True), None)
    if chosen is None and entries:
        chosen = entries[0]
    return _text(chosen.get("value")) if chosen is not None else None


def scim_user_record(user: t.Any, what: str) -> dict[str, t.Any]:
    """One SCIM user as its record (see the module docstring); a user that is not an
    object, or has no id, fails with one line (a record without its key cannot be stored)."""
    if not isinstance(user, dict):
        raise MalformedPayloadError(
            f"{what} returned a user as {type(user).__name__}, expected an object"
        )
    user_id = user.get("id")
    if not isinstance(user_id, str) or not user_id:
        raise MalformedPayloadError(
            f"{what} returned a user without an id (id: {printable(repr(user_id), 40)})"
        )
    record: dict[str, t.Any] = {RENAMED.get(key) or key: value for key, value in user.items()}
    name = _object(user.get("name"))
    enterprise = _object(user.get(ENTERPRISE_URN))
    guest = _object(user.get(GUEST_URN))
    record.update(
        given_name=_text(name.get("givenName")),
        family_name=_text(name.get("familyName")),
        email=primary_email(user.get("emails")),
        created_at=utc_date_time(_object(user.get("meta")).get("created")),
        manager_id=_text(_object(enterprise.get("manager")).get("managerId")),
        guest_type=_text(guest.get("type")),
        guest_expires_at=utc_date_time(guest.get("expiration")),
    )
    for field, column in ENTERPRISE_COLUMNS.items():
        record[column] = _text(enterprise.get(field))
    return record
