-- The licence summary cut by department (from SCIM; "(none)" where a member has no
-- department or the org has no SCIM): per workspace and department, and on Enterprise Grid
-- per org and department.
{%- set count_if = tap_slack_snow.slack_count_if %}
{%- set scopes = [
      ['workspace', 'team_id', 'seats.team_id is not null'],
      ['org', 'enterprise_id', 'seats.enterprise_id is not null'],
    ] %}
with seats as (
  select
    seats.*,
    coalesce(seats.department, '(none)') as department_name
  from {{ ref('slack__seats') }} as seats
),

{% for grain, id_column, condition in scopes %}
{{ grain }}_rows as (
  select
    '{{ grain }}' as grain,
    seats.{{ id_column }} as scope_id,
    seats.department_name as department,
    max(seats.enterprise_id) as enterprise_id,
    max(seats.activity_source) as activity_source,
    max(seats.as_of_date) as as_of_date,
    count(*) as accounts,
    {{ count_if('seats.is_paid') }} as seats_billed,
    case when max(seats.activity_source) = 'none' then null
      else {{ count_if("seats.is_paid and seats.activity_status = 'active'") }} end as active_paid_seats,
    case when max(seats.activity_source) = 'none' then null
      else {{ count_if('seats.is_idle') }} end as idle_paid_seats,
    {{ count_if('seats.is_paid and seats.is_guest') }} as guest_seats_billed,
    max(seats.currency) as currency,
    case when {{ count_if('seats.is_paid and seats.price_per_seat_month is null') }} = 0
      then sum(seats.monthly_cost) end as billed_cost_month,
    case when max(seats.activity_source) = 'none'
      or {{ count_if('seats.is_idle and seats.price_per_seat_month is null') }} > 0 then null
      else sum(case when seats.is_idle then seats.monthly_cost else 0 end)
    end as idle_paid_cost_month
  from seats
  where {{ condition }}
  group by seats.{{ id_column }}, seats.department_name
){{ "," if not loop.last }}
{% endfor %}

{% for rows in ['workspace_rows', 'org_rows'] %}
select
  {{ dbt.concat(['grain', "':'", 'scope_id', "':'", 'department']) }} as department_summary_id,
  grain,
  scope_id,
  enterprise_id,
  department,
  as_of_date,
  activity_source,
  accounts,
  seats_billed,
  active_paid_seats,
  idle_paid_seats,
  guest_seats_billed,
  currency,
  billed_cost_month,
  idle_paid_cost_month
from {{ rows }}
{{ "union all" if not loop.last }}
{% endfor %}
