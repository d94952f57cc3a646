-- Who Slack bills (team.billableInfo): one row per workspace and member.
select
  team_id,
  user_id,
  coalesce(billing_active, false) as is_billing_active
from {{ tap_slack_snow.slack_source('billable_info', [
    ['team_id', 'string'], ['user_id', 'string'], ['billing_active', 'boolean'],
  ], key=['team_id', 'user_id'], latest_sync_partition='team_id') }}
