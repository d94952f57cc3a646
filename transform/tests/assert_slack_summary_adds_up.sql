-- The summary agrees with the seats it counts, and its counts nest: idle + active within
-- the idle window = billed (when the idle window is one of the activity windows), and no
-- window counts more than the seats billed.
with seats as (
  select team_id, plan, {{ tap_slack_snow.slack_count_if('is_billable') }} as billed
  from {{ ref('slack__seats') }}
  where team_id is not null
  group by team_id, plan
)

select summary.summary_id
from {{ ref('slack__licence_summary') }} as summary
left join seats on seats.team_id = summary.team_id and seats.plan = summary.plan
where summary.grain = 'workspace'
  and (
    coalesce(seats.billed, 0) != summary.seats_billed
    or summary.idle_paid_seats > summary.seats_billed
    or summary.never_active_paid_seats > coalesce(summary.idle_paid_seats, 0)
    {%- for days in tap_slack_snow.slack_activity_windows() %}
    or summary.billed_active_{{ days }}d > summary.seats_billed
    {%- if days == var('slack_idle_days', 30) | int %}
    or summary.billed_active_{{ days }}d + summary.idle_paid_seats != summary.seats_billed
    {%- endif %}
    {%- endfor %}
  )
