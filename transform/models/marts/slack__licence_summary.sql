-- Per workspace and plan (and, on Enterprise Grid, per org and plan): how many seats Slack
-- bills, how many of them were used in each activity window, and what can be reclaimed.
{%- set idle_days = var('slack_idle_days', 30) | int %}
{%- set warning_days = var('slack_guest_expiry_warning_days', 30) | int %}
{%- set windows = tap_slack_snow.slack_activity_windows() %}
{%- set scopes = [
      ['workspace', 'team_id', 'seats.team_id is not null'],
      ['org', 'enterprise_id', 'seats.enterprise_id is not null'],
    ] %}
with seats as (
  select * from {{ ref('slack__seats') }}
),

teams as (
  select * from {{ ref('stg_slack__team') }}
),

{% for grain, id_column, condition in scopes %}
{{ grain }}_rows as (
  select
    '{{ grain }}' as grain,
    seats.{{ id_column }} as scope_id,
    {% if grain == 'workspace' %}max(seats.team_id){% else %}cast(null as text){% endif %} as team_id,
    max(seats.enterprise_id) as enterprise_id,
    seats.plan,
    max(seats.plan_label) as plan_label,
    max(seats.activity_source) as activity_source,
    max(seats.as_of_date) as as_of_date,
    count(*) as accounts,
    count(*) filter (where seats.account_kind = 'full_member') as full_members,
    count(*) filter (where seats.account_kind = 'multi_channel_guest') as multi_channel_guests,
    count(*) filter (where seats.account_kind = 'single_channel_guest') as single_channel_guests,
    count(*) filter (where seats.account_kind = 'bot') as bots,
    count(*) filter (where seats.account_kind = 'invited') as invited,
    count(*) filter (where seats.account_kind = 'deactivated') as deactivated,
    count(*) filter (where seats.is_billable) as seats_billed,
    count(*) filter (where seats.is_billable and seats.is_guest) as guest_seats_billed,
    {%- for days in windows %}
    case when max(seats.activity_source) = 'none' then null else count(*) filter (
      where seats.is_billable and seats.days_since_last_activity < {{ days }}
    ) end as billed_active_{{ days }}d,
    {%- endfor %}
    case when max(seats.activity_source) = 'none' then null
      else count(*) filter (where seats.is_idle) end as idle_paid_seats,
    case when max(seats.activity_source) = 'none' then null
      else count(*) filter (where seats.is_billable and seats.last_activity_date is null)
    end as never_active_paid_seats,
    {{ idle_days }} as idle_days_threshold,
    count(*) filter (where seats.is_guest) as guests,
    count(*) filter (where seats.is_guest_expiring_soon) as guests_expiring_soon,
    {{ warning_days }} as guest_expiry_warning_days,
    count(*) filter (where seats.account_kind = 'deactivated' and seats.is_billable)
      as deactivated_billable
  from seats
  where {{ condition }}
  group by seats.{{ id_column }}, seats.plan
),
{% endfor %}

unioned as (
  select * from workspace_rows
  union all
  select * from org_rows
)

select
  unioned.grain || ':' || unioned.scope_id || ':' || unioned.plan as summary_id,
  unioned.grain,
  unioned.scope_id,
  unioned.team_id,
  teams.team_name,
  unioned.enterprise_id,
  unioned.plan,
  unioned.plan_label,
  unioned.as_of_date,
  unioned.activity_source,
  unioned.accounts,
  unioned.full_members,
  unioned.multi_channel_guests,
  unioned.single_channel_guests,
  unioned.bots,
  unioned.invited,
  unioned.deactivated,
  unioned.seats_billed,
  unioned.guest_seats_billed,
  {%- for days in windows %}
  unioned.billed_active_{{ days }}d,
  {%- endfor %}
  unioned.idle_paid_seats,
  unioned.never_active_paid_seats,
  unioned.idle_days_threshold,
  unioned.guests,
  unioned.guests_expiring_soon,
  unioned.guest_expiry_warning_days,
  unioned.deactivated_billable
from unioned
left join teams on teams.team_id = unioned.team_id
