-- The workspace (team.info).
select
  id as team_id,
  name as team_name,
  domain as team_domain,
  email_domain,
  enterprise_id,
  enterprise_name
from {{ tap_slack_snow.slack_source('team', [
    ['id', 'text'], ['name', 'text'], ['domain', 'text'], ['email_domain', 'text'],
    ['enterprise_id', 'text'], ['enterprise_name', 'text'],
  ], key='id', latest_sync_partition='id') }}
