"""``tap-slack-snow-auth manifest`` (``tap_slack_snow.cli.manifest``): the Slack app manifest
holds exactly the Snow Atlas scopes of an edition, with the options asked for.
"""

from __future__ import annotations

import json

import pytest
import yaml

from tests.cli.cli_support import ENTERPRISE, REDIRECT, STANDARD, cli


@pytest.mark.parametrize("edition", ["enterprise", "standard"])
@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_manifest_holds_exactly_the_snow_atlas_scopes(edition: str, fmt: str) -> None:
    result = cli("manifest", "--edition", edition, "--format", fmt)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout) if fmt == "json" else yaml.safe_load(result.stdout)
    scopes = data["oauth_config"]["scopes"]
    assert scopes["user"] == (ENTERPRISE if edition == "enterprise" else STANDARD)
    assert scopes["bot"] == ["bookmarks:read"]
    assert data["oauth_config"]["redirect_urls"] == [REDIRECT]
    assert data["settings"]["token_rotation_enabled"] is True
    assert data["settings"].get("org_deploy_enabled", False) is (edition == "enterprise")
    assert data["display_information"]["name"] == "tap-slack-snow"
    # Slack requires a bot user when bot scopes are requested.
    assert data["features"]["bot_user"]["display_name"]


def test_manifest_options_extra_scopes_redirects_and_name() -> None:
    result = cli(
        "manifest",
        "--edition",
        "standard",
        "--extra-scopes",
        "--redirect-url",
        "https://etl.example.com/slack/callback",
        "--redirect-url",
        REDIRECT,
        "--app-name",
        "Acme SaaS inventory",
    )
    data = yaml.safe_load(result.stdout)
    assert data["oauth_config"]["scopes"]["user"] == [*STANDARD, "team:read", "users:read.email"]
    assert data["oauth_config"]["redirect_urls"] == [
        "https://etl.example.com/slack/callback",
        REDIRECT,
    ]
    assert data["display_information"]["name"] == "Acme SaaS inventory"
    # Enterprise already has both extras: no duplicates.
    enterprise = json.loads(
        cli("manifest", "--edition", "enterprise", "--format", "json", "--extra-scopes").stdout
    )
    assert enterprise["oauth_config"]["scopes"]["user"] == ENTERPRISE
    assert "team:read" in cli("manifest", "--help").stdout


def test_manifest_refuses_an_unknown_edition() -> None:
    result = cli("manifest", "--edition", "grid")
    assert result.exit_code == 2
    assert "'grid' is not one of 'enterprise', 'standard'" in result.stderr
