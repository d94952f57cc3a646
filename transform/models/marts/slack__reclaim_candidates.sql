-- One row per paid seat worth reclaiming, with the first reason that applies: deactivated
-- but still billed, a guest past its expiry, never active, or idle beyond var
-- slack_idle_days. Owners and admins stay in the list, flagged (is_owner, is_primary_owner,
-- is_admin): reclaiming their seat is a decision for a person.
with seats as (
  select * from {{ ref('slack__seats') }}
),

candidates as (
  select
    seats.*,
    case
      when seats.account_kind = 'deactivated' then 'deactivated_but_billed'
      when seats.is_guest and seats.days_until_guest_expiry < 0 then 'guest_expired'
      when seats.activity_status = 'no_activity' then 'never_active'
      when seats.activity_status = 'inactive' then 'idle'
    end as reason
  from seats
  where seats.is_paid
)

select
  {{ dbt.concat(['candidates.user_id', "':'", dbt.cast('candidates.as_of_date', dbt.type_string())]) }}
    as candidate_id,
  candidates.user_id,
  candidates.team_id,
  candidates.team_name,
  candidates.enterprise_id,
  candidates.real_name,
  candidates.username,
  candidates.email,
  candidates.title,
  candidates.account_kind,
  candidates.roles,
  candidates.is_owner,
  candidates.is_primary_owner,
  candidates.is_admin,
  candidates.department,
  candidates.cost_center,
  candidates.division,
  candidates.manager_id,
  managers.real_name as manager_name,
  managers.email as manager_email,
  candidates.plan,
  candidates.activity_source,
  candidates.activity_status,
  candidates.last_activity_date,
  candidates.days_since_last_activity as days_idle,
  candidates.guest_expires_at,
  candidates.created_at,
  candidates.billing_model,
  candidates.currency,
  candidates.monthly_cost,
  12 * candidates.monthly_cost as yearly_cost,
  candidates.reason,
  candidates.as_of_date
from candidates
left join seats as managers on managers.user_id = candidates.manager_id
where candidates.reason is not null
