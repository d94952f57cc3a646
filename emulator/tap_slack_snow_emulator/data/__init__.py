"""Deterministic, lazily generated Slack organisation data, by Slack method family.

* :mod:`.organisation`: workspaces, member ids, roles and the facts about each member;
* :mod:`.members`: ``users.list`` / ``users.info``;
* :mod:`.billing`: ``team.billableInfo``;
* :mod:`.admin_users`: ``admin.users.list`` (Enterprise Grid);
* :mod:`.scim`: SCIM v2 ``/Users`` (Business+ and Enterprise);
* :mod:`.access_logs`: ``team.accessLogs``;
* :mod:`.integration_logs`: ``team.integrationLogs``;
* :mod:`.workspace`: :class:`Workspace`, all of them together.

``admin.analytics.getFile`` member rows live in :mod:`tap_slack_snow_emulator.analytics`.
"""

from .workspace import Workspace

__all__ = ["Workspace"]
