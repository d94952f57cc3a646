"""The seats of ``team.billableInfo``.

Non-deleted, non-bot members are listed (USLACKBOT excluded); about 80 % have
``billing_active: true`` (single-channel guests and invited users never).
"""

from __future__ import annotations

from .organisation import Organisation


class BillableSeats(Organisation):
    """Which members ``team.billableInfo`` lists, and their ``billing_active`` flag."""

    def is_billable_candidate(self, i: int) -> bool:
        """Whether member ``i`` appears in ``team.billableInfo`` (non-deleted humans)."""
        return self.is_human(i) and self.role(i) != "deleted"

    def billable_info(self, team_id: str | None = None) -> dict[str, dict[str, bool]]:
        """The full ``billable_info`` map for a team (None = the whole org)."""
        return {
            self.user_id(i): {"billing_active": self.user_core(i).billing_active}
            for i in range(self.user_count)
            if self.is_billable_candidate(i) and self.in_team(i, team_id)
        }

    def billable_user_ids(self, team_id: str | None = None) -> list[str]:
        """Every user id ``team.billableInfo`` returns (one record each, whatever its
        ``billing_active``)."""
        return list(self.billable_info(team_id))

    def billing_active_user_ids(self, team_id: str | None = None) -> list[str]:
        """Ids whose ``billing_active`` is true."""
        return [uid for uid, v in self.billable_info(team_id).items() if v["billing_active"]]
