-- One row per member of users.list, with the account kind decided once, here.
with source as (
  select * from {{ tap_slack_snow.slack_source('users', [
      ['id', 'string'], ['team_id', 'string'], ['name', 'string'], ['real_name', 'string'],
      ['deleted', 'boolean'], ['is_bot', 'boolean'], ['is_app_user', 'boolean'],
      ['is_workflow_bot', 'boolean'], ['is_invited_user', 'boolean'],
      ['is_restricted', 'boolean'], ['is_ultra_restricted', 'boolean'],
      ['is_admin', 'boolean'], ['is_owner', 'boolean'], ['is_primary_owner', 'boolean'],
      ['has_2fa', 'boolean'], ['tz', 'string'], ['updated', 'timestamp'],
      ['enterprise_user', 'json'], ['profile', 'json'],
    ], key='id', latest_sync_partition='team_id') }}
)

select
  id as user_id,
  team_id,
  {{ tap_slack_snow.slack_json_text('enterprise_user', 'enterprise_id') }} as enterprise_id,
  name as username,
  coalesce(nullif(real_name, ''), {{ tap_slack_snow.slack_json_text('profile', 'real_name') }}) as real_name,
  nullif({{ tap_slack_snow.slack_json_text('profile', 'email') }}, '') as email,
  nullif({{ tap_slack_snow.slack_json_text('profile', 'title') }}, '') as title,
  coalesce(deleted, false) as is_deleted,
  -- Slackbot is a system account: Slack never bills it, users.list sends it with is_bot false.
  (coalesce(is_bot, false) or coalesce(is_workflow_bot, false) or id = 'USLACKBOT') as is_bot,
  coalesce(is_invited_user, false) as is_invited,
  coalesce(is_restricted, false) as is_restricted,
  coalesce(is_ultra_restricted, false) as is_ultra_restricted,
  coalesce(is_admin, false) as is_admin,
  coalesce(is_owner, false) as is_owner,
  coalesce(is_primary_owner, false) as is_primary_owner,
  has_2fa,
  tz,
  updated as updated_at,
  {{ tap_slack_snow.slack_unix_to_timestamp(tap_slack_snow.slack_digits_to_bigint(
       tap_slack_snow.slack_json_text('profile', 'guest_expiration_ts'))) }} as guest_expires_at
from source
