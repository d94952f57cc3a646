"""Run the tap with ``python -m tap_slack_snow``."""

from tap_slack_snow.tap import TapSlackSnow

TapSlackSnow.cli()
