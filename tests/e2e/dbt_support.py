"""What the licence-model tests share: one loaded warehouse per test (PostgreSQL through
target-postgres + dbt-postgres, DuckDB through target-duckdb + dbt-duckdb), and the truth
computed from the emulator's data (never written down)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import pickle
import subprocess
import typing as t
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from tap_slack_snow_devkit.meltano import REPO

if t.TYPE_CHECKING:
    from tap_slack_snow_emulator.data import Workspace
    from tests.e2e.conftest import Pipeline

MODELS = "slack"  # the dbt utilities' target schema (meltano.yml)
PRICES = Path(__file__).resolve().parents[2] / "transform" / "seeds" / "slack__list_prices.csv"
KINDS = {
    "deleted": "deactivated",
    "bot": "bot",
    "slackbot": "bot",
    "invited": "invited",
    "single_guest": "single_channel_guest",
    "guest": "multi_channel_guest",
}
GUEST_KINDS = {"multi_channel_guest", "single_channel_guest"}
HISTORY_WINDOWS = (1, 7, 28)  # slack__seat_history's active_seats_<n>d


@dataclass
class Warehouse:
    """One warehouse of a test's pipeline: its loader, its dbt utility and its tables."""

    kind: str  # "postgres" or "duckdb"
    pipeline: Pipeline
    folder: Path

    @property
    def env(self) -> dict[str, str]:
        """DuckDB: the file target-duckdb and dbt-duckdb share (one per test)."""
        if self.kind == "postgres":
            return {}
        path = str(self.folder / "warehouse.duckdb")
        return {"TARGET_DUCKDB_PATH": path, "DBT_DUCKDB_PATH": path}

    @property
    def utility(self) -> str:
        return f"dbt-{self.kind}"

    def run_elt(self, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """The job of meltano.yml for this warehouse: extract, load, dbt build."""
        pipeline = self.pipeline
        result = pipeline.meltano.run(
            "run",
            "--state-id-suffix",
            f"{pipeline.state_suffix}-{self.kind}",
            "tap-slack-snow",
            f"target-{self.kind}",
            f"{self.utility}:build",
            env={**self.env, **(env or {})},
        )
        assert_dbt_passed(result.stdout + result.stderr)
        return result

    def build(self, dbt_vars: dict[str, t.Any], *args: str) -> None:
        """``meltano invoke dbt-<kind> build --vars ...``: the models again, with these vars."""
        result = self.pipeline.meltano.run(
            "invoke", self.utility, "build", "--vars", json.dumps(dbt_vars), *args, env=self.env
        )
        assert_dbt_passed(result.stdout + result.stderr)

    def rows(self, query: str) -> list[dict[str, t.Any]]:
        if self.kind == "postgres":
            with self.pipeline.connect() as conn:
                cursor = conn.execute(query)
                names = [c.name for c in cursor.description or []]
                return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        # DuckDB through the dbt-duckdb utility's own Python (the DuckDB release meltano.yml
        # pins for the file), the rows pickled back: dates, decimals and None as they are.
        script = (
            "import datetime, duckdb, pickle, sys\n"
            "with duckdb.connect(sys.argv[1], read_only=True) as conn:\n"
            "    cursor = conn.execute(sys.argv[2])\n"
            "    names = [c[0] for c in cursor.description or []]\n"
            "    rows = [dict(zip(names, row)) for row in cursor.fetchall()]\n"
            # timestamptz comes with pytz's zone, which this process need not have
            "utc = datetime.timezone.utc\n"
            "rows = [{k: v.astimezone(utc) if isinstance(v, datetime.datetime) and v.tzinfo\n"
            "         else v for k, v in row.items()} for row in rows]\n"
            "pickle.dump(rows, sys.stdout.buffer)\n"
        )
        python = REPO / ".meltano" / "utilities" / "dbt-duckdb" / "venv" / "bin" / "python"
        done = subprocess.run(
            [str(python), "-c", script, self.env["DBT_DUCKDB_PATH"], query],
            capture_output=True,
            check=False,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        found: list[dict[str, t.Any]] = pickle.loads(done.stdout)  # our own child process
        return found

    def seats(self) -> dict[str, dict[str, t.Any]]:
        return {r["user_id"]: r for r in self.rows(f"SELECT * FROM {MODELS}.slack__seats")}

    def summary(self, grain: str = "workspace") -> dict[str, t.Any]:
        found = self.rows(f"SELECT * FROM {MODELS}.slack__licence_summary WHERE grain = '{grain}'")
        assert len(found) == 1, found
        return found[0]


def assert_dbt_passed(output: str) -> None:
    """dbt ran its models and tests, and none failed or warned."""
    done = [line for line in output.splitlines() if "Done. PASS=" in line]
    assert done, output[-3000:]
    assert "WARN=0 ERROR=0" in done[-1], done[-1]
    assert int(done[-1].split("PASS=")[1].split()[0]) > 60, done[-1]  # 19 nodes + tests


def utc_date(unix: int) -> dt.date:
    return dt.datetime.fromtimestamp(unix, tz=dt.timezone.utc).date()


def list_price(plan: str, day: dt.date, period: str = "annual") -> Decimal | None:
    """The seed's USD price of ``plan`` in force on ``day`` (the newest row not after it)."""
    with PRICES.open(newline="") as handle:
        found = [
            r
            for r in csv.DictReader(handle)
            if r["plan"] == plan
            and r["currency"] == "USD"
            and r["billing_period"] == period
            and dt.date.fromisoformat(r["price_as_of"]) <= day
        ]
    if not found:
        return None
    return Decimal(max(found, key=lambda r: r["price_as_of"])["price_per_seat_month"])


@dataclass
class Truth:
    """What the emulator's data implies for the models, as of one date."""

    as_of: dt.date
    idle_days: int
    windows: list[int]
    warning_days: int
    monitored: bool = True
    price: Decimal | None = None
    kinds: dict[str, str] = field(default_factory=dict)
    billable: set[str] = field(default_factory=set)
    last_activity: dict[str, dt.date] = field(default_factory=dict)
    guest_expiry: dict[str, dt.date] = field(default_factory=dict)

    def days_since(self, user_id: str) -> int | None:
        last = self.last_activity.get(user_id)
        return None if last is None else (self.as_of - last).days

    def idle(self) -> set[str]:
        if not self.monitored:
            return set()  # unknown, not idle: the model says null
        return {
            u for u in self.billable if (d := self.days_since(u)) is None or d >= self.idle_days
        }

    def billed_active(self, days: int) -> int:
        return sum(1 for u in self.billable if (d := self.days_since(u)) is not None and d < days)

    def status(self, user_id: str) -> str:
        days = self.days_since(user_id)
        if not self.monitored:
            return "not_monitored"
        if days is None:
            return "no_activity"
        return "active" if days < self.idle_days else "inactive"

    def expiring_guests(self) -> set[str]:
        return {
            u
            for u, day in self.guest_expiry.items()
            if self.kinds[u] in GUEST_KINDS and 0 <= (day - self.as_of).days <= self.warning_days
        }

    def reclaim(self) -> dict[str, str]:
        """Each paid seat worth reclaiming and its reason (the first that applies)."""
        found: dict[str, str] = {}
        for user in self.billable:
            expiry = self.guest_expiry.get(user)
            if self.kinds[user] == "deactivated":
                found[user] = "deactivated_but_billed"
            elif self.kinds[user] in GUEST_KINDS and expiry and expiry < self.as_of:
                found[user] = "guest_expired"
            elif self.status(user) == "no_activity":
                found[user] = "never_active"
            elif self.status(user) == "inactive":
                found[user] = "idle"
        return found

    def kind_counts(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for kind in self.kinds.values():
            counts[kind] += 1
        return counts

    def dbt_vars(self, **more: t.Any) -> dict[str, t.Any]:
        return {
            "slack_as_of_date": self.as_of.isoformat(),
            "slack_idle_days": self.idle_days,
            "slack_activity_windows": self.windows,
            "slack_guest_expiry_warning_days": self.warning_days,
            **more,
        }


def members_truth(ws: Workspace, truth: Truth, team_id: str | None = None) -> None:
    """Kinds, billable seats and guest expiry of every member."""
    for i in ws.member_indices(team_id):
        core = ws.user_core(i)
        truth.kinds[core.id] = KINDS.get(core.role, "full_member")
        if core.expiration_ts and core.is_restricted:
            truth.guest_expiry[core.id] = utc_date(core.expiration_ts)
    truth.billable = set(ws.billing_active_user_ids(team_id))


def access_log_activity(ws: Workspace, truth: Truth) -> None:
    """Each member's last login day (the access logs' date_last)."""
    for entry in ws.access_log_entries():
        day = utc_date(int(entry["date_last"]))
        user = str(entry["user_id"])
        truth.last_activity[user] = max(day, truth.last_activity.get(user, day))


def money(value: t.Any) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.0001"))


def assert_models_match(wh: Warehouse, truth: Truth, *, source: str, plan: str) -> None:
    """slack__seats, slack__licence_summary and slack__reclaim_candidates against the truth,
    member by member; money from ``truth.price`` (null where it is None)."""
    got = wh.seats()
    assert set(got) == set(truth.kinds)
    assert {u: s["account_kind"] for u, s in got.items()} == truth.kinds
    assert {u for u, s in got.items() if s["is_billable"]} == truth.billable
    assert {u for u, s in got.items() if s["is_paid"]} == truth.billable
    assert {s["plan"] for s in got.values()} == {plan}
    assert {s["as_of_date"] for s in got.values()} == {truth.as_of}
    assert {s["activity_source"] for s in got.values()} == {source}
    assert {u for u, s in got.items() if s["is_idle"]} == truth.idle()
    assert {u: s["days_since_last_activity"] for u, s in got.items()} == {
        u: truth.days_since(u) for u in truth.kinds
    }
    assert {u: s["activity_status"] for u, s in got.items()} == {
        u: truth.status(u) for u in truth.kinds
    }
    assert {u for u, s in got.items() if s["is_guest_expiring_soon"]} == truth.expiring_guests()
    price = money(truth.price)
    for user, seat in got.items():
        assert money(seat["price_per_seat_month"]) == price, user
        paid = user in truth.billable
        expected = (price if paid else Decimal(0)) if price is not None or not paid else None
        assert money(seat["monthly_cost"]) == money(expected), user

    row = wh.summary()
    kinds = truth.kind_counts()
    assert row["plan"] == plan
    assert row["activity_source"] == source
    assert row["accounts"] == len(truth.kinds)
    assert row["full_members"] == kinds["full_member"]
    assert row["multi_channel_guests"] == kinds["multi_channel_guest"]
    assert row["single_channel_guests"] == kinds["single_channel_guest"]
    assert row["bots"] == kinds["bot"]
    assert row["invited"] == kinds["invited"]
    assert row["deactivated"] == kinds["deactivated"]
    assert row["seats_billed"] == len(truth.billable)
    assert row["idle_paid_seats"] == (len(truth.idle()) if truth.monitored else None)
    assert row["idle_days_threshold"] == truth.idle_days
    for days in truth.windows:
        expected_active = truth.billed_active(days) if truth.monitored else None
        assert row[f"billed_active_{days}d"] == expected_active, days
    assert row["guests"] == kinds["multi_channel_guest"] + kinds["single_channel_guest"]
    assert row["guests_expiring_soon"] == len(truth.expiring_guests())
    # The emulator bills no deactivated member (team.billableInfo leaves them out).
    assert row["deactivated_billable"] == 0
    billed_cost = None if price is None else price * len(truth.billable)
    assert money(row["billed_cost_month"]) == money(billed_cost)
    idle_cost = None
    if truth.monitored and (price is not None or not truth.idle()):
        idle_cost = (price or Decimal(0)) * len(truth.idle())
    assert money(row["idle_paid_cost_month"]) == money(idle_cost)

    reclaim = {
        r["user_id"]: r for r in wh.rows(f"SELECT * FROM {MODELS}.slack__reclaim_candidates")
    }
    assert {u: r["reason"] for u, r in reclaim.items()} == truth.reclaim()
    for user, candidate in reclaim.items():
        assert candidate["days_idle"] == truth.days_since(user), user
        assert money(candidate["monthly_cost"]) == price, user
        assert candidate["is_owner"] == got[user]["is_owner"], user


def assert_history_day(wh: Warehouse, truth: Truth, scope_id: str) -> None:
    """The workspace's history row of ``truth.as_of`` (a build's own day)."""
    found = wh.rows(
        f"SELECT * FROM {MODELS}.slack__seat_history WHERE grain = 'workspace' "
        f"AND scope_id = '{scope_id}' AND history_date = '{truth.as_of.isoformat()}'"
    )
    assert len(found) == 1, found
    row = found[0]
    assert row["measured_from"] == "sync"
    assert row["seats_billed"] == len(truth.billable)
    for days in HISTORY_WINDOWS:
        assert row[f"active_seats_{days}d"] == truth.billed_active(days), days
    assert row["idle_paid_seats"] == len(truth.idle())
    guests = {u for u in truth.billable if truth.kinds[u] in GUEST_KINDS}
    assert row["guest_seats_billed"] == len(guests)
    price = money(truth.price)
    expected_cost = None if price is None else price * len(truth.billable)
    assert money(row["billed_cost_month"]) == money(expected_cost)
