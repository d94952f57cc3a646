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
  coalesce({{ adapter.quote('count') }}, 0) as login_count,
  isp,
  country,
  region
from {{ tap_slack_snow.slack_source('access_logs', [
    ['user_id', 'string'], ['ip', 'string'], ['user_agent', 'string'], ['username', 'string'],
    ['team_id', 'string'], ['date_first', 'timestamp'], ['date_last', 'timestamp'],
    ['count', 'bigint'], ['isp', 'string'], ['country', 'string'], ['region', 'string'],
  ], key=['user_id', 'ip', 'user_agent']) }}
