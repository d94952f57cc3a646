"""The order a run syncs its streams in, read from the config and the state the run starts
from (``tap_slack_snow/streams/order.py``): nothing here calls Slack, so the tap is built
without an emulator (``tests/run/test_sync_order.py`` checks the messages over HTTP)."""

from __future__ import annotations

import datetime as dt
import typing as t

from tap_slack_snow.tap import TapSlackSnow

TODAY = dt.datetime.now(tz=dt.timezone.utc).date()


def days_ago(days: int) -> str:
    return (TODAY - dt.timedelta(days=days)).isoformat() + "T00:00:00+00:00"


def order(state: dict[str, t.Any] | None = None, **config: t.Any) -> list[str]:
    tap = TapSlackSnow(
        config={"access_token": "xoxp-order", **config}, state=state, validate_config=False
    )
    return list(tap.streams)


def test_without_state_the_one_request_streams_come_first_and_the_logs_last() -> None:
    first_run = [
        "admin_users",
        "team",
        "billing",
        "users",
        "billable_info",
        "scim_users",
        "member_analytics",
        "integration_logs",
        "access_logs",
    ]
    assert order(start_date=days_ago(30)) == first_run
    assert order() == first_run  # no start_date: the date-ranged streams read 13 months


def test_a_member_list_known_to_be_long_goes_after_a_short_date_range() -> None:
    state = {
        "bookmarks": {
            "users": {"records_last_sync": 50_000},  # 50 pages at Tier 2
            "access_logs": {"replication_key_value": days_ago(1)},  # 1 day
        }
    }
    got = order(state, start_date=days_ago(30))
    assert got.index("access_logs") < got.index("member_analytics")  # 1 day against 30
    assert got[-1] == "users"  # 50 requests against 30 days


def test_workspaces_read_side_by_side_count_once() -> None:
    """Three workspaces of 5,000 members: 15 pages, read three at once (5 requests), or one
    at a time (15), against member_analytics' 10 days."""
    partitions = [{"context": {"team_id": f"T{n}"}, "records_last_sync": 5_000} for n in range(3)]
    state = {
        "bookmarks": {
            "users": {"partitions": partitions},
            "member_analytics": {"replication_key_value": days_ago(10)[:10]},
        }
    }
    side_by_side = order(state, start_date=days_ago(30))
    assert side_by_side.index("users") < side_by_side.index("member_analytics")
    one_at_a_time = order(state, start_date=days_ago(30), max_concurrent_workspaces=1)
    assert one_at_a_time.index("users") > one_at_a_time.index("member_analytics")


def test_the_earliest_workspace_bookmark_counts_and_an_unreadable_one_is_start_date() -> None:
    logs = [
        {"context": {"team_id": "T1"}, "replication_key_value": days_ago(1)},
        {"context": {"team_id": "T2"}, "replication_key_value": "not a date"},
    ]
    state = {"bookmarks": {"integration_logs": {"partitions": logs}}}
    got = order(state, start_date=days_ago(30))
    # T2 reads from start_date: 30 days, like access_logs, which keeps the tap's tie order
    assert got[-2:] == ["integration_logs", "access_logs"]
    logs[1]["replication_key_value"] = days_ago(2)
    assert order(state, start_date=days_ago(30)).index("integration_logs") == 6  # 2 days


def test_the_order_is_fixed_from_the_state_the_run_starts_from() -> None:
    tap = TapSlackSnow(
        config={"access_token": "xoxp-order", "start_date": days_ago(30)},
        state={"bookmarks": {"users": {"records_last_sync": 50_000}}},
        validate_config=False,
    )
    before = list(tap.streams)
    tap.state["bookmarks"]["users"]["records_last_sync"] = 1  # the run moves its state
    tap.state["bookmarks"]["access_logs"] = {"replication_key_value": days_ago(1)}
    assert list(tap.streams) == before
    # the catalog (--discover) keeps the streams by name
    names = [entry["tap_stream_id"] for entry in tap.catalog_dict["streams"]]
    assert names == sorted(before)
