-- App and integration changes (team.integrationLogs).
select
  id as integration_log_id,
  team_id,
  "date" as changed_at,
  change_type,
  coalesce(app_id, service_id) as integration_id,
  coalesce(app_type, service_type) as integration_name,
  case when app_id is not null then 'app' else 'service' end as integration_kind,
  user_id,
  user_name,
  channel as channel_id,
  scope,
  reason
from {{ tap_slack_snow.slack_source('integration_logs', [
    ['id', 'text'], ['team_id', 'text'], ['date', 'timestamp'], ['change_type', 'text'],
    ['app_id', 'text'], ['app_type', 'text'], ['service_id', 'text'],
    ['service_type', 'text'], ['user_id', 'text'], ['user_name', 'text'],
    ['channel', 'text'], ['scope', 'text'], ['reason', 'text'],
  ], key='id') }}
