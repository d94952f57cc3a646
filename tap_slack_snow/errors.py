"""The tap's two base exceptions, below every package so that each layer can raise them.

Slack's error table and the exceptions its rows raise are in :mod:`tap_slack_snow.slack.errors`.
"""

from __future__ import annotations


class TapSlackError(Exception):
    """An error the user can act on: the run stops with this one-line message."""


class MalformedPayloadError(TapSlackError):
    """Slack answered ``ok: true`` with a shape the tap cannot read."""
