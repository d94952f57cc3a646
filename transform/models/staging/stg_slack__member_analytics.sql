-- Daily member activity (admin.analytics.getFile type=member, Enterprise Grid).
select
  {{ adapter.quote('date') }} as activity_date,
  user_id,
  enterprise_id,
  team_id,
  coalesce(is_active, false) as is_active,
  coalesce(is_billable_seat, false) as is_billable_seat,
  coalesce(is_guest, false) as is_guest,
  coalesce(messages_posted_count, 0) as messages_posted,
  coalesce(reactions_added_count, 0) as reactions_added,
  coalesce(files_added_count, 0) as files_added,
  coalesce(total_calls_count, 0) as calls,
  coalesce(slack_huddles_count, 0) as huddles,
  coalesce(search_count, 0) as searches
from {{ tap_slack_snow.slack_source('member_analytics', [
    ['date', 'date'], ['user_id', 'string'], ['enterprise_id', 'string'], ['team_id', 'string'],
    ['is_active', 'boolean'], ['is_billable_seat', 'boolean'], ['is_guest', 'boolean'],
    ['messages_posted_count', 'bigint'], ['reactions_added_count', 'bigint'],
    ['files_added_count', 'bigint'], ['total_calls_count', 'bigint'],
    ['slack_huddles_count', 'bigint'], ['search_count', 'bigint'],
  ], key=['date', 'user_id']) }}
