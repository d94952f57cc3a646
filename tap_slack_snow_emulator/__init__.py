"""A Slack Web API emulator for tap-slack-snow's tests, benchmarks and demo."""
