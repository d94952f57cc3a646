"""A stream's Slack calls as the SDK's METRIC lines, for schedulers that alert on them.

The per-stream log line ("Stream users done: ... requests (... rate-limited, ... retried)")
is for people; these are the same counts as points of singer-sdk's metrics logger
(``singer_sdk.metrics``), one per count, tagged with the stream: a ``METRIC: {...}`` line in
the default log format, a ``metric_info`` object with the SDK's JSON log format
(docs/running.md says how to turn it on).
"""

from __future__ import annotations

import enum
import typing as t

from singer_sdk import metrics

if t.TYPE_CHECKING:
    from tap_slack_snow.slack.retry import CallStats


class SlackMetric(str, enum.Enum):
    """The tap's own metric names. The SDK's ``http_request_count`` (tagged with the
    endpoint) counts the pages a stream read; these count every HTTP request sent."""

    REQUEST_COUNT = "slack_request_count"  # every attempt: 429s and retried faults too
    RATE_LIMITED_COUNT = "slack_rate_limited_count"  # HTTP 429 / ratelimited answers
    RETRY_COUNT = "slack_retry_count"  # faults retried (5xx, timeouts, resets)
    RATE_LIMIT_WAIT = "slack_rate_limit_wait"  # seconds slept on Retry-After


def log_call_metrics(stream: str, stats: CallStats, *, status: str) -> None:
    """Log a stream's requests, 429s, retries and rate-limit wait as METRIC points.

    ``status``: ``succeeded``, or ``skipped`` for a stream skipped by the availability policy.
    """
    logger = metrics.get_metrics_logger()
    tags = {"stream": stream, "status": status}
    # The SDK's Point takes its own Metric enum; a str enum of ours logs the same (`.value`).
    points: list[tuple[str, SlackMetric, float]] = [
        ("counter", SlackMetric.REQUEST_COUNT, stats.requests),
        ("counter", SlackMetric.RATE_LIMITED_COUNT, stats.rate_limited),
        ("counter", SlackMetric.RETRY_COUNT, stats.retries),
        ("timer", SlackMetric.RATE_LIMIT_WAIT, round(stats.rate_limit_wait_seconds, 3)),
    ]
    for metric_type, metric, value in points:
        point = metrics.Point(metric_type, t.cast("metrics.Metric", metric), value, dict(tags))
        metrics.log(logger, point)
