"""What ``scripts/demo`` prints when the pipeline has run: the tables that landed and the
licence answers of the dbt models (idle paid seats in money, departments, reclaim candidates).

Read from the demo's PostgreSQL with psycopg; imported by ``scripts/demo.py`` beside it.
"""

from __future__ import annotations

import typing as t

from tap_slack_snow_devkit import pg

#: How many idle paid seats the closing lines list.
TOP_IDLE = 5


def say(text: str = "") -> None:
    """Print a line at once (stdout may be a pipe)."""
    print(text, flush=True)


#: The SCIM roster by department (Business+ and Enterprise: the table exists only there).
SCIM_DEPARTMENTS = (
    "SELECT coalesce(department, '(none)') AS department, count(*) AS people, "
    "count(*) FILTER (WHERE active) AS active, min(created_at)::date AS first_created "
    "FROM tap_slack_snow.scim_users GROUP BY 1 ORDER BY 2 DESC"
)


def show_results(server: pg.Postgres, database: str) -> None:
    """Tables, row counts and a few rows of each interesting table."""
    with server.connect(database) as conn:
        counts = pg.row_counts(conn)
        if not counts:
            say("No tables landed in schema tap_slack_snow.")
            return
        say(f"Tables in schema {pg.SCHEMA} (database {database}):")
        for table, rows in counts.items():
            say(f"  {table:<18} {rows:>6} rows")
        samples = [
            (
                "users",
                "users by kind",
                "SELECT CASE WHEN deleted THEN 'deactivated' WHEN is_bot THEN 'bot' "
                "WHEN is_invited_user THEN 'invited' "
                "WHEN is_ultra_restricted THEN 'single-channel guest' "
                "WHEN is_restricted THEN 'multi-channel guest' "
                "WHEN is_owner OR is_admin THEN 'owner or admin' ELSE 'member' END AS kind, "
                "count(*) AS users FROM tap_slack_snow.users GROUP BY 1 ORDER BY 2 DESC",
            ),
            (
                "users",
                "users: people, most recently updated",
                "SELECT id, real_name, title, tz, is_admin, updated FROM ("
                "SELECT id, real_name, profile->>'title' AS title, tz, is_admin, updated "
                "FROM tap_slack_snow.users WHERE NOT deleted AND NOT is_bot) AS people "
                "ORDER BY updated DESC LIMIT 5",
            ),
            (
                "billing",
                "billing (the plan)",
                "SELECT team_id, plan, plan_label FROM tap_slack_snow.billing",
            ),
            (
                "billable_info",
                "billable_info (seats Slack bills)",
                "SELECT billing_active, count(*) AS members FROM tap_slack_snow.billable_info "
                "GROUP BY billing_active ORDER BY billing_active DESC",
            ),
            (
                "access_logs",
                "access_logs, latest",
                "SELECT user_id, username, date_last, count, country, user_agent "
                "FROM tap_slack_snow.access_logs ORDER BY date_last DESC LIMIT 5",
            ),
            (
                "integration_logs",
                "integration_logs, latest",
                "SELECT date, change_type, coalesce(app_type, service_type) AS kind, "
                "user_name, reason FROM tap_slack_snow.integration_logs "
                "ORDER BY date DESC LIMIT 5",
            ),
            ("team", "team", "SELECT id, name, domain, email_domain FROM tap_slack_snow.team"),
            (
                "scim_users",
                "scim_users: who holds each seat (SCIM), by department",
                SCIM_DEPARTMENTS,
            ),
        ]
        for table, title, query in samples:
            if table not in counts:
                continue
            cursor = conn.execute(query)
            rows = cursor.fetchall()
            if not rows:
                continue
            columns = [c.name for c in cursor.description or []]
            say()
            say(f"{title}:")
            print_table(columns, rows)
        say()
        say(
            "Every table also has the _sdc_ columns (extracted/batched/deleted at, table "
            "version) and a primary key on the stream's key."
        )


