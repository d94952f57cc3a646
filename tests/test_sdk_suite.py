"""The SDK's standard tap tests, run against the Slack emulator over real HTTP."""

from __future__ import annotations

import atexit
import tempfile
from datetime import datetime, timedelta, timezone

from singer_sdk.testing import SuiteConfig, get_tap_test_class

from tap_slack_snow.tap import TapSlackSnow
from tap_slack_snow_emulator import ENTERPRISE_USER_SCOPES, SlackEmulator, WorkspaceConfig

# An Enterprise Grid org with every scope, so every stream has records to check.
_EMULATOR = SlackEmulator(
    WorkspaceConfig(
        seed=21,
        users=60,
        plan="enterprise",
        enterprise=True,
        workspaces=2,
        access_logs=300,
        integration_logs=40,
        analytics_rows_per_day=30,
    )
)
_EMULATOR.start()
atexit.register(_EMULATOR.stop)
_STORE = tempfile.mkdtemp(prefix="tap-slack-snow-core-")

SAMPLE_CONFIG = {
    "client_id": _EMULATOR.client_id,
    "client_secret": _EMULATOR.client_secret,
    "refresh_token": _EMULATOR.issue_refresh_token(scopes=ENTERPRISE_USER_SCOPES, org_level=True),
    "api_url": _EMULATOR.url,
    "scim_url": _EMULATOR.scim_url,
    "token_store_path": f"{_STORE}/tokens.json",
    "team_id": _EMULATOR.workspace.team_ids[0],
    "start_date": (datetime.now(tz=timezone.utc) - timedelta(days=5)).strftime(
        "%Y-%m-%dT00:00:00Z"
    ),
}
SAMPLE_CONFIG = {k: v for k, v in SAMPLE_CONFIG.items() if v is not None}

TestTapSlackSnow = get_tap_test_class(
    tap_class=TapSlackSnow,
    config=SAMPLE_CONFIG,
    suite_config=SuiteConfig(max_records_limit=500),
)
