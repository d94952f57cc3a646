{# The "as of" date of the activity columns: var slack_as_of_date ('YYYY-MM-DD'), else today
   in UTC (the tap's timestamps are UTC). #}
{% macro slack_as_of_date() -%}
  {%- set pinned = var('slack_as_of_date', none) -%}
  {%- if pinned -%}
    cast('{{ pinned }}' as date)
  {%- else -%}
    cast(timezone('UTC', now()) as date)
  {%- endif -%}
{%- endmacro %}

{# Unix seconds (bigint, 0 or null = none) as a UTC timestamp. #}
{% macro slack_unix_to_timestamp(expression) -%}
  case when {{ expression }} > 0
    then cast(timezone('UTC', to_timestamp({{ expression }})) as timestamp)
  end
{%- endmacro %}

{# The activity windows (var slack_activity_windows), as sorted whole numbers. #}
{% macro slack_activity_windows() -%}
  {%- set windows = [] -%}
  {%- for days in var('slack_activity_windows', [30, 60, 90]) -%}
    {%- do windows.append(days | int) -%}
  {%- endfor -%}
  {{- return(windows | unique | sort) -}}
{%- endmacro %}
