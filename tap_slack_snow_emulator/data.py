"""Deterministic, lazily generated Slack organisation data.

What is emulated (reference section in brackets):

* members of ``users.list`` / ``users.info`` (§4.1, §4.2): member ``i`` is computed on demand
  from ``(seed, i)``; #0 is ``USLACKBOT`` (``is_bot`` false), #1 the primary owner, #2 an
  admin, #3 a bot, #4 a deactivated user, #5 a multi-channel guest, #6 a single-channel guest,
  #7 an invited user, #8 an owner; from #9 on roles follow a fixed 100-slot pattern
  (3 % bots, 7 % deleted, 4 % multi-channel guests, 2 % single-channel guests, 2 % admins,
  1 % owners, 2 % invited, the rest regular members). Deactivated members carry only the
  keys Slack sends for them (no ``tz``, no role flags).
* ``team.billableInfo`` (§4.5): non-deleted, non-bot members (USLACKBOT excluded); about 80 %
  have ``billing_active: true`` (single-channel guests and invited users never).
* ``admin.users.list`` rows (§4.8) of the same people (USLACKBOT excluded, bots included).
* ``team.accessLogs`` entries (§4.6): entry ``k`` (0 = newest) is a pure function of ``k``;
  ``date_last`` strictly decreases with ``k`` except inside the configured tie block. Every
  entry has its own IP, so entries are unique per (user_id, ip, user_agent). Touched and added
  entries live in a small overlay that is merged with the lazy base sequence when paging.
* ``team.integrationLogs`` entries (§4.7), materialised (they are few), newest first.
* ``admin.analytics.getFile`` member rows (§4.9) live in :mod:`.analytics`.

User ids are ``U…`` (``W…`` on Enterprise Grid) followed by a seed tag and a bijective hex
code of the index, so an id maps back to its index without any table.
"""

from __future__ import annotations

import bisect
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from ._det import Det, draws, hex_id, perm24, perm32, unperm32
from .config import Clock, WorkspaceConfig

DAY = 86400

