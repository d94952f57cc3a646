-- One row per member of the organisation: what kind of account it is, whether Slack bills
-- it, on which plan, and when it was last used.
{%- set idle_days = var('slack_idle_days', 30) | int %}
{%- set warning_days = var('slack_guest_expiry_warning_days', 30) | int %}
{%- set windows = tap_slack_snow.slack_activity_windows() %}
{%- set as_of = tap_slack_snow.slack_as_of_date() %}
with users as (
  select * from {{ ref('stg_slack__users') }}
),

admin_users as (
  select * from {{ ref('stg_slack__admin_users') }}
),

billable as (
  select
    user_id,
    min(team_id) as team_id,
    {{ dbt.bool_or('is_billing_active') }} as is_billing_active
  from {{ ref('stg_slack__billable_info') }}
  group by user_id
),

logins as (
  select * from {{ ref('int_slack__member_logins') }}
),

activity as (
  select * from {{ ref('int_slack__member_activity') }}
),

billing as (
  select * from {{ ref('stg_slack__billing') }}
),

teams as (
  select * from {{ ref('stg_slack__team') }}
),

scim as (
  select * from {{ ref('stg_slack__scim_users') }}
),

contracts as (
  select * from {{ ref('int_slack__contracts') }}
),

list_prices as (
  select * from {{ ref('int_slack__list_prices') }}
),

-- The org's enterprise id, and its plan when every workspace has the same one (for members
-- of a workspace that has no billing row of its own).
org_billing as (
  select
    max(enterprise_id) as enterprise_id,
    case when count(distinct plan) = 1 then min(plan) end as plan,
    case when count(distinct plan) = 1 then min(plan_label) end as plan_label
  from billing
),

-- Member analytics, where the org has it, is the better signal (a day with real use);
-- otherwise the access logs (a login). The choice is made once for the whole org so that
-- every seat is measured the same way.
activity_source as (
  select case
    when exists (select 1 from activity) then 'member_analytics'
    when exists (select 1 from logins) then 'access_logs'
    else 'none'
  end as activity_source
),

members as (
  select user_id
  from (
    select user_id from users
    union all
    select user_id from admin_users
    union all
    select user_id from billable
  ) as every_member
  group by user_id
),

joined as (
  select
    members.user_id,
    coalesce(users.team_id, admin_users.primary_team_id, billable.team_id, activity.team_id)
      as team_id,
    coalesce(users.enterprise_id, org_billing.enterprise_id) as enterprise_id,
    admin_users.workspace_ids,
    coalesce(users.username, admin_users.username) as username,
    coalesce(users.real_name, admin_users.full_name) as real_name,
    coalesce(users.email, nullif(admin_users.email, '')) as email,
    users.title,
    case
      when coalesce(users.is_deleted, not admin_users.is_active, false) then 'deactivated'
      when coalesce(users.is_bot, admin_users.is_bot, false) then 'bot'
      when coalesce(users.is_invited, false) then 'invited'
      when coalesce(users.is_ultra_restricted, admin_users.is_ultra_restricted, false)
        then 'single_channel_guest'
      when coalesce(users.is_restricted, admin_users.is_restricted, false)
        then 'multi_channel_guest'
      else 'full_member'
    end as account_kind,
    coalesce(users.is_admin, admin_users.is_admin, false) as is_admin,
    coalesce(users.is_owner, admin_users.is_owner, false) as is_owner,
    coalesce(users.is_primary_owner, admin_users.is_primary_owner, false) as is_primary_owner,
    admin_users.roles as admin_roles,
    coalesce(users.has_2fa, admin_users.has_2fa) as has_2fa,
    admin_users.has_sso,
    case
      when billable.user_id is not null then billable.is_billing_active
      when activity.user_id is not null then activity.is_billable_seat
      else false
    end as is_billable,
    case
      when billable.user_id is not null then 'billable_info'
      when activity.user_id is not null then 'member_analytics'
      else 'none'
    end as billable_source,
    logins.last_login_at,
    coalesce(logins.login_count, 0) as login_count,
    activity.last_active_date,
    {%- for days in windows %}
    coalesce(activity.active_days_{{ days }}d, 0) as active_days_{{ days }}d,
    {%- endfor %}
    {%- for measure in ['messages_posted', 'reactions_added', 'files_added', 'calls', 'huddles', 'searches'] %}
    coalesce(activity.{{ measure }}_{{ idle_days }}d, 0) as {{ measure }}_{{ idle_days }}d,
    {%- endfor %}
    admin_users.last_active_at as admin_last_active_at,
    coalesce(users.guest_expires_at, admin_users.guest_expires_at) as guest_expires_at,
    scim.department,
    scim.cost_center,
    scim.division,
    scim.organization,
    scim.manager_id,
    scim.employee_number,
    coalesce(scim.created_at, admin_users.created_at) as created_at,
    case
      when scim.created_at is not null then 'scim_users'
      when admin_users.created_at is not null then 'admin_users'
    end as created_at_source,
    scim.user_id is not null as has_scim_record,
    activity_source.activity_source
  from members
  cross join activity_source
  cross join org_billing
  left join users on users.user_id = members.user_id
  left join admin_users on admin_users.user_id = members.user_id
  left join billable on billable.user_id = members.user_id
  left join logins on logins.user_id = members.user_id
  left join activity on activity.user_id = members.user_id
  left join scim on scim.user_id = members.user_id
),

