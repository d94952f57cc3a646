"""tap-slack-snow: a Singer tap for Slack subscriptions, users and user activity."""
