"""Users as Slack's SCIM v2 API (``GET /scim/v2/Users``) returns them.

The SCIM roster is the same people as ``users.list`` (same ids), without Slackbot and bots,
which Slack's SCIM API does not list: people, guests, invited and deactivated users
(``active: false``). Besides the core fields it carries what an identity provider pushes:
the enterprise extension (employee number, cost centre, organisation, division, department,
manager) for most members but not all, and the Slack guest extension for guests (``type``
``multi`` or ``single``, ``expiration`` only for guests who expire). The shapes follow the
recorded answer (java-slack-sdk ``json-logs/samples/scim/v2/Users.json``): ``meta.created``
with the member's UTC offset, an empty ``{}`` entry in some ``addresses`` lists, ``manager``
as ``{}`` when none is set.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from .._det import Det, hex_id
from .organisation import Organisation
from .vocabulary import DEPARTMENTS, TIMEZONES

CORE_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GUEST_URN = "urn:ietf:params:scim:schemas:extension:slack:guest:2.0:User"
LIST_URN = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
#: Share of members (per mille) whose identity provider filled the enterprise extension.
ENTERPRISE_PER_MILLE = 850


def _iso(seconds: int, offset: int = 0) -> str:
    """A Unix time as ISO 8601 with a UTC offset in seconds (``Z`` for UTC)."""
    moment = datetime.fromtimestamp(seconds, tz=timezone(timedelta(seconds=offset)))
    text = moment.isoformat()
    return text.replace("+00:00", "Z") if offset == 0 else text


class ScimDirectory(Organisation):
    """The SCIM view of the organisation's members."""

    _scim_order: list[int] | None = None

    def is_scim_user(self, i: int) -> bool:
        """Whether member ``i`` is listed by SCIM (every person; no Slackbot, no bots)."""
        return self.role(i) not in ("slackbot", "bot")

    def scim_indices(self) -> list[int]:
        """Indices of the SCIM users, in the order SCIM lists them."""
        order = self._scim_order
        if order is None:
            order = self._scim_order = [i for i in range(self.user_count) if self.is_scim_user(i)]
        return order

    def scim_manager(self, i: int) -> int | None:
        """Member ``i``'s manager (an active person listed before it), or None."""
        det = Det(self.seed, "scim-manager", i)
        if i <= 1 or det.chance(0.12):
            return None
        span = max(1, min(i - 1, max(8, self.user_count // 25)))
        j = 1 + det.below(span)
        while j > 1 and (not self.is_scim_user(j) or self.role(j) == "deleted"):
            j -= 1
        return j

    def scim_department(self, i: int) -> int | None:
        """Index of member ``i``'s department in DEPARTMENTS (None: no enterprise extension)."""
        det = Det(self.seed, "scim-hr", i)
        if det.below(1000) >= ENTERPRISE_PER_MILLE:
            return None
        roll = det.below(36)  # triangular weights: earlier departments are larger
        k = 0
        while roll >= len(DEPARTMENTS) - k:
            roll -= len(DEPARTMENTS) - k
            k += 1
        return min(k, len(DEPARTMENTS) - 1)

    def scim_user(self, i: int) -> dict[str, Any]:
        """Member ``i`` as a SCIM v2 user resource."""
        u = self.user_core(i)
        det = Det(self.seed, "scim", i)
        offset = TIMEZONES[u.tz_index][2]
        team = self.team(u.team_ids[0]) or self.primary_team
        schemas = [CORE_URN]
        user: dict[str, Any] = {
            "schemas": schemas,
            "id": u.id,
            "externalId": ("00u" + hex_id(17, self.seed, "okta", i)) if det.chance(0.7) else "",
            "meta": {
                "created": _iso(u.created, offset),
                "location": f"https://api.slack.com/scim/v2/Users/{u.id}",
            },
            "userName": u.username,
            "nickName": u.username,
            "name": {"givenName": u.first_name, "familyName": u.last_name},
            "displayName": u.display_name,
            "profileUrl": f"https://{team.domain}.slack.com/team/{u.id}",
            "title": u.title,
            "timezone": TIMEZONES[u.tz_index][0],
            "active": not u.deleted,
            "emails": self._emails(u.email, det),
            "photos": [
                {
                    "value": f"https://secure.gravatar.com/avatar/{u.avatar_hash}.jpg?s=192",
                    "type": "photo",
                }
            ],
            "addresses": self._addresses(det),
            "phoneNumbers": (
                [{"value": f"+1-555-01{i % 100:02d}", "type": "mobile", "primary": True}]
                if det.chance(0.3)
                else []
            ),
            "roles": [
                {"value": role, "primary": n == 0}
                for n, role in enumerate(
                    ["primary_owner", "owner", "admin"][
                        0 if u.is_primary_owner else 1 if u.is_owner else 2 :
                    ]
                    if u.is_admin
                    else []
                )
            ],
            "groups": [],
        }
        department = self.scim_department(i)
        if department is not None:
            schemas.append(ENTERPRISE_URN)
            name, division, cost_centre = DEPARTMENTS[department]
            manager = self.scim_manager(i)
            user[ENTERPRISE_URN] = {
                "employeeNumber": u.employee_number or str(100000 + i),
                "costCenter": cost_centre,
                "organization": self.company,
                "division": division,
                "department": name,
                "manager": {} if manager is None else {"managerId": self.user_id(manager)},
            }
            group = "S0" + hex_id(8, self.seed, "dept", department)
            user["groups"] = [{"value": group, "display": name}]
        if u.is_restricted:
            schemas.append(GUEST_URN)
            guest: dict[str, Any] = {"type": "single" if u.is_ultra_restricted else "multi"}
            if u.expiration_ts:
                guest["expiration"] = _iso(u.expiration_ts)
            user[GUEST_URN] = guest
        return user

    @staticmethod
    def _emails(email: str, det: Det) -> list[dict[str, Any]]:
        roll = det.below(20)
        if roll < 2:  # a personal address first, the work one primary
            home = email.split("@", maxsplit=1)[0] + "@home.example.net"
            return [
                {"value": home, "type": "home", "primary": False},
                {"value": email, "type": "work", "primary": True},
            ]
        if roll < 3:  # no primary flag at all
            return [{"value": email}]
        return [{"value": email, "primary": True}]

    @staticmethod
    def _addresses(det: Det) -> list[dict[str, Any]]:
        roll = det.below(10)
        street = {
            "streetAddress": f"{det.between(1, 999)} Market Street",
            "locality": "San Francisco",
            "region": "CA",
            "postalCode": "94105",
            "country": "US",
            "primary": True,
        }
        if roll < 2:
            return [{}]  # an empty entry, as recorded
        if roll < 3:
            return [{}, street]
        if roll < 6:
            return [street]
        return []

    def scim_users(self) -> list[dict[str, Any]]:
        """Every SCIM user, in SCIM's order."""
        return [self.scim_user(i) for i in self.scim_indices()]
