-- The plan of each workspace (team.billing.info; the tap already turns Slack's "" into free).
select
  team_id,
  enterprise_id,
  coalesce(nullif(plan, ''), 'free') as plan,
  coalesce(plan_label, plan) as plan_label
from {{ tap_slack_snow.slack_source('billing', [
    ['team_id', 'string'], ['enterprise_id', 'string'], ['plan', 'string'], ['plan_label', 'string'],
  ], key='team_id', latest_sync_partition='team_id') }}
