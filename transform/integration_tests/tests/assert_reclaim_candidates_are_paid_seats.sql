-- Every reclaim candidate is a paid seat of slack__seats, with the seat's own cost.
select candidates.candidate_id
from {{ ref('slack__reclaim_candidates') }} as candidates
left join {{ ref('slack__seats') }} as seats on seats.user_id = candidates.user_id
where seats.user_id is null
  or not seats.is_paid
  or coalesce(candidates.monthly_cost, -1) != coalesce(seats.monthly_cost, -1)
