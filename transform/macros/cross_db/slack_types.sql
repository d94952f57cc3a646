{#
  Cross-database building blocks. Every model writes these instead of one warehouse's SQL, so
  the package runs on PostgreSQL, DuckDB, Snowflake and BigQuery. Each is dispatched
  (adapter.dispatch, search order: the calling project, then tap_slack_snow), so a user can
  override one for another adapter with a macro named <adapter>__<macro> in their project
  (vars: dispatch). dbt's own cross-database macros (dbt.datediff, dbt.type_string, ...) are
  used where they exist.
#}

{# The warehouse type of one of the package's logical column types: string, bigint,
   numeric, boolean, date, timestamp, json (an object as the loader stores it), string_array
   (a JSON array of strings as the loader stores it). #}
{% macro slack_type(logical) -%}
  {{ return(adapter.dispatch('slack_type', 'tap_slack_snow')(logical)) }}
{%- endmacro %}

{% macro default__slack_type(logical) -%}
  {%- set types = {
        'string': dbt.type_string(),
        'bigint': dbt.type_bigint(),
        'numeric': dbt.type_numeric(),
        'boolean': dbt.type_boolean(),
        'date': 'date',
        'timestamp': dbt.type_timestamp(),
        'json': 'json',
        'string_array': 'json',
      } -%}
  {{- return(types[logical]) -}}
{%- endmacro %}

{# target-postgres: objects are jsonb, arrays of strings text[]. #}
{% macro postgres__slack_type(logical) -%}
  {%- set types = {'string': 'text', 'json': 'jsonb', 'string_array': 'text[]',
                   'numeric': 'numeric(18, 4)'} -%}
  {{- return(types.get(logical) or default__slack_type(logical)) -}}
{%- endmacro %}

{# Snowflake loaders store objects and arrays as VARIANT. #}
{% macro snowflake__slack_type(logical) -%}
  {%- set types = {'json': 'variant', 'string_array': 'variant'} -%}
  {{- return(types.get(logical) or default__slack_type(logical)) -}}
{%- endmacro %}

{# BigQuery: STRING/INT64/BOOL/TIMESTAMP from dbt's macros; objects and arrays as JSON. #}
{% macro bigquery__slack_type(logical) -%}
  {%- set types = {'json': 'json', 'string_array': 'json', 'numeric': 'numeric'} -%}
  {{- return(types.get(logical) or default__slack_type(logical)) -}}
{%- endmacro %}


{# The text of one top-level key of a JSON object column (null when absent). #}
{% macro slack_json_text(column, key) -%}
  {{ return(adapter.dispatch('slack_json_text', 'tap_slack_snow')(column, key)) }}
{%- endmacro %}

{% macro default__slack_json_text(column, key) -%}
  json_value({{ column }}, '$.{{ key }}')
{%- endmacro %}

{% macro postgres__slack_json_text(column, key) -%}
  ({{ column }} ->> '{{ key }}')
{%- endmacro %}

{% macro duckdb__slack_json_text(column, key) -%}
  json_extract_string({{ column }}, '$.{{ key }}')
{%- endmacro %}

{% macro snowflake__slack_json_text(column, key) -%}
  cast(get_path({{ column }}, '{{ key }}') as varchar)
{%- endmacro %}


{# An array of strings as one comma-separated string. #}
{% macro slack_string_array_join(column) -%}
  {{ return(adapter.dispatch('slack_string_array_join', 'tap_slack_snow')(column)) }}
{%- endmacro %}

{% macro default__slack_string_array_join(column) -%}
  array_to_string(json_value_array({{ column }}), ',')
{%- endmacro %}

{% macro postgres__slack_string_array_join(column) -%}
  array_to_string({{ column }}, ',')
{%- endmacro %}

{% macro duckdb__slack_string_array_join(column) -%}
  array_to_string(cast({{ column }} as varchar[]), ',')
{%- endmacro %}

{% macro snowflake__slack_string_array_join(column) -%}
  array_to_string({{ column }}, ',')
{%- endmacro %}


{# The first string of an array of strings. #}
{% macro slack_string_array_first(column) -%}
  {{ return(adapter.dispatch('slack_string_array_first', 'tap_slack_snow')(column)) }}
{%- endmacro %}

{% macro default__slack_string_array_first(column) -%}
  json_value({{ column }}, '$[0]')
{%- endmacro %}

{% macro postgres__slack_string_array_first(column) -%}
  {{ column }}[1]
{%- endmacro %}

{% macro duckdb__slack_string_array_first(column) -%}
  json_extract_string({{ column }}, '$[0]')
{%- endmacro %}

{% macro snowflake__slack_string_array_first(column) -%}
  cast(get({{ column }}, 0) as varchar)
{%- endmacro %}


{# A string of digits as a bigint; null when it is anything else. #}
{% macro slack_digits_to_bigint(expression) -%}
  {{ return(adapter.dispatch('slack_digits_to_bigint', 'tap_slack_snow')(expression)) }}
{%- endmacro %}

{% macro default__slack_digits_to_bigint(expression) -%}
  {{ dbt.safe_cast(expression, dbt.type_bigint()) }}
{%- endmacro %}

{% macro postgres__slack_digits_to_bigint(expression) -%}
  case when ({{ expression }}) ~ '^[0-9]+$' then cast({{ expression }} as bigint) end
{%- endmacro %}

{% macro duckdb__slack_digits_to_bigint(expression) -%}
  try_cast({{ expression }} as bigint)
{%- endmacro %}
