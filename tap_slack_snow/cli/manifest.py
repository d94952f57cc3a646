"""``tap-slack-snow-auth manifest``: a Slack app manifest with the tap's scopes."""

from __future__ import annotations

import json
import typing as t

import click
import yaml  # a dependency of singer-sdk, so no new dependency

from tap_slack_snow.cli.common import DEFAULT_REDIRECT_URL, edition_option, extra_scopes_option

#: User scopes the Snow Atlas "Prepare Slack connector" page lists, in its order.
ENTERPRISE_USER_SCOPES: tuple[str, ...] = (
    "admin",
    "users:read",
    "team:read",
    "users:read.email",
    "admin.users:read",
    "admin.analytics:read",
    "team.billing:read",
)
STANDARD_USER_SCOPES: tuple[str, ...] = ("admin", "users:read", "team.billing:read")
#: Opt-in for non-Enterprise editions: the team stream needs team:read, and users:read.email
#: adds profile.email to the users stream. Snow Atlas does not ask for them.
EXTRA_STANDARD_USER_SCOPES: tuple[str, ...] = ("team:read", "users:read.email")
BOT_SCOPES: tuple[str, ...] = ("bookmarks:read",)

DEFAULT_APP_NAME = "tap-slack-snow"


def user_scopes(edition: str, *, extra_scopes: bool = False) -> list[str]:
    """The user scopes to request for an edition (the Snow Atlas list, plus opt-in extras)."""
    if edition == "enterprise":
        return list(ENTERPRISE_USER_SCOPES)
    scopes = list(STANDARD_USER_SCOPES)
    if extra_scopes:
        scopes += [s for s in EXTRA_STANDARD_USER_SCOPES if s not in scopes]
    return scopes


def build_manifest(
    edition: str,
    *,
    redirect_urls: t.Sequence[str],
    app_name: str = DEFAULT_APP_NAME,
    extra_scopes: bool = False,
) -> dict[str, t.Any]:
    """A Slack app manifest for the tap (paste it under "Create New App → From a manifest")."""
    settings: dict[str, t.Any] = {
        # Rotation makes the refresh token the only long-lived secret; the tap rotates it.
        "token_rotation_enabled": True,
    }
    if edition == "enterprise":
        # Org-wide install is what gives the org-level token admin.users.list and
        # admin.analytics.getFile need.
        settings["org_deploy_enabled"] = True
    return {
        "display_information": {
            "name": app_name,
            "description": "Reads Slack users, billing plan and user activity for "
            "tap-slack-snow (Singer)",
        },
        # Slack refuses a manifest with bot scopes but no bot user.
        "features": {"bot_user": {"display_name": app_name, "always_online": False}},
        "oauth_config": {
            "redirect_urls": list(redirect_urls),
            "scopes": {
                "user": user_scopes(edition, extra_scopes=extra_scopes),
                "bot": list(BOT_SCOPES),
            },
        },
        "settings": settings,
    }


def render_manifest(manifest: dict[str, t.Any], output_format: str) -> str:
    """JSON or YAML text of the manifest, keys in the order Slack shows them."""
    if output_format == "json":
        return json.dumps(manifest, indent=2) + "\n"
    return str(
        # width: keep long descriptions on one line instead of YAML's folding.
        yaml.safe_dump(manifest, sort_keys=False, default_flow_style=False, width=10_000)
    )


@click.command()
@edition_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["yaml", "json"]),
    default="yaml",
    show_default=True,
    help="Slack's 'From a manifest' dialog accepts both.",
)
@click.option(
    "--redirect-url",
    "redirect_urls",
    multiple=True,
    help=f"Redirect URL(s) of the app (repeatable). Default: {DEFAULT_REDIRECT_URL}; the "
    "browser cannot open it, but its address bar shows the code to paste into exchange.",
)
@click.option("--app-name", default=DEFAULT_APP_NAME, show_default=True, help="App name.")
@extra_scopes_option
def manifest(
    *,
    edition: str,
    output_format: str,
    redirect_urls: tuple[str, ...],
    app_name: str,
    extra_scopes: bool,
) -> None:
    """Print a Slack app manifest with the scopes the tap needs and token rotation on."""
    data = build_manifest(
        edition,
        redirect_urls=redirect_urls or (DEFAULT_REDIRECT_URL,),
        app_name=app_name,
        extra_scopes=extra_scopes,
    )
    click.echo(render_manifest(data, output_format), nl=False)
