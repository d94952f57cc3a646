-- Per member: logins from the access logs (every IP and client together).
select
  user_id,
  min(first_seen_at) as first_login_at,
  max(last_seen_at) as last_login_at,
  sum(login_count) as login_count,
  count(distinct ip) as distinct_ips
from {{ ref('stg_slack__access_logs') }}
group by user_id
