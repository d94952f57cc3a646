"""The tap's streams; :mod:`.order` is the order a run syncs them in.

:mod:`.workspace` users, team, billing, billable_info; :mod:`.activity` access_logs,
integration_logs; :mod:`.enterprise` admin_users and :mod:`.analytics` member_analytics
(Enterprise Grid); :mod:`.scim` scim_users (Slack's SCIM API, Business+ and Enterprise).
Their base, :class:`~tap_slack_snow.streams.base.SlackStream`, is the only stream base class.
"""

from __future__ import annotations

import typing as t

from tap_slack_snow.streams.activity import AccessLogsStream, IntegrationLogsStream
from tap_slack_snow.streams.analytics import MemberAnalyticsStream
from tap_slack_snow.streams.base import SlackStream
from tap_slack_snow.streams.enterprise import AdminUsersStream
from tap_slack_snow.streams.scim import ScimUsersStream
from tap_slack_snow.streams.workspace import (
    BillableInfoStream,
    BillingStream,
    TeamStream,
    UsersStream,
)

#: The tap's streams. A run syncs them by expected fetch time (:mod:`.order`); streams
#: expected to take as long keep this order: the logs last, access_logs (usually the largest)
#: after integration_logs.
STREAM_TYPES: list[type[SlackStream[t.Any]]] = [
    UsersStream,
    TeamStream,
    BillingStream,
    BillableInfoStream,
    AdminUsersStream,
    MemberAnalyticsStream,
    ScimUsersStream,
    IntegrationLogsStream,
    AccessLogsStream,
]

__all__ = [
    "STREAM_TYPES",
    "AccessLogsStream",
    "AdminUsersStream",
    "BillableInfoStream",
    "BillingStream",
    "IntegrationLogsStream",
    "MemberAnalyticsStream",
    "ScimUsersStream",
    "TeamStream",
    "UsersStream",
]
