-- The seat history holds the day of this build for every workspace of slack__seats.
select seats.team_id
from (select distinct team_id, as_of_date from {{ ref('slack__seats') }} where team_id is not null) as seats
left join {{ ref('slack__seat_history') }} as history
  on history.grain = 'workspace'
  and history.scope_id = seats.team_id
  and history.history_date = seats.as_of_date
where history.history_id is null
