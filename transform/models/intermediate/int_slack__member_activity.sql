-- Per member: activity from member analytics (Enterprise Grid), up to the "as of" date.
{%- set idle_days = var('slack_idle_days', 30) | int %}
{%- set as_of = tap_slack_snow.slack_as_of_date() %}
with analytics as (
  select
    member_analytics.*,
    {{ tap_slack_snow.slack_days_between('activity_date', as_of) }} as days_ago,
    row_number() over (partition by user_id order by activity_date desc) as newest_first
  from {{ ref('stg_slack__member_analytics') }} as member_analytics
  where activity_date <= {{ as_of }}
),

-- The member's latest reported day says whether the seat is billable and where it is.
latest as (
  select user_id, is_billable_seat, team_id
  from analytics
  where newest_first = 1
)

select
  analytics.user_id,
  max(latest.team_id) as team_id,
  {{ dbt.bool_or('latest.is_billable_seat') }} as is_billable_seat,
  min(analytics.activity_date) as first_reported_date,
  max(analytics.activity_date) as last_reported_date,
  max(case when analytics.is_active then analytics.activity_date end) as last_active_date,
  {%- for days in tap_slack_snow.slack_activity_windows() %}
  {{ tap_slack_snow.slack_count_if('analytics.is_active and analytics.days_ago < ' ~ days) }}
    as active_days_{{ days }}d,
  {%- endfor %}
  {%- for measure in ['messages_posted', 'reactions_added', 'files_added', 'calls', 'huddles', 'searches'] %}
  coalesce(sum(case when analytics.days_ago < {{ idle_days }} then analytics.{{ measure }} end), 0)
    as {{ measure }}_{{ idle_days }}d{{ "," if not loop.last }}
  {%- endfor %}
from analytics
join latest on latest.user_id = analytics.user_id
group by analytics.user_id
