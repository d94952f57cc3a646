"""The whole data of one emulated organisation, one base class per Slack method family."""

from __future__ import annotations

from typing import Any

from .access_logs import AccessLogs
from .admin_users import AdminUserDirectory
from .billing import BillableSeats
from .integration_logs import IntegrationLogs
from .members import MemberDirectory
from .scim import ScimDirectory


class Workspace(
    MemberDirectory, BillableSeats, AdminUserDirectory, ScimDirectory, AccessLogs, IntegrationLogs
):
    """All data of one emulated organisation (one team, or a Grid org with several)."""

    def analytics_rows(self, date: Any) -> list[dict[str, Any]]:
        """The member-analytics rows ``admin.analytics.getFile`` serves for ``date``."""
        from ..analytics import analytics_rows  # noqa: PLC0415 - avoid import cycle

        return analytics_rows(self, date)
