-- Logins (team.accessLogs): one row per user, IP and user agent. Incremental: no
-- latest-sync filter (each sync sends only what changed).
select
  user_id,
  ip,
  user_agent,
  username,
  team_id,
  date_first as first_seen_at,
  date_last as last_seen_at,
  coalesce("count", 0) as login_count,
  isp,
  country,
  region
from {{ tap_slack_snow.slack_source('access_logs', [
    ['user_id', 'text'], ['ip', 'text'], ['user_agent', 'text'], ['username', 'text'],
    ['team_id', 'text'], ['date_first', 'timestamp'], ['date_last', 'timestamp'],
    ['count', 'bigint'], ['isp', 'text'], ['country', 'text'], ['region', 'text'],
  ], key=['user_id', 'ip', 'user_agent']) }}
