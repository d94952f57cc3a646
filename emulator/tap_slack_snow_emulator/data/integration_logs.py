"""``team.integrationLogs`` entries: app and service changes, materialised (they are few),
newest first."""

from __future__ import annotations

import threading
from typing import Any

from .._det import Det, hex_id
from ..config import Clock, WorkspaceConfig
from .organisation import DAY, Organisation
from .vocabulary import APP_NAMES, SERVICE_NAMES


class IntegrationLogs(Organisation):
    """The organisation's integration log, which tests can extend with newer changes."""

    def __init__(self, config: WorkspaceConfig, clock: Clock) -> None:
        super().__init__(config, clock)
        # guards the list against a test adding changes while a request reads it
        self._integration_lock = threading.RLock()
        self._integration_logs: list[dict[str, Any]] = []
        self._integration_added = 0
        self._build_integration_logs()

    def _integration_entry(self, k: int, date: int) -> tuple[str, dict[str, Any]]:
        d = Det(self.seed, "integration", k)
        admins = [i for i in (1, 2, 8) if i < self.user_count] or [0]
        actor = (
            d.pick(admins)
            if d.chance(0.7) or self.user_count < 10
            else d.between(1, self.user_count - 1)
        )
        core = self.user_core(actor)
        change = d.pick(("added", "removed", "enabled", "disabled", "updated"))
        entry: dict[str, Any]
        if d.chance(0.55):
            app = d.pick(APP_NAMES)
            entry = {
                "app_id": "A0" + hex_id(8, self.seed, "app", app),
                "app_type": app,
            }
            scope = d.pick(
                (
                    "chat:write,channels:read",
                    "users:read",
                    "commands,incoming-webhook",
                    "files:read",
                )
            )
        else:
            service = d.pick(SERVICE_NAMES)
            number = 1000000000 + int(hex_id(6, self.seed, "svc", service), 16)
            # Slack sends some services' id as a number, others' as a string
            as_number = self.config.recorded_variants and number % 2 == 0
            entry = {
                "service_id": number if as_number else str(number),
                "service_type": service,
            }
            scope = "incoming-webhook"
            if d.chance(0.6):
                entry["channel"] = "C0" + hex_id(8, self.seed, "chan", d.below(20))
        entry.update(
            {
                "user_id": core.id,
                "user_name": core.username,
                "date": str(date),
                "change_type": change,
                "scope": scope,
            }
        )
        if change == "disabled":
            entry["reason"] = d.pick(("user", "deauth", "service_removed"))
        team = core.team_ids[0]
        return team, entry

    def _build_integration_logs(self) -> None:
        n = self.config.integration_logs
        newest = self.base_now - 3600
        step = max(60, (400 * DAY) // max(n, 1))
        logs = []
        for k in range(n):
            date = newest - k * step - Det(self.seed, "ildate", k).below(step)
            team, entry = self._integration_entry(k, date)
            entry["_team"] = team
            logs.append(entry)
        self._integration_logs = logs

    def integration_log_entries(
        self,
        *,
        team_id: str | None = None,
        app_id: str | None = None,
        change_type: str | None = None,
        service_id: str | None = None,
        user: str | None = None,
    ) -> list[dict[str, Any]]:
        """``team.integrationLogs`` entries, newest first, after the API's filters."""
        with self._integration_lock:
            logs = self._integration_logs
        out = []
        for e in logs:
            if team_id is not None and len(self.teams) > 1 and e["_team"] != team_id:
                continue
            if app_id is not None and e.get("app_id") != app_id:
                continue
            if change_type is not None and e.get("change_type") != change_type:
                continue
            if service_id is not None and str(e.get("service_id")) != service_id:
                continue
            if user is not None and e.get("user_id") != user:
                continue
            out.append({k: v for k, v in e.items() if k != "_team"})
        return out

    def add_integration_logs(self, n: int) -> list[dict[str, Any]]:
        """Append ``n`` changes newer than every existing one (dated at the emulator clock)."""
        with self._integration_lock:
            logs = self._integration_logs
            newest = int(logs[0]["date"]) if logs else 0
            date = max(int(self.clock.now()), newest + 1)
            new = []
            for j in range(n):
                k = self.config.integration_logs + self._integration_added
                self._integration_added += 1
                team, entry = self._integration_entry(k, date + j)
                entry["_team"] = team
                new.append(entry)
            new.reverse()
            self._integration_logs = new + logs
        return [{k: v for k, v in e.items() if k != "_team"} for e in new]
