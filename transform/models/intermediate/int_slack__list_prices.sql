-- Slack's list prices (seed slack__list_prices), each valid from its "as of" day until the
-- next row of the same plan, currency and billing period.
select
  plan,
  currency,
  billing_period,
  cast(price_per_seat_month as {{ tap_slack_snow.slack_type('numeric') }}) as price_per_seat_month,
  price_as_of as valid_from,
  lead(price_as_of) over (
    partition by plan, currency, billing_period order by price_as_of
  ) as valid_to,
  source
from {{ ref('slack__list_prices') }}
