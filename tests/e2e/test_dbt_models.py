"""``meltano run tap-slack-snow target-<warehouse> dbt-<warehouse>:build`` end to end on
PostgreSQL and on DuckDB, and the licence models (transform/) checked against what the Slack
emulator holds: kinds, billed and idle seats, activity status, cost, reclaim candidates and
seat history, member by member and day by day.

Every expected number is computed here from the emulator's own data and the package's price
list (transform/seeds), never written down; the test's own contract price is an input. The
"as of" date, thresholds and windows are pinned through dbt vars, so the result does not
depend on the day the test runs. Each test loads its emulator once per warehouse and builds
the models several times on that load.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import typing as t
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from tap_slack_snow_devkit import pg
from tap_slack_snow_emulator import ENTERPRISE_USER_SCOPES, WorkspaceConfig
from tests.e2e.conftest import Pipeline, make_pipeline
from tests.e2e.dbt_scim import assert_scim_matches, scim_roster
from tests.e2e.dbt_support import (
    GUEST_KINDS,
    HISTORY_WINDOWS,
    MODELS,
    Truth,
    Warehouse,
    access_log_activity,
    assert_dbt_passed,
    assert_history_day,
    assert_models_match,
    list_price,
    members_truth,
    money,
    utc_date,
)

pytestmark = pytest.mark.e2e
WAREHOUSES = ("postgres", "duckdb")


def warehouses(pipeline: Pipeline, tmp_path: Path) -> list[Warehouse]:
    return [Warehouse(kind, pipeline, tmp_path) for kind in WAREHOUSES]


@pytest.mark.timeout(1500)
def test_business_plus_workspace_licence_models(pipeline: Pipeline, tmp_path: Path) -> None:
    """A Business+ workspace, on PostgreSQL and DuckDB: one `meltano run` extracts, loads and
    builds the models (dbt's tests pass); activity comes from the access logs; seats, idle
    paid seats, activity status, list-price and contract cost, reclaim candidates and two
    days of seat history (kept by a full refresh) equal what the emulator's data implies;
    the scim_users stream's rows give each seat its department, cost centre, manager and
    created date, and the counts per department, as the emulator's SCIM answer says.
    On PostgreSQL also: every column is documented, and the package builds as a dependency
    of transform/integration_tests."""
    ws = pipeline.emu.workspace
    as_of = utc_date(ws.base_now)
    team_id = ws.primary_team.id
    roster = scim_roster(ws)
    for wh in warehouses(pipeline, tmp_path):
        wh.run_elt()
        # The default build measures "as of" today with the default windows, at list price.
        default = wh.summary()
        assert default["activity_source"] == "access_logs"
        assert default["seats_billed"] == len(ws.billing_active_user_ids())
        assert default["idle_days_threshold"] == 30
        assert {"billed_active_30d", "billed_active_60d", "billed_active_90d"} <= set(default)
        price = list_price("plus", default["as_of_date"])
        assert price is not None
        assert money(default["price_per_seat_month"]) == money(price)
        assert default["price_source"] == "list_price"
        assert default["billing_model"] == "fair_billing"
        assert money(default["billed_cost_month"]) == money(price * default["seats_billed"])
        assert money(default["yearly_saving_if_reclaimed"]) == money(
            12 * price * default["idle_paid_seats"]
        )

        truth = Truth(as_of=as_of, idle_days=45, windows=[7, 45, 120], warning_days=60)
        truth.price = list_price("plus", as_of, "monthly")
        members_truth(ws, truth)
        access_log_activity(ws, truth)
        assert 0 < len(truth.idle()) < len(truth.billable)  # the check can tell them apart
        if wh.kind == "postgres":
            # A build as of a pinned day at the monthly list price.
            wh.build(truth.dbt_vars(slack_billing_period="monthly"))
            assert_models_match(wh, truth, source="access_logs", plan="plus")
            assert_history_day(wh, truth, team_id)

        # Ten days later, under a contract for the workspace (its price, and purchased seats
        # nobody holds), built with --full-refresh: the history keeps the earlier days.
        later = Truth(
            as_of=as_of + dt.timedelta(days=10),
            idle_days=28,
            windows=[28],
            warning_days=30,
            price=Decimal("9.87"),
        )
        members_truth(ws, later)
        later.last_activity = truth.last_activity
        contract = {
            "scope_id": team_id,
            "billing_model": "contract",
            "price_per_seat_month": 9.87,
            "purchased_seats": len(later.billable) + 7,
            "renewal_date": "2027-06-30",
        }
        wh.build(later.dbt_vars(slack_contracts=[contract]), "--full-refresh")
        assert_models_match(wh, later, source="access_logs", plan="plus")
        row = wh.summary()
        assert row["billing_model"] == "contract"
        assert row["price_source"] == "contract"
        assert row["purchased_seats"] == len(later.billable) + 7
        assert row["unassigned_seats"] == 7
        assert money(row["unassigned_cost_month"]) == money(7 * later.price)
        assert money(row["monthly_cost"]) == money(later.price * (len(later.billable) + 7))
        assert money(row["yearly_saving_if_reclaimed"]) == money(
            12 * later.price * (len(later.idle()) + 7)
        )
        built = {default["as_of_date"], later.as_of}
        if wh.kind == "postgres":
            built.add(as_of)
        days = wh.rows(
            f"SELECT history_date FROM {MODELS}.slack__seat_history "
            f"WHERE grain = 'workspace' AND scope_id = '{team_id}' ORDER BY history_date"
        )
        assert [r["history_date"] for r in days] == sorted(built)
        if wh.kind == "postgres":
            assert_history_day(wh, truth, team_id)
        assert_history_day(wh, later, team_id)
        # The scim_users stream loaded the emulator's SCIM roster: departments, cost centres,
        # managers and created dates per member, and the counts per department.
        assert_scim_matches(wh, later, roster, team_id)
        if wh.kind == "postgres":
            assert_columns_documented(wh)
            assert_integration_project_builds(wh)


def assert_columns_documented(wh: Warehouse) -> None:
    """Every column of the staging, intermediate and mart tables has a description in the
    package's YAML (window-suffixed columns by their _30d example)."""
    import yaml  # noqa: PLC0415 - only this check reads the package's YAML

    documented: dict[str, set[str]] = defaultdict(set)
    for path in (Path(__file__).resolve().parents[2] / "transform" / "models").rglob("_*.yml"):
        for model in yaml.safe_load(path.read_text()).get("models", []):
            for column in model.get("columns", []):
                if column.get("description"):
                    documented[model["name"]].add(column["name"])
    found = wh.rows(
        "SELECT table_name, column_name FROM information_schema.columns "
        f"WHERE table_schema IN ('{MODELS}', '{MODELS}_staging') "
        "AND table_name != 'slack__list_prices'"
    )
    assert found
    missing = {
        (r["table_name"], r["column_name"])
        for r in found
        if re.sub(r"_\d+d$", "_30d", r["column_name"]) not in documented[r["table_name"]]
        and r["column_name"] not in documented[r["table_name"]]
    }
    assert not missing


def assert_integration_project_builds(wh: Warehouse) -> None:
    """transform/integration_tests: the package as a dependency (packages.yml, local) builds
    and passes its tests and the project's own."""
    project = Path(__file__).resolve().parents[2] / "transform" / "integration_tests"
    meltano = wh.pipeline.meltano
    meltano.run("invoke", wh.utility, "deps", "--project-dir", str(project))
    result = meltano.run("invoke", wh.utility, "build", "--project-dir", str(project))
    output = result.stdout + result.stderr
    assert "assert_reclaim_candidates_are_paid_seats" in output
    assert_dbt_passed(output)


@pytest.fixture
def grid_pipeline(
    meltano_session: dict[str, t.Any], postgres: pg.Postgres, tmp_path: Path
) -> t.Iterator[tuple[Pipeline, dt.date]]:
    """An Enterprise Grid org (one workspace, 120 members) read with an org-level token and
    team_id; member analytics as far back as Slack keeps them (13 months)."""
    config = WorkspaceConfig(seed=7, users=120, plan="enterprise", enterprise=True)
    newest = dt.datetime.now(tz=dt.timezone.utc).date() - dt.timedelta(
        days=config.analytics_lag_days
    )
    # A Sunday: after a weekend (the emulator's members are rarely active then) a 2-day idle
    # window finds idle seats, and a 7-day one almost none.
    as_of = newest - dt.timedelta(days=(newest.weekday() + 1) % 7)
    with make_pipeline(
        "grid_licence_models",
        meltano_session,
        postgres,
        tmp_path,
        config,
        scopes=ENTERPRISE_USER_SCOPES,
        org_level=True,
        settings={"team_id": "primary"},
    ) as made:
        yield made, as_of


def grid_history_truth(
    ws: t.Any, first: dt.date, as_of: dt.date, idle_days: int
) -> dict[dt.date, dict[str, int]]:
    """Per day before ``as_of``: billed, active (per window), idle and guest seats, from the
    emulator's analytics files."""
    last_active: dict[str, dt.date] = {}
    days: dict[dt.date, dict[str, int]] = {}
    day = first
    while day < as_of:
        counts: dict[str, int] = defaultdict(int)
        for row in ws.analytics_rows(day):
            user = row["user_id"]
            if row["is_active"]:
                last_active[user] = day
            if not row["is_billable_seat"]:
                continue
            counts["seats_billed"] += 1
            counts["guest_seats_billed"] += bool(row["is_guest"])
            since = (day - last_active[user]).days if user in last_active else None
            for window in HISTORY_WINDOWS:
                counts[f"active_seats_{window}d"] += since is not None and since < window
            counts["idle_paid_seats"] += since is None or since >= idle_days
        days[day] = counts
        day += dt.timedelta(days=1)
    return days


@pytest.mark.timeout(1200)
def test_enterprise_grid_licence_models(
    grid_pipeline: tuple[Pipeline, dt.date], tmp_path: Path
) -> None:
    """An Enterprise Grid org, on PostgreSQL and DuckDB: activity comes from member analytics
    (the Grid streams land too), per workspace and per org; the numbers equal those of the
    emulator's analytics files; money is null without a contract (Grid has no list price)
    and follows the org's contract when given; the first sync's history holds ~13 months,
    day by day."""
    pipeline, as_of = grid_pipeline
    ws = pipeline.emu.workspace
    team_id = ws.primary_team.id
    enterprise_id = ws.enterprise.id if ws.enterprise else None
    roster = scim_roster(ws)
    for wh in warehouses(pipeline, tmp_path):
        wh.run_elt()
        backfill = wh.rows(
            f"SELECT history_date FROM {MODELS}.slack__seat_history "
            f"WHERE grain = 'org' AND measured_from = 'member_analytics'"
        )
        dates = sorted(r["history_date"] for r in backfill)
        assert 380 <= len(dates) <= 400, len(dates)  # 13 months of daily files
        assert dates[-1] - dates[0] == dt.timedelta(days=len(dates) - 1)  # no gap
        assert wh.summary("org")["billed_cost_month"] is None  # no price: null, no guess

        truth = Truth(as_of=as_of, idle_days=2, windows=[2, 7, 30], warning_days=90)
        members_truth(ws, truth, team_id)
        loaded = wh.rows(
            "SELECT min(date) AS first, max(date) AS last FROM tap_slack_snow.member_analytics"
        )[0]
        first = dt.date.fromisoformat(str(loaded["first"]))
        assert first <= as_of - dt.timedelta(days=365)
        assert dt.date.fromisoformat(str(loaded["last"])) >= as_of
        day = first
        while day <= as_of:
            for row in ws.analytics_rows(day):
                if row["is_active"]:
                    truth.last_activity[row["user_id"]] = day
            day += dt.timedelta(days=1)
        assert 0 < len(truth.idle()) < len(truth.billable)

        contract = {
            "scope_id": enterprise_id,
            "price_per_seat_month": 21.5,
            "purchased_seats": len(truth.billable) - 3,
        }
        truth.price = Decimal("21.5")
        wh.build(truth.dbt_vars(slack_contracts=[contract]))
        assert_models_match(wh, truth, source="member_analytics", plan="enterprise")
        assert_scim_matches(wh, truth, roster, team_id)  # the org's SCIM roster
        got = wh.seats()
        assert {s["enterprise_id"] for s in got.values()} == {enterprise_id}
        assert {s["billing_model"] for s in got.values()} == {"contract"}
        # Activity counts within the idle window (messages_posted_<idle_days>d) from the files.
        messages: dict[str, int] = defaultdict(int)
        for back in range(truth.idle_days):
            for row in ws.analytics_rows(as_of - dt.timedelta(days=back)):
                messages[row["user_id"]] += int(row["messages_posted_count"])
        for user_id, seat in got.items():
            assert seat[f"messages_posted_{truth.idle_days}d"] == messages.get(user_id, 0)
        # The org row adds up the org's workspaces (here one), and carries the contract:
        # more seats billed than purchased, so the org pays for the billed ones.
        org = wh.summary("org")
        workspace = wh.summary()
        assert org["scope_id"] == enterprise_id
        for column in ("seats_billed", "idle_paid_seats", "accounts", "guests"):
            assert org[column] == workspace[column], column
        assert org["purchased_seats"] == len(truth.billable) - 3
        assert org["unassigned_seats"] == 0
        assert money(org["monthly_cost"]) == money(truth.price * len(truth.billable))
        assert workspace["purchased_seats"] is None  # the contract is the org's

        # The history, day by day from the files, with the contract price.
        expected = grid_history_truth(ws, first, as_of, truth.idle_days)
        history = {
            r["history_date"]: r
            for r in wh.rows(
                f"SELECT * FROM {MODELS}.slack__seat_history WHERE grain = 'org' "
                f"AND history_date < '{as_of.isoformat()}'"
            )
        }
        assert set(expected) <= set(history)
        for day, counts in expected.items():
            row = history[day]
            for column in (
                "seats_billed",
                "guest_seats_billed",
                "idle_paid_seats",
                *(f"active_seats_{w}d" for w in HISTORY_WINDOWS),
            ):
                assert row[column] == counts[column], (day, column)
            assert money(row["billed_cost_month"]) == money(truth.price * counts["seats_billed"])


def free_and_pro(plan: str) -> WorkspaceConfig:
    if plan == "free":
        return WorkspaceConfig(seed=3, users=150, plan="free", access_logs=50)
    return WorkspaceConfig(seed=11, users=200, plan="std")


@pytest.mark.parametrize("plan", ["free", "std"])
def test_free_and_pro_workspaces(
    plan: str, meltano_session: dict[str, t.Any], postgres: pg.Postgres, tmp_path: Path
) -> None:
    """Free (only users, billing and billable_info selected: no access_logs, team or Grid
    tables at all) and Pro, on PostgreSQL and DuckDB: the models build and pass their tests;
    Free says "not monitored" instead of calling every seat idle and costs nothing; Pro is
    measured by its logins at Pro's list price; neither has SCIM (department null)."""
    config = free_and_pro(plan)
    select = json.dumps(["users.*", "billing.*", "billable_info.*", "access_logs.*"])
    env = {"TAP_SLACK_SNOW__SELECT": select} if plan == "free" else {}
    with make_pipeline(
        f"{plan}_licence_models", meltano_session, postgres, tmp_path, config
    ) as pipeline:
        ws = pipeline.emu.workspace
        truth = Truth(
            as_of=utc_date(ws.base_now),
            idle_days=30,
            windows=[30, 60, 90],
            warning_days=30,
            monitored=plan != "free",
        )
        members_truth(ws, truth)
        if plan != "free":
            access_log_activity(ws, truth)
        for wh in warehouses(pipeline, tmp_path):
            # The job's own build (default vars): measured as of the day it reports.
            wh.run_elt(env=env)
            truth.as_of = wh.summary()["as_of_date"]
            truth.price = list_price(plan, truth.as_of)
            if plan == "free":
                tables = {
                    r["table_name"]
                    for r in wh.rows(
                        "SELECT table_name FROM information_schema.tables "
                        "WHERE table_schema = 'tap_slack_snow'"
                    )
                }
                assert "team" not in tables
                assert "member_analytics" not in tables
                assert "scim_users" not in tables
                assert wh.summary()["team_name"] is None
            source = "access_logs" if plan != "free" else "none"
            assert_models_match(wh, truth, source=source, plan=plan)
            seats = wh.seats()
            assert all(s["department"] is None and not s["has_scim_record"] for s in seats.values())
            if plan == "free":
                assert all(s["is_idle"] is None for s in seats.values() if s["is_billable"])
                assert wh.summary()["idle_paid_seats"] is None
                assert money(wh.summary()["billed_cost_month"]) == money(0)
            else:
                guests = {u for u in truth.billable if truth.kinds[u] in GUEST_KINDS}
                assert wh.summary()["guest_seats_billed"] == len(guests)