def show_licences(server: pg.Postgres, database: str) -> None:
    """The licence summary and the top idle paid seats, read from the dbt models."""
    with server.connect(database) as conn:
        cursor = conn.execute(
            "SELECT grain, coalesce(team_name, scope_id) AS name, plan_label, activity_source, "
            "accounts, seats_billed, billed_active_30d, billed_active_60d, billed_active_90d, "
            "idle_paid_seats, never_active_paid_seats, idle_days_threshold, guests, "
            "guests_expiring_soon, guest_expiry_warning_days, deactivated_billable, as_of_date, "
            "idle_paid_cost_month, currency, price_source, list_price_as_of "
            "FROM slack.slack__licence_summary ORDER BY grain DESC, name"
        )
        columns = [c.name for c in cursor.description or []]
        summaries = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        idle = conn.execute(
            "SELECT coalesce(real_name, username, user_id), account_kind, "
            "coalesce(department, '-'), last_activity_date, days_idle "
            "FROM slack.slack__reclaim_candidates WHERE reason = 'idle' "
            "ORDER BY days_idle DESC, user_id LIMIT %s",
            (TOP_IDLE,),
        ).fetchall()
        # The SCIM departments (slack__licence_by_department) where a licence team reclaims
        # seats first; none without SCIM (Free, Pro) or activity data.
        departments = conn.execute(
            "SELECT department, idle_paid_seats, seats_billed, idle_paid_cost_month, currency "
            "FROM slack.slack__licence_by_department WHERE grain = 'workspace' "
            "AND department != '(none)' AND idle_paid_seats > 0 "
            "ORDER BY idle_paid_seats DESC, department LIMIT 3"
        ).fetchall()
        history = conn.execute(
            "SELECT count(*), min(history_date), max(history_date), min(seats_billed), "
            "max(seats_billed) FROM slack.slack__seat_history WHERE grain = 'workspace'"
        ).fetchone()
    if not summaries:
        say("The licence models are empty.")
        return
    for row in summaries:
        say(
            f"{row['grain'].capitalize()} {row['name']} ({row['plan_label']}), as of "
            f"{row['as_of_date']}: {row['seats_billed']} paid seats, {row['accounts']} accounts"
        )
        if row["idle_paid_seats"] is None:
            say("  active: unknown (no access logs or member analytics on this plan)")
        else:
            say(
                f"  paid seats active in the last 30 / 60 / 90 days: {row['billed_active_30d']}"
                f" / {row['billed_active_60d']} / {row['billed_active_90d']}"
                f" (source: {row['activity_source']})"
            )
            say(
                f"  idle paid seats (no activity for {row['idle_days_threshold']}+ days): "
                f"{row['idle_paid_seats']}, of which never active: "
                f"{row['never_active_paid_seats']}"
            )
            say(f"  {idle_cost_line(row)}")
        say(
            f"  guests: {row['guests']}, expiring within {row['guest_expiry_warning_days']} "
            f"days: {row['guests_expiring_soon']}; deactivated but billed: "
            f"{row['deactivated_billable']}"
        )
    if departments:
        say("Departments with the most idle paid seats (SCIM):")
        for department, idle_seats, billed, cost, currency in departments:
            money = "" if cost is None else f", ~ {currency} {cost:,.2f} a month"
            say(f"  {department:<20} {idle_seats} idle of {billed} paid seats{money}")
    if idle:
        say(f"Top reclaim candidates (longest idle paid seats), top {len(idle)}:")
        for name, kind, department, last, days in idle:
            say(f"  {name:<24} {kind:<20} {department:<18} last active {last} ({days} days ago)")
    if history and history[0]:
        say(
            f"Seat history (slack.slack__seat_history): {history[0]} day(s) from {history[1]} "
            f"to {history[2]}, paid seats {history[3]}..{history[4]}"
        )


def idle_cost_line(row: dict[str, t.Any]) -> str:
    """The idle paid seats in money, and where the price comes from."""
    cost = row["idle_paid_cost_month"]
    if cost is None:
        return "idle paid seats cost: unknown (no price for this plan: set var slack_contracts)"
    where = (
        "at your contract price"
        if row["price_source"] == "contract"
        else f"at {row['plan_label']} list price (as of {row['list_price_as_of']}; set your "
        "contract price in var slack_contracts, docs/dbt.md)"
    )
    return (
        f"{row['idle_paid_seats']} idle paid seats ~ {row['currency']} {cost:,.2f} a month {where}"
    )


def print_table(columns: list[str], rows: list[tuple[t.Any, ...]]) -> None:
    """A plain aligned text table."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    for row in [columns, *cells]:
        say(("  " + "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True))).rstrip())


def _cell(value: t.Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= 40 else text[:37] + "..."
