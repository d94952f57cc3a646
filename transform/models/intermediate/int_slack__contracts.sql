-- The contract input (var slack_contracts): per workspace or Enterprise Grid org, the billing
-- model, negotiated price, purchased seats and renewal date. Empty when none is given.
{{ tap_slack_snow.slack_contracts_rows() }}
