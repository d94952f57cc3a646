"""Records as Slack sends them and as targets get them: the drift policy, Unix times,
typed JSON Lines and batch files."""
