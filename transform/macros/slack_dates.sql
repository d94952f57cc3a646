{# The "as of" date of the activity columns: var slack_as_of_date ('YYYY-MM-DD'), else today
   in UTC (the tap's timestamps are UTC). #}
{% macro slack_as_of_date() -%}
  {%- set pinned = var('slack_as_of_date', none) -%}
  {%- if pinned -%}
    cast('{{ pinned }}' as date)
  {%- else -%}
    {{ tap_slack_snow.slack_today() }}
  {%- endif -%}
{%- endmacro %}

{# The activity windows (var slack_activity_windows), as sorted whole numbers. #}
{% macro slack_activity_windows() -%}
  {%- set windows = [] -%}
  {%- for days in var('slack_activity_windows', [30, 60, 90]) -%}
    {%- do windows.append(days | int) -%}
  {%- endfor -%}
  {{- return(windows | unique | sort) -}}
{%- endmacro %}

{# count(*) filter (where condition), written so every warehouse accepts it. #}
{% macro slack_count_if(condition) -%}
  sum(case when {{ condition }} then 1 else 0 end)
{%- endmacro %}
