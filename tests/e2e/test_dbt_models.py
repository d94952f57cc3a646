"""``meltano run tap-slack-snow target-postgres dbt-postgres:build`` end to end, and the
licence models (transform/) checked against what the Slack emulator holds.

Every expected number is computed here from the emulator's own data (members, billable
info, access logs, member-analytics files), never written down. The "as of" date and the
activity windows are pinned through dbt vars, so the result does not depend on the day the
test runs.
"""

from __future__ import annotations

import datetime as dt
import json
import typing as t
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tap_slack_snow_devkit import pg
from tap_slack_snow_emulator import ENTERPRISE_USER_SCOPES, WorkspaceConfig
from tests.e2e.conftest import Pipeline, make_pipeline

if t.TYPE_CHECKING:
    import subprocess

    from tap_slack_snow_emulator.data import Workspace

pytestmark = pytest.mark.e2e

MODELS = "slack"  # the dbt-postgres utility's target schema (meltano.yml)
KINDS = {
    "deleted": "deactivated",
    "bot": "bot",
    "slackbot": "bot",
    "invited": "invited",
    "single_guest": "single_channel_guest",
    "guest": "multi_channel_guest",
}
GUEST_KINDS = {"multi_channel_guest", "single_channel_guest"}


def run_elt(
    pipeline: Pipeline, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The job of meltano.yml, with this test's state ID: extract, load, dbt build."""
    result = pipeline.meltano.run(
        "run",
        "--state-id-suffix",
        pipeline.state_suffix,
        "tap-slack-snow",
        "target-postgres",
        "dbt-postgres:build",
        env=env,
    )
    assert_dbt_passed(result.stdout + result.stderr)
    return result


def dbt_build(pipeline: Pipeline, dbt_vars: dict[str, t.Any]) -> None:
    """``meltano invoke dbt-postgres build --vars ...``: the models again, with these vars."""
    result = pipeline.meltano.run("invoke", "dbt-postgres", "build", "--vars", json.dumps(dbt_vars))
    assert_dbt_passed(result.stdout + result.stderr)


def assert_dbt_passed(output: str) -> None:
    """dbt ran its models and tests, and none failed or warned."""
    done = [line for line in output.splitlines() if "Done. PASS=" in line]
    assert done, output[-3000:]
    assert "WARN=0 ERROR=0" in done[-1], done[-1]
    assert int(done[-1].split("PASS=")[1].split()[0]) > 40, done[-1]  # 12 models + tests


def rows(pipeline: Pipeline, query: str) -> list[dict[str, t.Any]]:
    with pipeline.connect() as conn:
        cursor = conn.execute(query)
        names = [c.name for c in cursor.description or []]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def seats(pipeline: Pipeline) -> dict[str, dict[str, t.Any]]:
    return {r["user_id"]: r for r in rows(pipeline, f"SELECT * FROM {MODELS}.slack__seats")}


def summary(pipeline: Pipeline, grain: str = "workspace") -> dict[str, t.Any]:
    found = rows(pipeline, f"SELECT * FROM {MODELS}.slack__licence_summary WHERE grain = '{grain}'")
    assert len(found) == 1, found
    return found[0]


def utc_date(unix: int) -> dt.date:
    return dt.datetime.fromtimestamp(unix, tz=dt.timezone.utc).date()


@dataclass
class Truth:
    """What the emulator's data implies for the models, as of one date."""

    as_of: dt.date
    idle_days: int
    windows: list[int]
    warning_days: int
    kinds: dict[str, str] = field(default_factory=dict)
    billable: set[str] = field(default_factory=set)
    last_activity: dict[str, dt.date] = field(default_factory=dict)
    guest_expiry: dict[str, dt.date] = field(default_factory=dict)

    def days_since(self, user_id: str) -> int | None:
        last = self.last_activity.get(user_id)
        return None if last is None else (self.as_of - last).days

    def idle(self) -> set[str]:
        return {
            u for u in self.billable if (d := self.days_since(u)) is None or d >= self.idle_days
        }

    def billed_active(self, days: int) -> int:
        return sum(1 for u in self.billable if (d := self.days_since(u)) is not None and d < days)

    def expiring_guests(self) -> set[str]:
        return {
            u
            for u, day in self.guest_expiry.items()
            if self.kinds[u] in GUEST_KINDS and 0 <= (day - self.as_of).days <= self.warning_days
        }

    def kind_counts(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for kind in self.kinds.values():
            counts[kind] += 1
        return counts


def members_truth(ws: Workspace, truth: Truth, team_id: str | None = None) -> None:
    """Kinds, billable seats and guest expiry of every member."""
    for i in ws.member_indices(team_id):
        core = ws.user_core(i)
        truth.kinds[core.id] = KINDS.get(core.role, "full_member")
        if core.expiration_ts and core.is_restricted:
            truth.guest_expiry[core.id] = utc_date(core.expiration_ts)
    truth.billable = set(ws.billing_active_user_ids(team_id))


def assert_models_match(pipeline: Pipeline, truth: Truth, *, source: str, plan: str) -> None:
    """slack__seats and slack__licence_summary against the emulator's truth."""
    got = seats(pipeline)
    assert set(got) == set(truth.kinds)
    assert {u: s["account_kind"] for u, s in got.items()} == truth.kinds
    assert {u for u, s in got.items() if s["is_billable"]} == truth.billable
    assert {s["plan"] for s in got.values()} == {plan}
    assert {s["as_of_date"] for s in got.values()} == {truth.as_of}
    assert {s["activity_source"] for s in got.values()} == {source}
    assert {u for u, s in got.items() if s["is_idle"]} == truth.idle()
    assert {u: s["days_since_last_activity"] for u, s in got.items()} == {
        u: truth.days_since(u) for u in truth.kinds
    }
    assert {u for u, s in got.items() if s["is_guest_expiring_soon"]} == truth.expiring_guests()

    row = summary(pipeline)
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
    assert row["idle_paid_seats"] == len(truth.idle())
    assert row["idle_days_threshold"] == truth.idle_days
    for days in truth.windows:
        assert row[f"billed_active_{days}d"] == truth.billed_active(days), days
    assert row["guests"] == kinds["multi_channel_guest"] + kinds["single_channel_guest"]
    assert row["guests_expiring_soon"] == len(truth.expiring_guests())
    # The emulator bills no deactivated member (team.billableInfo leaves them out).
    assert row["deactivated_billable"] == 0


def test_business_plus_workspace_licence_models(pipeline: Pipeline) -> None:
    """A Business+ workspace: one `meltano run` extracts, loads and builds the models (dbt's
    tests pass); activity comes from the access logs; idle paid seats, active seats per
    window, kinds and expiring guests equal what the emulator's data implies."""
    run_elt(pipeline)
    ws = pipeline.emu.workspace
    # The default build measures "as of" today and with the default windows.
    default = summary(pipeline)
    assert default["activity_source"] == "access_logs"
    assert default["seats_billed"] == len(ws.billing_active_user_ids())
    assert default["idle_days_threshold"] == 30
    assert {"billed_active_30d", "billed_active_60d", "billed_active_90d"} <= set(default)

    as_of = utc_date(ws.base_now)
    truth = Truth(as_of=as_of, idle_days=45, windows=[7, 45, 120], warning_days=60)
    members_truth(ws, truth)
    for entry in ws.access_log_entries():
        day = utc_date(int(entry["date_last"]))
        user = str(entry["user_id"])
        truth.last_activity[user] = max(day, truth.last_activity.get(user, day))
    assert 0 < len(truth.idle()) < len(truth.billable)  # the check can tell them apart

    dbt_build(
        pipeline,
        {
            "slack_as_of_date": as_of.isoformat(),
            "slack_idle_days": truth.idle_days,
            "slack_activity_windows": truth.windows,
            "slack_guest_expiry_warning_days": truth.warning_days,
        },
    )
    assert_models_match(pipeline, truth, source="access_logs", plan="plus")
    top = rows(
        pipeline,
        f"SELECT user_id, last_login_at, login_count FROM {MODELS}.slack__seats "
        "WHERE is_idle ORDER BY days_since_last_activity DESC NULLS FIRST LIMIT 1",
    )[0]
    logins = [e for e in ws.access_log_entries() if e["user_id"] == top["user_id"]]
    assert top["login_count"] == sum(int(e["count"]) for e in logins)


@pytest.fixture
def grid_pipeline(
    meltano_session: dict[str, t.Any], postgres: pg.Postgres, tmp_path: Path
) -> t.Iterator[tuple[Pipeline, dt.date]]:
    """An Enterprise Grid org (one workspace, 120 members) read with an org-level token and
    team_id; member analytics from five weeks before the "as of" date, a Sunday."""
    config = WorkspaceConfig(seed=7, users=120, plan="enterprise", enterprise=True)
    newest = dt.datetime.now(tz=dt.timezone.utc).date() - dt.timedelta(
        days=config.analytics_lag_days
    )
    # A Sunday: after a weekend (the emulator's members are rarely active then) a 2-day idle
    # window finds idle seats, and a 7-day one almost none.
    as_of = newest - dt.timedelta(days=(newest.weekday() + 1) % 7)
    start = as_of - dt.timedelta(days=35)
    settings = {"team_id": "primary", "start_date": f"{start.isoformat()}T00:00:00Z"}
    with make_pipeline(
        "grid_licence_models",
        meltano_session,
        postgres,
        tmp_path,
        config,
        scopes=ENTERPRISE_USER_SCOPES,
        org_level=True,
        settings=settings,
    ) as made:
        yield made, as_of


def test_enterprise_grid_licence_models(grid_pipeline: tuple[Pipeline, dt.date]) -> None:
    """An Enterprise Grid org: activity comes from member analytics (the Grid streams land
    too), per workspace and per org; the numbers equal those of the emulator's analytics
    files."""
    pipeline, as_of = grid_pipeline
    run_elt(pipeline)
    ws = pipeline.emu.workspace
    team_id = ws.primary_team.id

    truth = Truth(as_of=as_of, idle_days=2, windows=[2, 7, 30], warning_days=90)
    members_truth(ws, truth, team_id)
    loaded = rows(
        pipeline,
        "SELECT min(date) AS first, max(date) AS last FROM tap_slack_snow.member_analytics",
    )[0]
    day = loaded["first"]
    assert day <= as_of - dt.timedelta(days=30) and loaded["last"] >= as_of
    while day <= as_of:
        for row in ws.analytics_rows(day):
            if row["is_active"]:
                truth.last_activity[row["user_id"]] = day
        day += dt.timedelta(days=1)
    assert 0 < len(truth.idle()) < len(truth.billable)

    dbt_build(
        pipeline,
        {
            "slack_as_of_date": as_of.isoformat(),
            "slack_idle_days": truth.idle_days,
            "slack_activity_windows": truth.windows,
            "slack_guest_expiry_warning_days": truth.warning_days,
        },
    )
    assert_models_match(pipeline, truth, source="member_analytics", plan="enterprise")
    got = seats(pipeline)
    assert {s["enterprise_id"] for s in got.values()} == {
        ws.enterprise.id if ws.enterprise else None
    }
    # Activity counts within the idle window (messages_posted_<idle_days>d) from the files.
    messages: dict[str, int] = defaultdict(int)
    for back in range(truth.idle_days):
        for row in ws.analytics_rows(as_of - dt.timedelta(days=back)):
            messages[row["user_id"]] += int(row["messages_posted_count"])
    for user_id, seat in got.items():
        assert seat[f"messages_posted_{truth.idle_days}d"] == messages.get(user_id, 0), user_id
    # The org row adds up the org's workspaces (here one).
    org = summary(pipeline, "org")
    workspace = summary(pipeline)
    assert org["scope_id"] == ws.enterprise.id if ws.enterprise else None
    for column in ("seats_billed", "idle_paid_seats", "accounts", "guests"):
        assert org[column] == workspace[column], column


def test_free_workspace_without_activity_streams(
    meltano_session: dict[str, t.Any], postgres: pg.Postgres, tmp_path: Path
) -> None:
    """A Free workspace where only users, billing and billable_info were selected (no
    access_logs, team or Grid tables at all): the models still build and pass their tests,
    count the billed seats, and say that "active" is unknown instead of calling every seat
    idle."""
    config = WorkspaceConfig(seed=3, users=150, plan="free", access_logs=50)
    select = json.dumps(["users.*", "billing.*", "billable_info.*", "access_logs.*"])
    with make_pipeline(
        "free_without_activity", meltano_session, postgres, tmp_path, config
    ) as pipeline:
        run_elt(pipeline, env={"TAP_SLACK_SNOW__SELECT": select})
        with pipeline.connect() as conn:
            landed = pg.row_counts(conn)
        assert "team" not in landed
        assert "member_analytics" not in landed
        assert landed.get("access_logs", 0) == 0  # Slack answers paid_only: skipped
        ws = pipeline.emu.workspace
        row = summary(pipeline)
        assert row["plan"] == "free"
        assert row["activity_source"] == "none"
        assert row["seats_billed"] == len(ws.billing_active_user_ids())
        assert row["accounts"] == ws.team_member_count(None)
        assert row["idle_paid_seats"] is None
        assert row["team_name"] is None
        assert all(s["is_idle"] is None for s in seats(pipeline).values() if s["is_billable"])
