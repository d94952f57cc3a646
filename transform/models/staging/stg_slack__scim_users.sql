-- The SCIM roster (GET /scim/v2/Users, Business+ and Enterprise Grid): HR attributes a
-- member's users.list entry lacks. Empty when the table does not exist (Free and Pro have no
-- SCIM, or the stream was not selected) or when var slack_using_scim is false.
select
  id as user_id,
  external_id,
  user_name,
  display_name,
  given_name,
  family_name,
  title,
  active as is_active,
  email,
  created_at,
  employee_number,
  cost_center,
  organization,
  division,
  department,
  manager_id,
  guest_type,
  guest_expires_at
from {{ tap_slack_snow.slack_source('scim_users', [
    ['id', 'string'], ['external_id', 'string'], ['user_name', 'string'],
    ['display_name', 'string'], ['given_name', 'string'], ['family_name', 'string'],
    ['title', 'string'], ['active', 'boolean'], ['email', 'string'],
    ['created_at', 'timestamp'], ['employee_number', 'string'], ['cost_center', 'string'],
    ['organization', 'string'], ['division', 'string'], ['department', 'string'],
    ['manager_id', 'string'], ['guest_type', 'string'], ['guest_expires_at', 'timestamp'],
  ], key='id', latest_sync_partition='*', enabled=var('slack_using_scim', true)) }}
