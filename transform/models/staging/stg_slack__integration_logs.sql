-- App and integration changes (team.integrationLogs).
select
  id as integration_log_id,
  team_id,
  {{ adapter.quote('date') }} as changed_at,
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
    ['id', 'string'], ['team_id', 'string'], ['date', 'timestamp'], ['change_type', 'string'],
    ['app_id', 'string'], ['app_type', 'string'], ['service_id', 'string'],
    ['service_type', 'string'], ['user_id', 'string'], ['user_name', 'string'],
    ['channel', 'string'], ['scope', 'string'], ['reason', 'string'],
  ], key='id') }}
