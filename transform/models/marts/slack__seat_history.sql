{{
  config(
    materialized='incremental',
    unique_key='history_id',
    full_refresh=false,
    on_schema_change='append_new_columns',
  )
}}
-- Per workspace (and Enterprise Grid org) and day: billed, active, idle and guest seats and
-- what they cost. Each build adds (or replaces) the row of its "as of" day, measured like
-- slack__seats; on Enterprise Grid every build also fills the days member analytics holds
-- (Slack keeps 13 months), so the first build already shows a year. Incremental with
-- full_refresh disabled: `dbt build --full-refresh` leaves it alone, since the days it holds
-- cannot be measured again (drop the table by hand to start over).
{%- set idle_days = var('slack_idle_days', 30) | int %}
{%- set as_of = tap_slack_snow.slack_as_of_date() %}
{%- set count_if = tap_slack_snow.slack_count_if %}
{%- set windows = [1, 7, 28] %}
{%- set currency = var('slack_currency', 'USD') %}
{%- set billing_period = var('slack_billing_period', 'annual') %}
with seats as (
  select * from {{ ref('slack__seats') }}
),

billing as (
  select * from {{ ref('stg_slack__billing') }}
),

contracts as (
  select * from {{ ref('int_slack__contracts') }}
),

list_prices as (
  select * from {{ ref('int_slack__list_prices') }}
),

org_plan as (
  select case when count(distinct plan) = 1 then min(plan) end as plan
  from billing
),

-- Today's row per scope, from the seats as measured now.
{%- for grain, id_column in [['workspace', 'team_id'], ['org', 'enterprise_id']] %}
sync_{{ grain }} as (
  select
    '{{ grain }}' as grain,
    seats.{{ id_column }} as scope_id,
    {% if grain == 'workspace' %}max(seats.team_id){% else %}cast(null as {{ tap_slack_snow.slack_type('string') }}){% endif %} as team_id,
    max(seats.enterprise_id) as enterprise_id,
    max(seats.plan) as plan,
    max(seats.as_of_date) as history_date,
    max(seats.activity_source) as activity_source,
    'sync' as measured_from,
    {{ count_if('seats.is_paid') }} as seats_billed,
    {%- for days in windows %}
    case when max(seats.activity_source) = 'none' then null
      else {{ count_if('seats.is_paid and seats.days_since_last_activity < ' ~ days) }}
    end as active_seats_{{ days }}d,
    {%- endfor %}
    case when max(seats.activity_source) = 'none' then null
      else {{ count_if('seats.is_idle') }} end as idle_paid_seats,
    {{ count_if('seats.is_paid and seats.is_guest') }} as guest_seats_billed
  from seats
  where seats.{{ id_column }} is not null
  group by seats.{{ id_column }}
),
{%- endfor %}

-- Member analytics, each member-day with the member's last active day up to then.
analytics as (
  select
    member_analytics.*,
    max(case when is_active then activity_date end) over (
      partition by user_id order by activity_date
      rows between unbounded preceding and current row
    ) as last_active_date
  from {{ ref('stg_slack__member_analytics') }} as member_analytics
  where activity_date < {{ as_of }}
    and activity_date >= {{ dbt.dateadd('day', -1 * var('slack_history_backfill_days', 400) | int, as_of) }}
),

{%- for grain, id_column in [['workspace', 'team_id'], ['org', 'enterprise_id']] %}
backfill_{{ grain }} as (
  select
    '{{ grain }}' as grain,
    analytics.{{ id_column }} as scope_id,
    {% if grain == 'workspace' %}max(analytics.team_id){% else %}cast(null as {{ tap_slack_snow.slack_type('string') }}){% endif %} as team_id,
    max(analytics.enterprise_id) as enterprise_id,
    cast(null as {{ tap_slack_snow.slack_type('string') }}) as plan,
    analytics.activity_date as history_date,
    'member_analytics' as activity_source,
    'member_analytics' as measured_from,
    {{ count_if('analytics.is_billable_seat') }} as seats_billed,
    {%- for days in windows %}
    {{ count_if('analytics.is_billable_seat and '
        ~ tap_slack_snow.slack_days_between('analytics.last_active_date', 'analytics.activity_date')
        ~ ' < ' ~ days) }} as active_seats_{{ days }}d,
    {%- endfor %}
    {{ count_if('analytics.is_billable_seat and (analytics.last_active_date is null or '
        ~ tap_slack_snow.slack_days_between('analytics.last_active_date', 'analytics.activity_date')
        ~ ' >= ' ~ idle_days ~ ')') }} as idle_paid_seats,
    {{ count_if('analytics.is_billable_seat and analytics.is_guest') }} as guest_seats_billed
  from analytics
  where analytics.{{ id_column }} is not null
  group by analytics.{{ id_column }}, analytics.activity_date
),
{%- endfor %}

measured as (
  select * from sync_workspace
  union all
  select * from sync_org
  union all
  select * from backfill_workspace
  union all
  select * from backfill_org
),

-- The price in force that day: a contract of the scope (a workspace's, else its org's),
-- else the list price of the plan; null (never a guess) when neither is known.
priced as (
  select
    measured.*,
    coalesce(measured.plan, workspace_billing.plan, org_plan.plan) as scope_plan,
    coalesce(scope_contract.currency, org_contract.currency, '{{ currency }}') as currency,
    coalesce(
      scope_contract.price_per_seat_month,
      org_contract.price_per_seat_month,
      list_prices.price_per_seat_month
    ) as price_per_seat_month
  from measured
  cross join org_plan
  left join billing as workspace_billing
    on measured.grain = 'workspace' and workspace_billing.team_id = measured.scope_id
  left join contracts as scope_contract on scope_contract.scope_id = measured.scope_id
  left join contracts as org_contract
    on measured.grain = 'workspace' and org_contract.scope_id = measured.enterprise_id
  left join list_prices
    on list_prices.plan = coalesce(measured.plan, workspace_billing.plan, org_plan.plan)
    and list_prices.currency
      = coalesce(scope_contract.currency, org_contract.currency, '{{ currency }}')
    and list_prices.billing_period
      = coalesce(scope_contract.billing_period, org_contract.billing_period, '{{ billing_period }}')
    and list_prices.valid_from <= measured.history_date
    and (list_prices.valid_to is null or list_prices.valid_to > measured.history_date)
)

select
  {{ dbt.concat(['grain', "':'", 'scope_id', "':'", dbt.cast('history_date', dbt.type_string())]) }}
    as history_id,
  grain,
  scope_id,
  team_id,
  enterprise_id,
  scope_plan as plan,
  history_date,
  activity_source,
  measured_from,
  seats_billed,
  {%- for days in windows %}
  active_seats_{{ days }}d,
  {%- endfor %}
  idle_paid_seats,
  {{ idle_days }} as idle_days_threshold,
  guest_seats_billed,
  currency,
  price_per_seat_month,
  seats_billed * price_per_seat_month as billed_cost_month,
  idle_paid_seats * price_per_seat_month as idle_paid_cost_month,
  {{ dbt.current_timestamp() }} as measured_at
from priced
{%- if is_incremental() %}
-- A day a build measured keeps its row (a later build of the same day measures it again);
-- the days filled from member analytics are measured again each build (the files do not
-- change; a contract price given later then applies to them too).
where measured_from = 'sync'
  or {{ dbt.concat(['grain', "':'", 'scope_id', "':'", dbt.cast('history_date', dbt.type_string())]) }}
    not in (select history_id from {{ this }} where measured_from = 'sync')
{%- endif %}