with_plan as (
  select
    joined.*,
    teams.team_name,
    -- The workspace's own plan; a member whose workspace has no billing row (another
    -- workspace of the org) gets the org's plan when the org has a single one.
    coalesce(team_billing.plan, org_billing.plan) as plan,
    coalesce(team_billing.plan_label, org_billing.plan_label) as plan_label,
    case joined.activity_source
      when 'member_analytics' then joined.last_active_date
      when 'access_logs' then cast(joined.last_login_at as date)
    end as last_activity_date
  from joined
  left join billing as team_billing on team_billing.team_id = joined.team_id
  left join teams on teams.team_id = joined.team_id
  cross join org_billing
),

-- The seat's price: a contract of its workspace, else of its org (var slack_contracts), else
-- Slack's list price for its plan in force on the "as of" day. Unknown (null) otherwise:
-- Enterprise Grid is quote-only.
priced as (
  select
    with_plan.*,
    coalesce(
      workspace_contract.billing_model,
      org_contract.billing_model,
      {{ tap_slack_snow.slack_default_billing_model('with_plan.plan') }}
    ) as billing_model,
    coalesce(
      workspace_contract.price_per_seat_month,
      org_contract.price_per_seat_month,
      list_prices.price_per_seat_month
    ) as price_per_seat_month,
    case
      when workspace_contract.price_per_seat_month is not null
        or org_contract.price_per_seat_month is not null then 'contract'
      when list_prices.price_per_seat_month is not null then 'list_price'
    end as price_source,
    case
      when workspace_contract.price_per_seat_month is null
        and org_contract.price_per_seat_month is null then list_prices.valid_from
    end as list_price_as_of,
    coalesce(workspace_contract.currency, org_contract.currency, '{{ var('slack_currency', 'USD') }}')
      as currency,
    coalesce(
      workspace_contract.billing_period,
      org_contract.billing_period,
      '{{ var('slack_billing_period', 'annual') }}'
    ) as billing_period
  from with_plan
  left join contracts as workspace_contract on workspace_contract.scope_id = with_plan.team_id
  left join contracts as org_contract on org_contract.scope_id = with_plan.enterprise_id
  left join list_prices
    on list_prices.plan = with_plan.plan
    and list_prices.currency
      = coalesce(workspace_contract.currency, org_contract.currency, '{{ var('slack_currency', 'USD') }}')
    and list_prices.billing_period = coalesce(
      workspace_contract.billing_period,
      org_contract.billing_period,
      '{{ var('slack_billing_period', 'annual') }}'
    )
    and list_prices.valid_from <= {{ as_of }}
    and (list_prices.valid_to is null or list_prices.valid_to > {{ as_of }})
),

measured as (
  select
    priced.*,
    {{ tap_slack_snow.slack_days_between('last_activity_date', as_of) }} as days_since_last_activity
  from priced
)

select
  user_id,
  team_id,
  team_name,
  enterprise_id,
  workspace_ids,
  username,
  real_name,
  email,
  title,
  account_kind,
  account_kind in ('multi_channel_guest', 'single_channel_guest') as is_guest,
  is_admin,
  is_owner,
  is_primary_owner,
  coalesce(
    admin_roles,
    case
      when is_primary_owner then 'primary_owner,owner,admin'
      when is_owner then 'owner,admin'
      when is_admin then 'admin'
      when account_kind = 'single_channel_guest' then 'single_channel_guest'
      when account_kind = 'multi_channel_guest' then 'multi_channel_guest'
      when account_kind = 'bot' then 'bot'
      else 'member'
    end
  ) as roles,
  has_2fa,
  has_sso,
  is_billable,
  billable_source,
  coalesce(plan, 'unknown') as plan,
  plan_label,
  last_login_at,
  login_count,
  last_active_date,
  {%- for days in windows %}
  active_days_{{ days }}d,
  {%- endfor %}
  {%- for measure in ['messages_posted', 'reactions_added', 'files_added', 'calls', 'huddles', 'searches'] %}
  {{ measure }}_{{ idle_days }}d,
  {%- endfor %}
  admin_last_active_at,
  activity_source,
  last_activity_date,
  days_since_last_activity,
  -- Like the licence products: active within var slack_idle_days days, inactive beyond,
  -- no activity ever recorded, or not monitored (no activity source for this org).
  case
    when activity_source = 'none' then 'not_monitored'
    when last_activity_date is null then 'no_activity'
    when days_since_last_activity < {{ idle_days }} then 'active'
    else 'inactive'
  end as activity_status,
  -- Idle: Slack bills the seat and it was not used within var slack_idle_days days (or
  -- never). Unknown (null) when the org gives no activity data at all.
  case
    when not is_billable then false
    when activity_source = 'none' then null
    else last_activity_date is null or days_since_last_activity >= {{ idle_days }}
  end as is_idle,
  guest_expires_at,
  {{ tap_slack_snow.slack_days_between(as_of, 'guest_expires_at') }} as days_until_guest_expiry,
  coalesce(
    account_kind in ('multi_channel_guest', 'single_channel_guest')
      and {{ tap_slack_snow.slack_days_between(as_of, 'guest_expires_at') }}
        between 0 and {{ warning_days }},
    false
  ) as is_guest_expiring_soon,
  department,
  cost_center,
  division,
  organization,
  manager_id,
  employee_number,
  created_at,
  created_at_source,
  has_scim_record,
  billing_model,
  is_billable as is_paid,
  currency,
  billing_period,
  price_per_seat_month,
  price_source,
  list_price_as_of,
  -- What the seat costs a month: its price when Slack bills it, 0 when not; null when the
  -- price is unknown.
  case when is_billable then price_per_seat_month else 0 end as monthly_cost,
  {{ as_of }} as as_of_date
from measured
