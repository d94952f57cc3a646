-- Per member: activity from member analytics (Enterprise Grid), up to the "as of" date.
{%- set idle_days = var('slack_idle_days', 30) | int %}
with analytics as (
  select *, {{ tap_slack_snow.slack_as_of_date() }} - activity_date as days_ago
  from {{ ref('stg_slack__member_analytics') }}
  where activity_date <= {{ tap_slack_snow.slack_as_of_date() }}
),

latest as (
  select distinct on (user_id) user_id, is_billable_seat, team_id
  from analytics
  order by user_id, activity_date desc
)

select
  analytics.user_id,
  max(latest.team_id) as team_id,
  bool_or(latest.is_billable_seat) as is_billable_seat,
  min(analytics.activity_date) as first_reported_date,
  max(analytics.activity_date) as last_reported_date,
  max(analytics.activity_date) filter (where analytics.is_active) as last_active_date,
  {%- for days in tap_slack_snow.slack_activity_windows() %}
  count(*) filter (where analytics.is_active and analytics.days_ago < {{ days }})
    as active_days_{{ days }}d,
  {%- endfor %}
  {%- for measure in ['messages_posted', 'reactions_added', 'files_added', 'calls', 'huddles', 'searches'] %}
  coalesce(sum(analytics.{{ measure }}) filter (where analytics.days_ago < {{ idle_days }}), 0)
    as {{ measure }}_{{ idle_days }}d{{ "," if not loop.last }}
  {%- endfor %}
from analytics
join latest on latest.user_id = analytics.user_id
group by analytics.user_id
