"""The emulated organisation: workspaces, member ids, roles and the facts about each member.

Member ``i`` is computed on demand from ``(seed, i)``; #0 is ``USLACKBOT`` (``is_bot`` false),
#1 the primary owner, #2 an admin, #3 a bot, #4 a deactivated user, #5 a multi-channel guest,
#6 a single-channel guest, #7 an invited user, #8 an owner; from #9 on roles follow a fixed
100-slot pattern (3 % bots, 7 % deleted, 4 % multi-channel guests, 2 % single-channel guests,
2 % admins, 1 % owners, 2 % invited, the rest regular members).

User ids are ``U…`` (``W…`` on Enterprise Grid) followed by a seed tag and a bijective hex
code of the index, so an id maps back to its index without any table.

Each Slack method family renders these facts in its own module (:mod:`.members`,
:mod:`.billing`, :mod:`.admin_users`, :mod:`.access_logs`, :mod:`.integration_logs`);
:class:`.workspace.Workspace` combines them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from .._det import Det, draws, hex_id, perm32, unperm32
from ..config import Clock, WorkspaceConfig
from .vocabulary import (
    APP_NAMES,
    COLORS,
    COMPANIES,
    FIRST_NAMES,
    LAST_NAMES,
    LOCALES,
    REGIONS,
    TIMEZONES,
    TITLES,
)

DAY = 86400

# Forced roles of the first members so every workspace (even a tiny one) has each kind.
_FORCED_ROLES = {
    0: "slackbot",
    1: "primary_owner",
    2: "admin",
    3: "bot",
    4: "deleted",
    5: "guest",
    6: "single_guest",
    7: "invited",
    8: "owner",
}


def _slot_role(slot: int) -> str:
    if slot < 3:
        return "bot"
    if slot < 10:
        return "deleted"
    if slot < 14:
        return "guest"
    if slot < 16:
        return "single_guest"
    if slot < 18:
        return "admin"
    if slot < 19:
        return "owner"
    if slot < 21:
        return "invited"
    return "member"


@dataclass(frozen=True)
class Team:
    """One workspace (team) of the organisation."""

    index: int
    id: str
    name: str
    domain: str
    email_domain: str


@dataclass(frozen=True)
class Enterprise:
    """The Enterprise Grid organisation (only when ``enterprise=True``)."""

    id: str
    name: str
    domain: str


class UserCore(NamedTuple):
    """The facts about one member from which every API shape is rendered."""

    number: int
    id: str
    team_ids: tuple[str, ...]
    role: str
    first_name: str
    last_name: str
    username: str
    real_name: str
    display_name: str
    email: str
    title: str
    is_bot: bool
    deleted: bool
    is_restricted: bool
    is_ultra_restricted: bool
    is_admin: bool
    is_owner: bool
    is_primary_owner: bool
    is_invited: bool
    has_2fa: bool
    two_factor_type: str
    has_sso: bool
    tz_index: int
    locale: str
    color: str
    avatar_hash: str
    created: int
    updated: int
    deactivated_ts: int
    expiration_ts: int
    last_active_ts: int
    billing_active: bool
    employee_number: str
    bot_id: str
    app_id: str
    custom_image: bool


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


class Organisation:
    """Ids, workspaces and member facts of one emulated organisation (one team, or a Grid org
    with several); the base every method family's data builds on."""

    def __init__(self, config: WorkspaceConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.seed = config.seed
        self.base_now = int(config.now if config.now is not None else time.time())
        self.user_count = config.users
        self._offset = int.from_bytes(Det(config.seed, "offset").hex(8).encode(), "little") & (
            (1 << 31) - 1
        )
        self._slot_offset = self._offset % 100
        self._tag = hex_id(2, config.seed, "tag")
        self._prefix = "W" if config.enterprise else "U"
        company = Det(config.seed, "company").pick(COMPANIES)
        self.company = company
        self.enterprise: Enterprise | None = None
        if config.enterprise:
            self.enterprise = Enterprise(
                id="E" + hex_id(8, config.seed, "enterprise"),
                name=f"{company} Corporation",
                domain=_slug(company) + "-corp",
            )
        self.teams: list[Team] = []
        for t in range(config.workspaces):
            name = f"{company} {REGIONS[t % len(REGIONS)]}" + (
                f" {t // len(REGIONS) + 1}" if t >= len(REGIONS) else ""
            )
            if not config.enterprise:
                name = f"{company} Workspace"
            self.teams.append(
                Team(
                    index=t,
                    id="T" + hex_id(8, config.seed, "team", t),
                    name=name,
                    domain=_slug(name),
                    email_domain=_slug(company) + ".example.com",
                )
            )
        self._team_by_id = {t.id: t for t in self.teams}
        self._core_cache: dict[int, UserCore] = {}
        self.app_id = "A0" + hex_id(8, config.seed, "app")
        self.client_id = f"{1000000000 + self._offset % 900000000}.{4000000000 + self._offset}"

    # ------------------------------------------------------------------ teams / ids
    @property
    def primary_team(self) -> Team:
        """The first workspace (the one workspace-level tokens belong to by default)."""
        return self.teams[0]

    @property
    def team_ids(self) -> list[str]:
        """Ids of every workspace of the organisation (primary first)."""
        return [t.id for t in self.teams]

    def team(self, team_id: str) -> Team | None:
        """The team with this id, or None."""
        return self._team_by_id.get(team_id)

    def is_denied(self, team_id: str) -> bool:
        """Whether an org-level token is refused in this workspace (``denied_workspaces``)."""
        team = self._team_by_id.get(team_id)
        return team is not None and team.index in self.config.denied_workspaces

    def user_id(self, i: int) -> str:
        """Id of member ``i`` (``USLACKBOT`` for 0)."""
        if i == 0:
            return "USLACKBOT"
        return f"{self._prefix}{self._tag}{perm32(i, self._offset):08X}"

    def user_index(self, user_id: str, *, limit: int | None = None) -> int | None:
        """Index of a member id, or None when it is not a member (``limit`` defaults to the
        number of members)."""
        bound = self.user_count if limit is None else limit
        if user_id == "USLACKBOT":
            return 0
        head = self._prefix + self._tag
        if len(user_id) != len(head) + 8 or not user_id.startswith(head):
            return None
        try:
            code = int(user_id[len(head) :], 16)
        except ValueError:
            return None
        i = unperm32(code, self._offset)
        if i <= 0 or i >= bound or self.user_id(i) != user_id:
            return None
        return i

    def role(self, i: int) -> str:
        """Role key of member ``i`` (cheap: no hashing)."""
        forced = _FORCED_ROLES.get(i)
        if forced is not None:
            return forced
        return _slot_role((i * 37 + self._slot_offset) % 100)

    def is_human(self, i: int) -> bool:
        """Not a bot and not USLACKBOT."""
        return self.role(i) not in ("bot", "slackbot")

    def team_ids_of(self, i: int) -> tuple[str, ...]:
        """Workspaces member ``i`` belongs to (primary first)."""
        k = len(self.teams)
        if k == 1:
            return (self.teams[0].id,)
        if i in (0, 1):
            return tuple(t.id for t in self.teams)
        primary = i % k
        if Det(self.seed, "teams", i).chance(0.1):
            return (self.teams[primary].id, self.teams[(primary + 1) % k].id)
        return (self.teams[primary].id,)

    def in_team(self, i: int, team_id: str | None) -> bool:
        """Whether member ``i`` belongs to ``team_id`` (None = the whole org)."""
        if team_id is None or len(self.teams) == 1:
            return team_id is None or team_id == self.teams[0].id
        return team_id in self.team_ids_of(i)

    # ------------------------------------------------------------------ members
    def user_core(self, i: int) -> UserCore:
        """The facts about member ``i`` (any ``i >= 0``; indices past ``user_count`` describe
        former members that only appear in analytics)."""
        cached = self._core_cache.get(i)
        if cached is not None:
            return cached
        core = self._make_core(i)
        if len(self._core_cache) > 50_000:
            self._core_cache.clear()
        self._core_cache[i] = core
        return core

    def _make_core(self, i: int) -> UserCore:
        # One 64-byte digest gives 16 words; every field reads fixed words, so computing a
        # member costs one hash (this runs for every analytics row).
        v = draws(self.seed, "user", i)
        role = self.role(i)
        now = self.base_now
        first = FIRST_NAMES[(v[0] & 0xFFFF) % len(FIRST_NAMES)]
        last = LAST_NAMES[(v[0] >> 16) % len(LAST_NAMES)]
        tz_index = (v[5] & 0xFF) % len(TIMEZONES)
        locale = LOCALES[((v[5] >> 8) & 0xFF) % len(LOCALES)]
        color = COLORS[((v[5] >> 16) & 0xFF) % len(COLORS)]
        title = TITLES[(v[5] >> 24) % len(TITLES)]
        avatar = f"{v[6]:08x}{v[7] & 0xFFFF:04x}"
        team_ids = self.team_ids_of(i)
        domain = self.teams[0].email_domain
        is_bot = role == "bot"
        bot_id = app_id = ""
        if role == "slackbot":
            first, last = "slackbot", ""
            username, real_name, display = "slackbot", "Slackbot", "Slackbot"
            email = ""
            created = 0
        elif is_bot:
            app = APP_NAMES[v[12] % len(APP_NAMES)]
            first, last = app, ""
            username = f"{_slug(app).replace('-', '')}{i}"
            real_name, display = app, ""
            email = ""
            bot_id = "B0" + hex_id(8, self.seed, "bot", i)
            app_id = "A0" + hex_id(8, self.seed, "botapp", i)
            created = now - (5 * DAY + v[1] % (895 * DAY))
        else:
            username = f"{first.lower()}.{last.lower()}{i}"
            real_name = f"{first} {last}"
            display = username if (v[8] & 0xFFFF) < 39322 else ""  # 60 %
            email = f"{username}@{domain}"
            created = now - (5 * 365 * DAY if i == 1 else 2 * DAY + v[1] % (4 * 365 * DAY))
        deleted = role == "deleted"
        deactivated = 0
        if deleted:
            deactivated = min(now - DAY, created + DAY + v[3] % (400 * DAY))
            created = min(created, deactivated - DAY)
        updated = deactivated if deleted else max(created, now - v[4] % (300 * DAY))
        guest = role in ("guest", "single_guest")
        expiration = 0
        if guest and (v[10] & 0xFFFF) < 32768:
            expiration = now + 7 * DAY + (v[10] >> 16) * 173 * DAY // 65536
        admin = role in ("admin", "owner", "primary_owner")
        has_2fa = (not is_bot) and role != "slackbot" and (v[8] >> 16) < (58982 if admin else 26214)
        if role in ("invited", "slackbot"):
            last_active = 0
        elif deleted:
            last_active = max(created, deactivated - v[11] % (30 * DAY))
        else:
            last_active = now - v[11] % (45 * DAY)
        bill_roll = v[2] & 0xFFFF
        if role in ("member", "admin", "owner", "primary_owner"):
            billing = bill_roll < 58982 or i in (1, 2, 8)  # 90 %
        elif role == "guest":
            billing = bill_roll < 49152  # 75 %
        else:
            billing = False
        return UserCore(
            number=i,
            id=self.user_id(i),
            team_ids=team_ids,
            role=role,
            first_name=first,
            last_name=last,
            username=username,
            real_name=real_name,
            display_name=display,
            email=email,
            title=title if not is_bot else "",
            is_bot=is_bot,
            deleted=deleted,
            is_restricted=guest,
            is_ultra_restricted=role == "single_guest",
            is_admin=admin,
            is_owner=role in ("owner", "primary_owner"),
            is_primary_owner=role == "primary_owner",
            is_invited=role == "invited",
            has_2fa=has_2fa,
            two_factor_type=("app" if (v[9] & 0xFFFF) < 45875 else "sms") if has_2fa else "",
            has_sso=self.config.enterprise and not is_bot and (v[9] >> 16) < 45875,
            tz_index=tz_index,
            locale=locale,
            color=color,
            avatar_hash=avatar,
            created=created,
            updated=updated,
            deactivated_ts=deactivated,
            expiration_ts=expiration,
            last_active_ts=last_active,
            billing_active=billing,
            employee_number=f"{100000 + i}" if not is_bot and (v[2] >> 16) < 55705 else "",
            bot_id=bot_id,
            app_id=app_id,
            custom_image=role not in ("slackbot", "bot") and (v[7] >> 16) < 26214,  # 40 %
        )

    def scan(
        self, start: int, limit: int, keep: Callable[[int], bool], *, end: int | None = None
    ) -> tuple[list[int], int | None]:
        """Up to ``limit`` indices ``>= start`` accepted by ``keep``, and the index of the next
        accepted member after them (None when there is none)."""
        stop = self.user_count if end is None else end
        out: list[int] = []
        i = start
        while i < stop and len(out) < limit:
            if keep(i):
                out.append(i)
            i += 1
        while i < stop:
            if keep(i):
                return out, i
            i += 1
        return out, None
