"""Section 6, scale on paper: first and daily sync times on Slack's real limits, estimated from
the costs sections 1 and 4 measured (and section 5's BATCH rate when it ran), with the loading
into PostgreSQL when section 5b ran.
"""

from __future__ import annotations

import math
import typing as t

from benchmarks.report import Report, human, table
from benchmarks.sections.common import STREAM_METHODS, TIER, method_time

#: The SCIM read of scim_users, and the per-minute limits: Slack's tiers, SCIM's own limit.
SCIM_METHOD = "SCIM GET /Users"
LIMITS_PER_MINUTE = {**TIER, SCIM_METHOD: 1000}


def bench_scale(
    report: Report,
    first: dict[str, t.Any],
    memory: dict[str, t.Any],
    analytics: dict[str, float] | None = None,
    loading: dict[str, float] | None = None,
) -> None:
    """First and daily sync times on Slack's real limits, from the measured costs (and, with
    section 5, member_analytics through BATCH messages; with section 5b, the load into
    PostgreSQL)."""
    seconds, requests, records = first["stream_seconds"], first["requests"], first["records"]

    def per_request(stream: str) -> float:
        return seconds.get(stream, 0.0) / max(1, requests.get(stream, 1))

    per_row = memory["analytics_seconds"] / memory["analytics_rows"]
    bench_users = first["users"]
    access_per_member = records["access_logs"] / bench_users
    billable_share = records["billable_info"] / bench_users
    small = max(per_request("team"), per_request("billing"), 0.01)
    analytics_overhead = max(0.0, per_request("member_analytics") - 100 * per_row)

    batch_per_row = 1 / analytics["batch_rate"] if analytics else None

    def plan(
        members: int, daily: bool, row_cost: float = per_row
    ) -> tuple[float, int, dict[str, float], float]:
        access = 0.8 * members if daily else access_per_member * members
        calls = {
            "users.list": (math.ceil(members / 1000), per_request("users")),
            "team.info": (1, small),
            "team.billing.info": (1, small),
            "team.billableInfo": (
                math.ceil(billable_share * members / 1000),
                per_request("billable_info"),
            ),
            "team.accessLogs": (
                math.ceil(access / 1000) + int(access // 100_000),
                per_request("access_logs"),
            ),
            "team.integrationLogs": (1 if daily else 5, per_request("integration_logs")),
            "admin.users.list": (math.ceil(members / 100) + 1, per_request("admin_users")),
            # SCIM's reads: 1,000 users a page, 1,000 reads a minute for the org (shared with
            # the org's other SCIM apps; assumed idle here).
            SCIM_METHOD: (math.ceil(members / 1000), per_request("scim_users")),
            "admin.analytics.getFile": (
                2 if daily else 396,
                analytics_overhead + row_cost * members * (0.5 if daily else 395 / 396),
            ),
        }
        parts = {
            method: method_time(n, LIMITS_PER_MINUTE[method], cost)
            for method, (n, cost) in calls.items()
        }
        # Side by side: the slowest method, unless the one thread that emits every record
        # (the sum of the per-request costs) is slower still.
        emitting = sum(n * cost for n, cost in calls.values())
        concurrent = max(*parts.values(), emitting)
        return sum(parts.values()), sum(n for n, _ in calls.values()), parts, concurrent

    def load_time(members: int, daily: bool, batch: bool) -> float | None:
        """Seconds target-postgres (as shipped) needs for the run's rows, at the rates 5b
        measured: member_analytics at its RECORD or BATCH rate, every other row at the users
        rate (the widest rows)."""
        if not loading:
            return None
        rate = loading["analytics_batch_pipeline_rows_s" if batch else "analytics_pipeline_rows_s"]
        analytics_rows = members * (1 if daily else 395)
        access = 0.8 * members if daily else access_per_member * members
        others = members * (2 + billable_share) + access + (50 if daily else 5_000)
        return analytics_rows / rate + others / loading["users_pipeline_rows_s"]

    rows = []
    cases: list[tuple[int, bool, float, str]] = []
    for members in (1_000, 100_000, 500_000):
        for daily in (False, True):
            label = "daily incremental" if daily else "first full sync"
            cases.append((members, daily, per_row, label))
            if batch_per_row is not None and members >= 100_000:
                cases.append((members, daily, batch_per_row, label + ", `batch_config`"))
    for members, daily, row_cost, label in cases:
        total, n, parts, concurrent = plan(members, daily, row_cost)
        top = sorted(parts.items(), key=lambda kv: kv[1], reverse=True)[:2]
        loaded = load_time(members, daily, row_cost is batch_per_row)
        load_columns = (
            [] if loaded is None else [human(loaded), f"**{human(max(concurrent, loaded))}**"]
        )
        rows.append(
            [
                f"{members:,}",
                label,
                f"{n:,}",
                f"**{human(concurrent)}**",
                human(total),
                *load_columns,
                ", ".join(f"{m} {human(s)}" for m, s in top),
            ]
        )
    costs = [
        [stream, requests.get(stream, 0), f"{per_request(stream) * 1000:.0f} ms"]
        for stream in STREAM_METHODS
    ]
    body = (
        "Estimated from the costs measured in section 1 (seconds per request of each stream at "
        "full pages, no rate limits) and section 4 (member_analytics seconds per row), on "
        "Slack's real limits: Tier 2 (users.list, team.billableInfo, team.accessLogs, "
        "team.integrationLogs, admin.analytics.getFile) 20/min, Tier 3 (team.info, "
        "team.billing.info) 50/min, Tier 4 (admin.users.list) 100/min, SCIM (GET /Users, "
        "1,000 users a page) 1,000/min for the org, modelled as fixed "
        "one-minute windows. Concurrent (the default): every method is read side by side, so a "
        "sync takes as long as its slowest method, or as the one thread that emits every record "
        "if that is slower (the sum of the measured per-request costs, which include fetching, "
        "so an upper bound); sequential (`concurrent_fetch: false`): the sum. Assumptions: "
        f"{access_per_member:.1f} access-log entries per member (as in section 1) for a first "
        "sync and 0.8 per member per day incrementally (each active member's entry moves); 5,000 "
        "integration-log entries; 13 months (396 requests) of member analytics on a first sync and "
        "2 requests a day after; one analytics row per member per day; "
        f"{billable_share * 100:.0f} % of members billable. A daily run re-reads users, "
        "billable_info and admin_users in full (full-table streams).\n\n"
        + loading_note(loading)
        + table(
            [
                "members",
                "sync",
                "requests",
                "concurrent",
                "sequential",
                *(["loading into PostgreSQL", "end to end"] if loading else []),
                "slowest methods",
            ],
            rows,
        )
        + "\n\nMeasured cost per request (section 1):\n\n"
        + table(["stream", "requests", "cost / request"], costs)
        + f"\n\nmember_analytics: {per_row * 1e6:.1f} µs per row (RECORD messages, section 4)"
        + (
            f"; {batch_per_row * 1e6:.1f} µs per row with `batch_config` (section 5)."
            if batch_per_row is not None
            else "."
        )
    )
    report.add("6. Scale on paper (Slack's real limits)", body)


def loading_note(loading: dict[str, float] | None) -> str:
    """How the loading columns are estimated (empty without section 5b)."""
    if not loading:
        return ""
    return (
        "Loading into PostgreSQL (target-postgres as meltano.yml ships it, section 5b): "
        f"member_analytics at {loading['analytics_pipeline_rows_s']:,.0f} rows/s (RECORD) or "
        f"{loading['analytics_batch_pipeline_rows_s']:,.0f} rows/s (`batch_config`), every "
        f"other row at the users rate, {loading['users_pipeline_rows_s']:,.0f} rows/s. The "
        "target loads while the tap reads, so a run end to end takes the longer of the two "
        "(Meltano's start-up, seconds, left out).\n\n"
    )
