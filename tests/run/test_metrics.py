"""Per-stream METRIC lines (singer-sdk's metrics logger): requests, 429s, retried faults and
seconds waited on rate limits, equal to what the emulator counted; and the same in the SDK's
JSON log format, with no secret."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

from tap_slack_snow_devkit.catalogs import select_only
from tap_slack_snow_emulator import Fault, WorkspaceConfig
from tests._support import oauth_config, run_cli

REPO = Path(__file__).resolve().parents[2]


def metric_points(stderr: str) -> list[dict[str, t.Any]]:
    """The METRIC points of a run's log, in the default text format."""
    return [
        json.loads(line.split("METRIC: ", 1)[1])
        for line in stderr.splitlines()
        if "METRIC: " in line
    ]


def by_stream(points: list[dict[str, t.Any]], stream: str) -> dict[str, t.Any]:
    """metric name -> value for one stream's Slack-call points."""
    names = {
        "slack_request_count",
        "slack_rate_limited_count",
        "slack_retry_count",
        "slack_rate_limit_wait",
    }
    found = {}
    for point in points:
        if point["metric"] in names and point["tags"].get("stream") == stream:
            assert point["metric"] not in found, "one point per metric and stream"
            found[point["metric"]] = point
    return found


def test_metric_lines_count_requests_429s_retries_and_waits(
    emulator_factory, tmp_path: Path
) -> None:
    emu = emulator_factory(WorkspaceConfig(seed=2, users=60, plan="plus"))
    config = oauth_config(emu, tmp_path, page_size=20)
    emu.add_fault(Fault(method="users.list", kind="http_429", on_call=2, times=2, retry_after=1))
    emu.add_fault(Fault(method="users.list", kind="http_503", on_call=5, times=1))
    catalog = select_only("users", "team")
    result = run_cli(config, tmp_path, catalog=catalog, env={"LOGLEVEL": "INFO"})
    assert result.exit_code == 0, result.stderr[-2000:]
    points = metric_points(result.stderr)

    users = by_stream(points, "users")
    assert set(users) == {
        "slack_request_count",
        "slack_rate_limited_count",
        "slack_retry_count",
        "slack_rate_limit_wait",
    }
    assert users["slack_request_count"]["value"] == emu.calls["users.list"]
    assert users["slack_request_count"]["type"] == "counter"
    assert users["slack_rate_limited_count"]["value"] == emu.rate_limited["users.list"] == 2
    assert users["slack_retry_count"]["value"] == 1
    assert users["slack_rate_limit_wait"]["type"] == "timer"
    assert users["slack_rate_limit_wait"]["value"] >= 2.0
    assert users["slack_request_count"]["tags"] == {"stream": "users", "status": "succeeded"}

    # The token lacks team:read: skipped by policy, before any team.info request.
    team = by_stream(points, "team")
    assert team["slack_request_count"]["value"] == emu.calls["team.info"] == 0
    assert team["slack_request_count"]["tags"]["status"] == "skipped"
    # The SDK's own http_request_count counts the pages read (tagged with the endpoint).
    (pages,) = [
        p
        for p in points
        if p["metric"] == "http_request_count" and p["tags"].get("stream") == "users"
    ]
    assert pages["tags"]["endpoint"] == "/users.list"
    assert pages["value"] == 3  # 60 members, 20 a page
    assert by_stream(points, "access_logs") == {}  # not selected


def test_json_logs_carry_the_metrics_and_no_secret(emulator_factory, tmp_path: Path) -> None:
    emu = emulator_factory(WorkspaceConfig(seed=2, users=30, plan="plus"))
    config = oauth_config(emu, tmp_path)
    log_config = REPO / "docs" / "logging-json.yaml"  # the file docs/running.md shows
    result = run_cli(
        config,
        tmp_path,
        catalog=select_only("users"),
        env={"SINGER_SDK_LOG_CONFIG": str(log_config)},
    )
    assert result.exit_code == 0, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    documents = [json.loads(line) for line in lines]  # every line is one JSON object
    metrics = {
        d["metric_info"]["metric"]: d["metric_info"]
        for d in documents
        if d.get("message") == "METRIC" and d["metric_info"]["tags"].get("stream") == "users"
    }
    assert metrics["slack_request_count"]["value"] == emu.calls["users.list"]
    assert metrics["slack_rate_limited_count"]["value"] == 0
    assert any("Stream users done" in d["message"] for d in documents)
    for secret in (config["client_secret"], config["refresh_token"]):
        assert secret not in result.stderr