FIRST_NAMES = (
    "Ada",
    "Alan",
    "Grace",
    "Linus",
    "Margaret",
    "Ken",
    "Barbara",
    "Dennis",
    "Frances",
    "Edsger",
    "Radia",
    "Tim",
    "Katherine",
    "John",
    "Hedy",
    "Donald",
    "Sophie",
    "Guido",
    "Anita",
    "Bjarne",
    "Maria",
    "Jose",
    "Wei",
    "Yuki",
    "Priya",
    "Olu",
    "Fatima",
    "Lars",
    "Ingrid",
    "Mateo",
    "Chen",
    "Aisha",
    "Noah",
    "Emma",
    "Liam",
    "Olivia",
    "Hana",
    "Kofi",
    "Sven",
    "Zoe",
)
LAST_NAMES = (
    "Lovelace",
    "Turing",
    "Hopper",
    "Torvalds",
    "Hamilton",
    "Thompson",
    "Liskov",
    "Ritchie",
    "Allen",
    "Dijkstra",
    "Perlman",
    "Berners",
    "Johnson",
    "McCarthy",
    "Lamarr",
    "Knuth",
    "Wilson",
    "Rossum",
    "Borg",
    "Stroustrup",
    "Garcia",
    "Silva",
    "Zhang",
    "Tanaka",
    "Patel",
    "Adeyemi",
    "Khan",
    "Nilsson",
    "Berg",
    "Rossi",
    "Li",
    "Okafor",
    "Smith",
    "Brown",
    "Martin",
    "Kim",
    "Suzuki",
    "Mensah",
    "Larsen",
    "Weber",
)
TITLES = (
    "Engineer",
    "Senior Engineer",
    "Product Manager",
    "Designer",
    "Account Executive",
    "Support Specialist",
    "Data Analyst",
    "Recruiter",
    "Finance Manager",
    "",
    "",
)
TIMEZONES = (
    ("America/Los_Angeles", "Pacific Standard Time", -28800),
    ("America/New_York", "Eastern Standard Time", -18000),
    ("America/Sao_Paulo", "Brasilia Standard Time", -10800),
    ("Europe/London", "Greenwich Mean Time", 0),
    ("Europe/Berlin", "Central European Time", 3600),
    ("Asia/Kolkata", "India Standard Time", 19800),
    ("Asia/Tokyo", "Japan Standard Time", 32400),
    ("Australia/Sydney", "Australian Eastern Daylight Time", 39600),
)
LOCALES = ("en-US", "en-GB", "de-DE", "fr-FR", "ja-JP", "es-ES", "pt-BR")
COLORS = ("9f69e7", "4bbe2e", "e7392d", "3c989f", "674b1b", "e96699", "5b89d5", "e0a729")
APP_NAMES = (
    "Jira Cloud",
    "GitHub",
    "Google Drive",
    "Zoom",
    "PagerDuty",
    "Salesforce",
    "Asana",
    "Polly",
    "Giphy",
    "Workday",
)
SERVICE_NAMES = ("Google Calendar", "Airbrake", "RSS", "Incoming WebHooks", "Twitter", "Jenkins CI")
COMPANIES = (
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Stark",
    "Wayne",
    "Wonka",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Vandelay",
)
REGIONS = ("HQ", "EMEA", "Americas", "APAC", "Engineering", "Sales", "Support", "Labs")
USER_AGENTS = (
    "SlackWeb Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like"
    " Gecko) Chrome/126.0.0.0 Safari/537.36",
    "SlackWeb Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/125.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Slack/4.38.125 Chrome/124.0.6367.243 Electron/30.1.0 Safari/537.36 Sonic Slack_SSB/4.38.125",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Slack/4.39.90 Chrome/126.0.6478.127 Electron/31.1.0 Safari/537.36 Sonic Slack_SSB/4.39.90",
    "com.tinyspeck.chatlyio/24.06.10 (iPhone; iOS 17.5.1; Scale/3.00)",
    "Slack/24.06.10.0 (Samsung SM-S918B; Android 14)",
    "Slack/4.38.125 (Linux; x86_64) Electron/30.1.0",
)
GEO = (
    ("Comcast Cable", "US", "CA"),
    ("Verizon Fios", "US", "NY"),
    ("Deutsche Telekom AG", "DE", "BE"),
    ("British Telecommunications", "GB", "ENG"),
    ("NTT Communications", "JP", "13"),
    ("Telstra", "AU", "NSW"),
    ("Reliance Jio", "IN", "MH"),
    (None, None, None),
)
IP_FIRST_OCTETS = (73, 98, 24, 185, 203, 50, 104, 172, 81, 62, 37, 91, 142, 155, 176, 212)

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


