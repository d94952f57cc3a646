{# Today in UTC (the tap's timestamps are UTC), as a date. #}
{% macro slack_today() -%}
  {{ return(adapter.dispatch('slack_today', 'tap_slack_snow')()) }}
{%- endmacro %}

{% macro default__slack_today() -%}
  cast({{ dbt.current_timestamp() }} as date)
{%- endmacro %}

{% macro postgres__slack_today() -%}
  cast(timezone('UTC', now()) as date)
{%- endmacro %}

{% macro duckdb__slack_today() -%}
  cast(timezone('UTC', current_timestamp) as date)
{%- endmacro %}

{% macro bigquery__slack_today() -%}
  current_date('UTC')
{%- endmacro %}

{% macro snowflake__slack_today() -%}
  cast(convert_timezone('UTC', current_timestamp()) as date)
{%- endmacro %}


{# Unix seconds (0 or null = none) as a UTC timestamp without time zone. #}
{% macro slack_unix_to_timestamp(expression) -%}
  case when {{ expression }} > 0
    then {{ adapter.dispatch('slack_unix_to_timestamp', 'tap_slack_snow')(expression) }}
  end
{%- endmacro %}

{% macro default__slack_unix_to_timestamp(expression) -%}
  cast({{ dbt.dateadd('second', expression, "cast('1970-01-01' as " ~ dbt.type_timestamp() ~ ")") }} as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro postgres__slack_unix_to_timestamp(expression) -%}
  cast(timezone('UTC', to_timestamp({{ expression }})) as timestamp)
{%- endmacro %}

{% macro duckdb__slack_unix_to_timestamp(expression) -%}
  make_timestamp(cast({{ expression }} as bigint) * 1000000)
{%- endmacro %}

{% macro bigquery__slack_unix_to_timestamp(expression) -%}
  timestamp_seconds(cast({{ expression }} as int64))
{%- endmacro %}

{% macro snowflake__slack_unix_to_timestamp(expression) -%}
  to_timestamp_ntz({{ expression }})
{%- endmacro %}


{# Whole days from `start` to `end` (dates or timestamps; end - start). #}
{% macro slack_days_between(start, end) -%}
  {{ return(adapter.dispatch('slack_days_between', 'tap_slack_snow')(start, end)) }}
{%- endmacro %}

{% macro default__slack_days_between(start, end) -%}
  {{ dbt.datediff('cast(' ~ start ~ ' as date)', 'cast(' ~ end ~ ' as date)', 'day') }}
{%- endmacro %}

{% macro postgres__slack_days_between(start, end) -%}
  (cast({{ end }} as date) - cast({{ start }} as date))
{%- endmacro %}
