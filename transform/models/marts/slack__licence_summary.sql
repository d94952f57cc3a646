-- Per workspace and plan (and, on Enterprise Grid, per org and plan): how many seats Slack
-- bills, how many of them were used in each activity window, what can be reclaimed, and what
-- it costs.
{%- set idle_days = var('slack_idle_days', 30) | int %}
{%- set warning_days = var('slack_guest_expiry_warning_days', 30) | int %}
{%- set windows = tap_slack_snow.slack_activity_windows() %}
{%- set count_if = tap_slack_snow.slack_count_if %}
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

contracts as (
  select * from {{ ref('int_slack__contracts') }}
),

{% for grain, id_column, condition in scopes %}
{{ grain }}_rows as (
  select
    '{{ grain }}' as grain,
    seats.{{ id_column }} as scope_id,
    {% if grain == 'workspace' %}max(seats.team_id){% else %}cast(null as {{ tap_slack_snow.slack_type('string') }}){% endif %} as team_id,
    max(seats.enterprise_id) as enterprise_id,
    seats.plan,
    max(seats.plan_label) as plan_label,
    max(seats.activity_source) as activity_source,
    max(seats.as_of_date) as as_of_date,
    count(*) as accounts,
    {{ count_if("seats.account_kind = 'full_member'") }} as full_members,
    {{ count_if("seats.account_kind = 'multi_channel_guest'") }} as multi_channel_guests,
    {{ count_if("seats.account_kind = 'single_channel_guest'") }} as single_channel_guests,
    {{ count_if("seats.account_kind = 'bot'") }} as bots,
    {{ count_if("seats.account_kind = 'invited'") }} as invited,
    {{ count_if("seats.account_kind = 'deactivated'") }} as deactivated,
    {{ count_if('seats.is_billable') }} as seats_billed,
    {{ count_if('seats.is_billable and seats.is_guest') }} as guest_seats_billed,
    {%- for days in windows %}
    case when max(seats.activity_source) = 'none' then null else {{ count_if(
      'seats.is_billable and seats.days_since_last_activity < ' ~ days) }}
    end as billed_active_{{ days }}d,
    {%- endfor %}
    case when max(seats.activity_source) = 'none' then null
      else {{ count_if('seats.is_idle') }} end as idle_paid_seats,
    case when max(seats.activity_source) = 'none' then null
      else {{ count_if('seats.is_billable and seats.last_activity_date is null') }}
    end as never_active_paid_seats,
    {{ count_if('seats.is_guest') }} as guests,
    {{ count_if('seats.is_guest_expiring_soon') }} as guests_expiring_soon,
    {{ count_if("seats.account_kind = 'deactivated' and seats.is_billable") }}
      as deactivated_billable,
    -- Money: a sum is only given when every seat it adds has a known price.
    max(seats.billing_model) as billing_model,
    max(seats.currency) as currency,
    max(seats.billing_period) as billing_period,
    case when min(seats.price_per_seat_month) = max(seats.price_per_seat_month)
      and {{ count_if('seats.price_per_seat_month is null') }} = 0
      then max(seats.price_per_seat_month) end as price_per_seat_month,
    case when {{ count_if('seats.price_per_seat_month is null') }} = 0
      then max(seats.price_source) end as price_source,
    max(seats.list_price_as_of) as list_price_as_of,
    case when {{ count_if('seats.is_billable and seats.price_per_seat_month is null') }} = 0
      then sum(case when seats.is_billable then seats.price_per_seat_month else 0 end)
    end as billed_cost_month,
    case when max(seats.activity_source) = 'none'
      or {{ count_if('seats.is_idle and seats.price_per_seat_month is null') }} > 0 then null
      else sum(case when seats.is_idle then seats.price_per_seat_month else 0 end)
    end as idle_paid_cost_month
  from seats
  where {{ condition }}
  group by seats.{{ id_column }}, seats.plan
),
{% endfor %}

unioned as (
  select * from workspace_rows
  union all
  select * from org_rows
),

-- A contract counts where it was given: a workspace's for the workspace row, an org's for
-- the org row.
with_contract as (
  select
    unioned.*,
    contracts.purchased_seats,
    contracts.renewal_date,
    case
      when contracts.purchased_seats is null then null
      when contracts.purchased_seats > unioned.seats_billed
        then contracts.purchased_seats - unioned.seats_billed
      else 0
    end as unassigned_seats
  from unioned
  left join contracts on contracts.scope_id = unioned.scope_id
)

select
  {{ dbt.concat(['with_contract.grain', "':'", 'with_contract.scope_id', "':'", 'with_contract.plan']) }}
    as summary_id,
  with_contract.grain,
  with_contract.scope_id,
  with_contract.team_id,
  teams.team_name,
  with_contract.enterprise_id,
  with_contract.plan,
  with_contract.plan_label,
  with_contract.as_of_date,
  with_contract.activity_source,
  with_contract.accounts,
  with_contract.full_members,
  with_contract.multi_channel_guests,
  with_contract.single_channel_guests,
  with_contract.bots,
  with_contract.invited,
  with_contract.deactivated,
  with_contract.seats_billed,
  with_contract.guest_seats_billed,
  {%- for days in windows %}
  with_contract.billed_active_{{ days }}d,
  {%- endfor %}
  with_contract.idle_paid_seats,
  with_contract.never_active_paid_seats,
  {{ idle_days }} as idle_days_threshold,
  with_contract.guests,
  with_contract.guests_expiring_soon,
  {{ warning_days }} as guest_expiry_warning_days,
  with_contract.deactivated_billable,
  with_contract.billing_model,
  with_contract.currency,
  with_contract.billing_period,
  with_contract.price_per_seat_month,
  with_contract.price_source,
  with_contract.list_price_as_of,
  with_contract.purchased_seats,
  with_contract.renewal_date,
  with_contract.unassigned_seats,
  case when with_contract.unassigned_seats is not null
    then with_contract.unassigned_seats * with_contract.price_per_seat_month
  end as unassigned_cost_month,
  -- What the scope pays a month: on a contract that gives purchased seats, the larger of the
  -- purchased and the billed seats (Slack invoices seats beyond the contract); else the
  -- seats Slack bills.
  case
    when with_contract.purchased_seats is not null
      then (with_contract.seats_billed + with_contract.unassigned_seats)
        * with_contract.price_per_seat_month
    else with_contract.billed_cost_month
  end as monthly_cost,
  with_contract.billed_cost_month,
  with_contract.idle_paid_cost_month,
  -- A year of the idle paid seats' cost and of the purchased seats nobody holds: what
  -- reclaiming them (and, on a contract, buying fewer at renewal) saves.
  12 * (
    with_contract.idle_paid_cost_month
    + coalesce(with_contract.unassigned_seats * with_contract.price_per_seat_month, 0)
  ) as yearly_saving_if_reclaimed
from with_contract
left join teams on teams.team_id = with_contract.team_id
