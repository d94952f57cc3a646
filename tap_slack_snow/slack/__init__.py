"""Slack's Web API: the HTTP session, reading answers by the error table, the retry policy,
and the client every call goes through."""
