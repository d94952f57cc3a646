{#
  slack_source(table_name, columns, key, latest_sync_partition=none)

  The rows of one tap table, typed, deduplicated and tolerant of what a sync may not have
  created:
  * a table that does not exist (a stream skipped on this plan, e.g. access_logs on Free, the
    Grid streams on a standard workspace) gives an empty relation with the same columns;
  * a column the table lacks (an older tap version, add_record_metadata off) is null;
  * one row per `key`: the most recently extracted version (append-only loads keep them all);
  * rows the target marked deleted (ACTIVATE_VERSION, `_sdc_deleted_at`) are left out;
  * with `latest_sync_partition` (full-table streams: a column, or '*' for the whole table)
    and var slack_latest_sync_only, only the rows of the latest sync per partition: upsert keeps rows that a later full answer no
    longer holds (a member who left billable_info), and those would count as current.

  `columns` is a list of [name, type] pairs, `type` one of the logical types of
  slack_type() (string, bigint, boolean, date, timestamp, json, string_array, numeric); the
  result has exactly those columns. `enabled=false` (a var such as slack_using_scim) gives the
  empty relation without looking for the table.
#}
{% macro slack_source(table_name, columns, key, latest_sync_partition=none, enabled=true) -%}
  {%- set relation = source('tap_slack_snow', table_name) -%}
  {%- set present = {} -%}
  {%- if execute and enabled -%}
    {%- set found = adapter.get_relation(
          database=relation.database, schema=relation.schema, identifier=relation.identifier) -%}
    {%- if found is not none -%}
      {%- for column in adapter.get_columns_in_relation(found) -%}
        {%- do present.update({column.name | lower: true}) -%}
      {%- endfor -%}
    {%- endif -%}
  {%- endif -%}
  {%- set metadata = [
        ['_sdc_extracted_at', 'timestamp'],
        ['_sdc_sequence', 'bigint'],
        ['_sdc_deleted_at', 'timestamp'],
        ['_sdc_sync_started_at', 'bigint'],
      ] -%}
  {%- set keys = key if key is not string else [key] -%}
  (
    with typed as (
      select
      {%- for name, type in columns + metadata %}
        {% set sql_type = tap_slack_snow.slack_type(type) -%}
        {% if present.get(name) %}cast({{ adapter.quote(name) }} as {{ sql_type }}){% else %}cast(null as {{ sql_type }}){% endif %} as {{ adapter.quote(name) }}{{ "," if not loop.last }}
      {%- endfor %}
      {% if present %}from {{ relation }}{% else %}from (select 1 as slack_empty) as slack_empty where 1 = 0{% endif %}
    ),
    ranked as (
      select
        typed.*,
        row_number() over (
          partition by {% for k in keys %}{{ adapter.quote(k) }}{{ ", " if not loop.last }}{% endfor %}
          order by {{ adapter.quote('_sdc_extracted_at') }} desc nulls last, {{ adapter.quote('_sdc_sequence') }} desc nulls last
        ) as _slack_version
        {%- if latest_sync_partition is not none %},
        max(_sdc_sync_started_at) over (
          {%- if latest_sync_partition != '*' %}
          partition by {{ adapter.quote(latest_sync_partition) }}
          {%- endif %}
        ) as _slack_latest_sync
        {%- endif %}
      from typed
    )
    select
    {%- for name, type in columns %}
      {{ adapter.quote(name) }}{{ "," if not loop.last }}
    {%- endfor %}
    from ranked
    where _slack_version = 1
      and _sdc_deleted_at is null
      {%- if latest_sync_partition is not none and var('slack_latest_sync_only', true) %}
      and (_slack_latest_sync is null or _sdc_sync_started_at = _slack_latest_sync)
      {%- endif %}
  ) as {{ table_name }}_rows
{%- endmacro %}
