"""A Slack Web API emulator for testing ``tap-slack-snow`` over real HTTP.

It serves the methods a "subscriptions, users and user activity" tap needs (``auth.test``,
``oauth.v2.access``, ``users.list``, ``users.info``, ``users.getPresence``, ``team.info``,
``team.billing.info``, ``team.billableInfo``, ``team.accessLogs``, ``team.integrationLogs``,
``admin.users.list``, ``admin.analytics.getFile``, ``bookmarks.list``) with the response
shapes, errors, scopes and rate tiers Slack documents for them, deterministic data from a
seed, token rotation and fault injection::

    from tap_slack_snow_emulator import SlackEmulator, WorkspaceConfig, Fault

    with SlackEmulator(WorkspaceConfig(seed=1, users=250, plan="plus")) as emu:
        refresh = emu.issue_refresh_token()
        emu.add_fault(Fault("users.list", "http_500", on_call=2))
        ...  # point the tap at emu.url with emu.client_id / emu.client_secret / refresh

Modules: :mod:`.config` (configuration, scope lists, clock), :mod:`.data` (the organisation:
members, billing, admin users, access and integration logs, one module per method family),
:mod:`.analytics` (member analytics files), :mod:`.oauth` (tokens and rotation),
:mod:`.faults` (faults and rate limits), :mod:`.api` (the methods, one module per family, and
the request pipeline), :mod:`.http_front` (HTTP), :mod:`.server` (the :class:`SlackEmulator`
facade and its control API), ``__main__`` (command line).
"""

from .config import (
    BOT_SCOPES,
    ENTERPRISE_USER_SCOPES,
    PLANS,
    STANDARD_USER_SCOPES,
    WorkspaceConfig,
)
from .faults import FAULT_KINDS, Fault
from .http_front import RequestLog
from .server import SlackEmulator

__all__ = [
    "BOT_SCOPES",
    "ENTERPRISE_USER_SCOPES",
    "FAULT_KINDS",
    "PLANS",
    "STANDARD_USER_SCOPES",
    "Fault",
    "RequestLog",
    "SlackEmulator",
    "WorkspaceConfig",
]
