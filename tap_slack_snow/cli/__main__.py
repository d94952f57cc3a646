"""``python -m tap_slack_snow.cli``: the same as ``tap-slack-snow-auth``."""

from tap_slack_snow.cli import main

main()
