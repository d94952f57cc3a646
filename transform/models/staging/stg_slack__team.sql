-- The workspace (team.info).
select
  id as team_id,
  name as team_name,
  domain as team_domain,
  email_domain,
  enterprise_id,
  enterprise_name
from {{ tap_slack_snow.slack_source('team', [
    ['id', 'string'], ['name', 'string'], ['domain', 'string'], ['email_domain', 'string'],
    ['enterprise_id', 'string'], ['enterprise_name', 'string'],
  ], key='id', latest_sync_partition='id') }}