class Workspace:
    """All data of one emulated organisation (one team, or a Grid org with several)."""

    def __init__(self, config: WorkspaceConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.seed = config.seed
        self.base_now = int(config.now if config.now is not None else time.time())
        self.user_count = config.users
        self._lock = threading.RLock()
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
        self._team_member_counts: dict[str, int] = {}
        self.access = AccessLog(self)
        self._integration_logs: list[dict[str, Any]] = []
        self._integration_added = 0
        self._build_integration_logs()
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

    def member(
        self,
        i: int,
        *,
        with_email: bool = True,
        include_locale: bool = False,
        team_id: str | None = None,
    ) -> dict[str, Any]:
        """Member ``i`` as ``users.list`` / ``users.info`` return it (§4.1)."""
        u = self.user_core(i)
        team = team_id if team_id in u.team_ids else u.team_ids[0]
        img = f"https://secure.gravatar.com/avatar/{u.avatar_hash}.jpg?s="
        profile: dict[str, Any] = {
            "title": u.title,
            "phone": "",
            "skype": "",
            "real_name": u.real_name,
            "real_name_normalized": u.real_name,
            "display_name": u.display_name,
            "display_name_normalized": u.display_name,
            "fields": None,
            "status_text": "",
            "status_emoji": "",
            "status_emoji_display_info": [],
            "status_expiration": 0,
            "avatar_hash": u.avatar_hash,
        }
        if u.is_bot:
            profile["api_app_id"] = u.app_id
            profile["always_active"] = False
            profile["bot_id"] = u.bot_id
        elif u.role == "slackbot":
            profile["always_active"] = True
        if with_email and u.email:
            profile["email"] = u.email
        profile["first_name"] = u.first_name
        profile["last_name"] = u.last_name
        for size in (24, 32, 48, 72, 192, 512):
            profile[f"image_{size}"] = f"{img}{size}"
        if u.custom_image:
            base = f"https://avatars.slack-edge.com/{u.created // DAY}/{u.avatar_hash}"
            profile["image_1024"] = f"{base}_1024.jpg"
            profile["image_original"] = f"{base}_original.jpg"
            profile["is_custom_image"] = True
        if u.is_restricted:
            profile["guest_invited_by"] = self.user_id(2 if self.user_count > 2 else 1)
            if u.expiration_ts:
                profile["guest_expiration_ts"] = u.expiration_ts
        profile["status_text_canonical"] = ""
        profile["team"] = team
        m: dict[str, Any] = {"id": u.id, "team_id": team, "name": u.username}
        if u.deleted:
            m["deleted"] = True
            m["profile"] = profile
            m["is_bot"] = False
            m["is_app_user"] = False
            m["updated"] = u.updated
        else:
            tz = TIMEZONES[u.tz_index] if u.role != "slackbot" else TIMEZONES[0]
            m.update(
                {
                    "deleted": False,
                    "color": u.color if u.role != "slackbot" else "757575",
                    "real_name": u.real_name,
                    "tz": tz[0],
                    "tz_label": tz[1],
                    "tz_offset": tz[2],
                    "profile": profile,
                    "is_admin": u.is_admin,
                    "is_owner": u.is_owner,
                    "is_primary_owner": u.is_primary_owner,
                    "is_restricted": u.is_restricted,
                    "is_ultra_restricted": u.is_ultra_restricted,
                    "is_bot": u.is_bot,
                    "is_app_user": False,
                    "updated": u.updated,
                    "is_email_confirmed": bool(u.email) and not u.is_invited,
                    "who_can_share_contact_card": "EVERYONE",
                }
            )
            if u.is_invited:
                m["is_invited_user"] = True
            if u.role != "slackbot" and not u.is_bot:
                m["has_2fa"] = u.has_2fa
                if u.has_2fa:
                    m["two_factor_type"] = u.two_factor_type
        if self.enterprise is not None:
            m["enterprise_user"] = {
                "id": u.id,
                "enterprise_id": self.enterprise.id,
                "enterprise_name": self.enterprise.name,
                "is_admin": u.is_admin,
                "is_owner": u.is_owner,
                "is_primary_owner": u.is_primary_owner,
                "teams": list(u.team_ids),
            }
        if include_locale:
            m["locale"] = u.locale
        return m

    def member_indices(self, team_id: str | None = None) -> Iterator[int]:
        """Indices of the members of ``users.list`` for a team (None = every member)."""
        for i in range(self.user_count):
            if self.in_team(i, team_id):
                yield i

    def members(
        self, team_id: str | None = None, *, with_email: bool = True
    ) -> list[dict[str, Any]]:
        """Every member ``users.list`` returns (for one team on a multi-workspace org)."""
        return [
            self.member(i, with_email=with_email, team_id=team_id)
            for i in self.member_indices(team_id)
        ]

    def team_member_count(self, team_id: str | None) -> int:
        """Number of members ``users.list`` returns for a team."""
        if team_id is None or len(self.teams) == 1:
            return self.user_count
        cached = self._team_member_counts.get(team_id)
        if cached is None:
            cached = sum(1 for _ in self.member_indices(team_id))
            self._team_member_counts[team_id] = cached
        return cached

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

    # ------------------------------------------------------------------ billable / admin
    def is_billable_candidate(self, i: int) -> bool:
        """Whether member ``i`` appears in ``team.billableInfo`` (non-deleted humans)."""
        return self.is_human(i) and self.role(i) != "deleted"

    def billable_info(self, team_id: str | None = None) -> dict[str, dict[str, bool]]:
        """The full ``billable_info`` map (§4.5) for a team (None = the whole org)."""
        return {
            self.user_id(i): {"billing_active": self.user_core(i).billing_active}
            for i in range(self.user_count)
            if self.is_billable_candidate(i) and self.in_team(i, team_id)
        }

    def billable_user_ids(self, team_id: str | None = None) -> list[str]:
        """Every user id ``team.billableInfo`` returns (one record each, whatever its
        ``billing_active``)."""
        return list(self.billable_info(team_id))

    def billing_active_user_ids(self, team_id: str | None = None) -> list[str]:
        """Ids whose ``billing_active`` is true."""
        return [uid for uid, v in self.billable_info(team_id).items() if v["billing_active"]]

    def admin_user(self, i: int, *, include_deactivated_workspaces: bool = False) -> dict[str, Any]:
        """Member ``i`` as an ``admin.users.list`` row (§4.8)."""
        u = self.user_core(i)
        roles: list[str]
        if u.is_primary_owner:
            roles = ["primary_owner", "owner", "admin"]
        elif u.is_owner:
            roles = ["owner", "admin"]
        elif u.is_admin:
            roles = ["admin"]
        elif u.is_ultra_restricted:
            roles = ["single_channel_guest"]
        elif u.is_restricted:
            roles = ["multi_channel_guest"]
        elif u.is_bot:
            roles = ["bot"]
        else:
            roles = ["member"]
        workspaces = list(u.team_ids)
        if u.deleted and not include_deactivated_workspaces:
            workspaces = []
        return {
            "id": u.id,
            "email": u.email,
            "is_admin": u.is_admin,
            "is_owner": u.is_owner,
            "is_primary_owner": u.is_primary_owner,
            "is_restricted": u.is_restricted,
            "is_ultra_restricted": u.is_ultra_restricted,
            "is_bot": u.is_bot,
            "username": u.username,
            "full_name": u.real_name,
            "is_active": not u.deleted,
            "date_created": u.created,
            "deactivated_ts": u.deactivated_ts,
            "expiration_ts": u.expiration_ts,
            "workspaces": workspaces,
            "has_2fa": u.has_2fa,
            "has_sso": u.has_sso,
            "roles": roles,
            "last_active_ts": u.last_active_ts,
        }

    def admin_keep(
        self, team_id: str | None, is_active: bool | None, only_guests: bool = False
    ) -> Callable[[int], bool]:
        """Predicate selecting the members ``admin.users.list`` returns."""

        def keep(i: int) -> bool:
            role = self.role(i)
            if role == "slackbot" or not self.in_team(i, team_id):
                return False
            if is_active is not None and (role != "deleted") != is_active:
                return False
            return not only_guests or role in ("guest", "single_guest")

        return keep

    def admin_users(
        self, team_id: str | None = None, is_active: bool | None = True
    ) -> list[dict[str, Any]]:
        """Rows ``admin.users.list`` returns (default: active users, like the API default);
        ``is_active=None`` gives active and deactivated users."""
        keep = self.admin_keep(team_id, is_active)
        return [self.admin_user(i) for i in range(self.user_count) if keep(i)]

    # ------------------------------------------------------------------ integration logs
    def _integration_entry(self, k: int, date: int) -> tuple[str, dict[str, Any]]:
        d = Det(self.seed, "integration", k)
        admins = [i for i in (1, 2, 8) if i < self.user_count] or [0]
        actor = (
            d.pick(admins)
            if d.chance(0.7) or self.user_count < 10
            else d.between(1, self.user_count - 1)
        )
        core = self.user_core(actor)
        change = d.pick(("added", "removed", "enabled", "disabled", "updated"))
        entry: dict[str, Any]
        if d.chance(0.55):
            app = d.pick(APP_NAMES)
            entry = {
                "app_id": "A0" + hex_id(8, self.seed, "app", app),
                "app_type": app,
            }
            scope = d.pick(
                (
                    "chat:write,channels:read",
                    "users:read",
                    "commands,incoming-webhook",
                    "files:read",
                )
            )
        else:
            service = d.pick(SERVICE_NAMES)
            entry = {
                "service_id": str(1000000000 + (int(hex_id(6, self.seed, "svc", service), 16))),
                "service_type": service,
            }
            scope = "incoming-webhook"
            if d.chance(0.6):
                entry["channel"] = "C0" + hex_id(8, self.seed, "chan", d.below(20))
        entry.update(
            {
                "user_id": core.id,
                "user_name": core.username,
                "date": str(date),
                "change_type": change,
                "scope": scope,
            }
        )
        if change == "disabled":
            entry["reason"] = d.pick(("user", "deauth", "service_removed"))
        team = core.team_ids[0]
        return team, entry

    def _build_integration_logs(self) -> None:
        n = self.config.integration_logs
        newest = self.base_now - 3600
        step = max(60, (400 * DAY) // max(n, 1))
        logs = []
        for k in range(n):
            date = newest - k * step - Det(self.seed, "ildate", k).below(step)
            team, entry = self._integration_entry(k, date)
            entry["_team"] = team
            logs.append(entry)
        self._integration_logs = logs

    def integration_log_entries(
        self,
        *,
        team_id: str | None = None,
        app_id: str | None = None,
        change_type: str | None = None,
        service_id: str | None = None,
        user: str | None = None,
    ) -> list[dict[str, Any]]:
        """``team.integrationLogs`` entries (§4.7), newest first, after the API's filters."""
        with self._lock:
            logs = self._integration_logs
        out = []
        for e in logs:
            if team_id is not None and len(self.teams) > 1 and e["_team"] != team_id:
                continue
            if app_id is not None and e.get("app_id") != app_id:
                continue
            if change_type is not None and e.get("change_type") != change_type:
                continue
            if service_id is not None and e.get("service_id") != service_id:
                continue
            if user is not None and e.get("user_id") != user:
                continue
            out.append({k: v for k, v in e.items() if k != "_team"})
        return out

    def add_integration_logs(self, n: int) -> list[dict[str, Any]]:
        """Append ``n`` changes newer than every existing one (dated at the emulator clock)."""
        with self._lock:
            logs = self._integration_logs
            newest = int(logs[0]["date"]) if logs else 0
            date = max(int(self.clock.now()), newest + 1)
            new = []
            for j in range(n):
                k = self.config.integration_logs + self._integration_added
                self._integration_added += 1
                team, entry = self._integration_entry(k, date + j)
                entry["_team"] = team
                new.append(entry)
            new.reverse()
            self._integration_logs = new + logs
        return [{k: v for k, v in e.items() if k != "_team"} for e in new]

    # ------------------------------------------------------------------ access logs
    def access_log_entries(
        self, before: int | None = None, team_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Every ``team.accessLogs`` entry with ``date_last <= before`` (None = no bound),
        newest first, as the API returns them (§4.6)."""
        return self.access.all_entries(before, team_id)

    def touch_access_logs(self, n: int, at: int | None = None) -> list[dict[str, Any]]:
        """``n`` existing entries get ``date_last = at`` (default: clock + 1) and ``count + 1``;
        they become the newest. Returns the touched entries."""
        return self.access.touch(n, at)

    def add_access_logs(self, n: int, at: int | None = None) -> list[dict[str, Any]]:
        """``n`` brand-new entries (first access) at ``at`` (default: clock + 1)."""
        return self.access.add(n, at)

    @property
    def access_log_tie(self) -> tuple[int, int, int] | None:
        """``(first, end, date_last)`` of the tie block in the base sequence (0 = newest)."""
        return self.access.tie

    # ------------------------------------------------------------------ analytics
    def analytics_rows(self, date: Any) -> list[dict[str, Any]]:
        """The member-analytics rows ``admin.analytics.getFile`` serves for ``date``."""
        from .analytics import analytics_rows  # noqa: PLC0415 - avoid import cycle

        return analytics_rows(self, date)


class AccessLog:
    """Lazy ``team.accessLogs`` data: a computed base sequence plus a mutable overlay."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        n = ws.config.access_logs
        self.n = n
        self.newest = ws.base_now - 45
        self.step = max(1, (180 * DAY) // max(n, 1))
        self._salt = ws._offset & 0xFFFFFF
        self.tie: tuple[int, int, int] | None = None
        self._tie0 = self._tie1 = -1
        size = ws.config.access_log_tie_size
        if size > 0 and n > 0:
            if n > 100_000:
                boundary = 100_000
            elif n > 1000:
                boundary = 1000
            else:
                boundary = n // 2
            t0 = max(0, boundary - size // 2)
            t1 = min(n, t0 + size)
            t0 = max(0, t1 - size)
            self._tie0, self._tie1 = t0, t1
            self.tie = (t0, t1, self._natural_date(t0))
        self._lock = threading.Lock()
        self._removed: list[int] = []  # base indices moved into the overlay (sorted)
        # newest first: ((-date_last, -seq), base index, entry)
        self._overlay: list[tuple[tuple[int, int], int, dict[str, Any]]] = []
        self._seq = 0
        self._added = 0
        self._touches = 0
        self.version = 0
        self._cache: dict[tuple[Any, ...], Any] = {}

    def _natural_date(self, k: int) -> int:
        return self.newest - k * self.step - (perm24((k + self._salt) & 0xFFFFFF) % self.step)

    def date_last(self, k: int) -> int:
        """``date_last`` of base entry ``k`` (non-increasing in ``k``)."""
        if self._tie0 <= k < self._tie1:
            k = self._tie0
        return self._natural_date(k)

    def first_at_or_before(self, x: int) -> int:
        """Smallest base index whose ``date_last <= x`` (``n`` when none)."""
        lo, hi = 0, self.n
        while lo < hi:
            mid = (lo + hi) // 2
            if self.date_last(mid) <= x:
                hi = mid
            else:
                lo = mid + 1
        return lo

    def _user_for(self, d: Det) -> int:
        ws = self.ws
        if ws.user_count <= 1:
            return 0
        u = 1 + d.below(ws.user_count - 1)
        for _ in range(ws.user_count):
            if ws.is_human(u):
                return u
            u = 1 + (u % (ws.user_count - 1))
        return 0

    def entry(self, k: int, date_last: int | None = None) -> dict[str, Any]:
        """Base entry ``k`` (or a brand-new entry ``k >= n`` when ``date_last`` is given)."""
        d = Det(self.ws.seed, "access", k)
        u = self._user_for(d)
        core = self.ws.user_core(u)
        p = perm24(k & 0xFFFFFF)
        octet = IP_FIRST_OCTETS[(k >> 24) % len(IP_FIRST_OCTETS)]
        isp, country, region = d.pick(GEO)
        fresh = date_last is not None
        last = self.date_last(k) if date_last is None else date_last
        first = last if fresh else last - d.between(0, 400 * DAY)
        count = 1 if fresh else 1 + min(d.below(40), d.below(40)) * d.between(1, 60)
        return {
            "user_id": core.id,
            "username": core.username,
            "date_first": first,
            "date_last": last,
            "count": count,
            "ip": f"{octet}.{p >> 16}.{(p >> 8) & 255}.{p & 255}",
            "user_agent": d.pick(USER_AGENTS),
            "isp": isp,
            "country": country,
            "region": region,
            "_team": core.team_ids[0],
        }

    @staticmethod
    def public(entry: dict[str, Any]) -> dict[str, Any]:
        """The entry without internal keys."""
        return {k: v for k, v in entry.items() if k != "_team"}

    def _snapshot(self) -> tuple[list[int], list[dict[str, Any]], int]:
        with self._lock:
            return self._removed, [item[2] for item in self._overlay], self.version

    def _nth_base(self, removed: list[int], t: int) -> int:
        """The ``t``-th (0-based) base index that is not in ``removed``."""
        lo, hi = t, t + len(removed)
        while lo < hi:
            mid = (lo + hi) // 2
            if mid + 1 - bisect.bisect_right(removed, mid) >= t + 1:
                hi = mid
            else:
                lo = mid + 1
        return lo

    def _layout(
        self, before: int | None
    ) -> tuple[int, int, list[dict[str, Any]], list[int], list[int]]:
        """For a ``before`` bound: (first base effective index, total, overlay entries,
        their merged positions, removed snapshot)."""
        removed, overlay, version = self._snapshot()
        key = ("layout", before, version)
        cached = self._cache.get(key)
        if cached is not None:
            result: tuple[int, int, list[dict[str, Any]], list[int], list[int]] = cached
            return result
        kb = 0 if before is None else self.first_at_or_before(before)
        removed_before = bisect.bisect_left(removed, kb)
        base_total = (self.n - kb) - (len(removed) - removed_before)
        ov = [o for o in overlay if before is None or o["date_last"] <= before]
        positions = []
        for j, o in enumerate(ov):
            kx = max(kb, self.first_at_or_before(o["date_last"]))
            nb = (kx - kb) - (bisect.bisect_left(removed, kx) - removed_before)
            positions.append(j + nb)
        result = (kb - removed_before, base_total + len(ov), ov, positions, removed)
        if len(self._cache) > 64:
            self._cache.clear()
        self._cache[key] = result
        return result

    def page(
        self, before: int | None, offset: int, limit: int, team_id: str | None = None
    ) -> tuple[list[dict[str, Any]], int]:
        """Entries ``[offset, offset + limit)`` of the newest-first sequence with
        ``date_last <= before``, and the total number of such entries."""
        if team_id is not None:
            entries = self._team_entries(before, team_id)
            return [self.public(e) for e in entries[offset : offset + limit]], len(entries)
        return self._page_raw(before, offset, limit, public=True)

    def _page_raw(
        self, before: int | None, offset: int, limit: int, *, public: bool
    ) -> tuple[list[dict[str, Any]], int]:
        base_start, total, ov, positions, removed = self._layout(before)
        out: list[dict[str, Any]] = []
        pi = bisect.bisect_left(positions, offset)
        end = min(offset + limit, total)
        pos = offset
        k = -1
        while pos < end:
            if pi < len(positions) and positions[pi] == pos:
                e = ov[pi]
                pi += 1
            else:
                if k < 0:
                    k = self._nth_base(removed, base_start + pos - pi)
                else:
                    k += 1
                    idx = bisect.bisect_left(removed, k)
                    while idx < len(removed) and removed[idx] == k:
                        k += 1
                        idx += 1
                e = self.entry(k)
            out.append(self.public(e) if public else e)
            pos += 1
        return out, total

    def _team_entries(self, before: int | None, team_id: str) -> list[dict[str, Any]]:
        _, _, version = self._snapshot()
        key = ("team", before, team_id, version)
        cached = self._cache.get(key)
        if cached is None:
            everything, _ = self._page_raw(before, 0, 1 << 40, public=False)
            cached = [e for e in everything if e["_team"] == team_id]
            if len(self._cache) > 64:
                self._cache.clear()
            self._cache[key] = cached
        result: list[dict[str, Any]] = cached
        return result

    def all_entries(self, before: int | None, team_id: str | None) -> list[dict[str, Any]]:
        """Every entry (newest first) with ``date_last <= before``."""
        entries, _ = self.page(before, 0, 1 << 40, team_id)
        return entries

    def _insert_overlay(self, entry: dict[str, Any], k: int) -> None:
        # caller holds the lock and has already copied self._overlay
        self._seq += 1
        bisect.insort(self._overlay, ((-int(entry["date_last"]), -self._seq), k, entry))

    def touch(self, n: int, at: int | None) -> list[dict[str, Any]]:
        """See :meth:`Workspace.touch_access_logs`."""
        when = int(self.ws.clock.now()) + 1 if at is None else int(at)
        touched: list[dict[str, Any]] = []
        with self._lock:
            rng = random.Random(f"{self.ws.seed}:touch:{self._touches}")
            self._touches += 1
            removed = list(self._removed)
            removed_set = set(removed)
            self._overlay = list(self._overlay)
            available = self.n - len(removed)
            want = min(n, available)
            picks: list[int] = []
            if want > available // 2:
                pool = [k for k in range(self.n) if k not in removed_set]
                picks = rng.sample(pool, want)
            else:
                chosen: set[int] = set()
                while len(picks) < want:
                    k = rng.randrange(self.n)
                    if k in removed_set or k in chosen:
                        continue
                    chosen.add(k)
                    picks.append(k)
            rest = min(n - len(picks), len(self._overlay))
            # entries already in the overlay are re-touched oldest first
            again = self._overlay[len(self._overlay) - rest :] if rest > 0 else []
            if again:
                del self._overlay[len(self._overlay) - rest :]
            for k in picks:
                e = self.entry(k)
                e["date_last"] = when
                e["count"] += 1
                bisect.insort(removed, k)
                self._insert_overlay(e, k)
                touched.append(e)
            for _, k, old in reversed(again):
                e = dict(old)
                e["date_last"] = when
                e["count"] += 1
                self._insert_overlay(e, k)
                touched.append(e)
            self._removed = removed
            self.version += 1
        return [self.public(e) for e in touched]

    def add(self, n: int, at: int | None) -> list[dict[str, Any]]:
        """See :meth:`Workspace.add_access_logs`."""
        when = int(self.ws.clock.now()) + 1 if at is None else int(at)
        new: list[dict[str, Any]] = []
        with self._lock:
            self._overlay = list(self._overlay)
            for _ in range(n):
                k = self.n + self._added
                self._added += 1
                e = self.entry(k, date_last=when)
                self._insert_overlay(e, k)
                new.append(e)
            self.version += 1
        return [self.public(e) for e in new]
