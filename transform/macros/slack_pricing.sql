{#
  The billing inputs as SQL.

  slack_contracts_rows(): var slack_contracts (a list, one entry per workspace or Enterprise
  Grid org) as rows, typed; no entry gives an empty relation of the same columns. Keys of an
  entry: scope_id (a workspace's team_id or an org's enterprise_id; required), billing_model
  (contract or fair_billing), price_per_seat_month, currency, billing_period,
  purchased_seats, renewal_date ('YYYY-MM-DD').
#}
{% macro slack_contracts_rows() -%}
  {%- set columns = [
        ['scope_id', 'string'], ['billing_model', 'string'], ['price_per_seat_month', 'numeric'],
        ['currency', 'string'], ['billing_period', 'string'], ['purchased_seats', 'bigint'],
        ['renewal_date', 'date'],
      ] -%}
  {%- set contracts = var('slack_contracts', []) or [] -%}
  {%- if contracts | length == 0 %}
  select
    {%- for name, type in columns %}
    cast(null as {{ tap_slack_snow.slack_type(type) }}) as {{ name }}{{ "," if not loop.last }}
    {%- endfor %}
  from (select 1 as slack_empty) as slack_empty
  where 1 = 0
  {%- else %}
  {%- for contract in contracts %}
    {%- if not contract.get('scope_id') -%}
      {{ exceptions.raise_compiler_error("var slack_contracts: every entry needs a scope_id (a team_id or an enterprise_id)") }}
    {%- endif -%}
    {%- if contract.get('billing_model') not in [none, 'contract', 'fair_billing'] -%}
      {{ exceptions.raise_compiler_error("var slack_contracts: billing_model is contract or fair_billing, not " ~ contract.get('billing_model')) }}
    {%- endif %}
  select
    {%- for name, type in columns %}
    {%- set value = contract.get(name) %}
    {%- if value is none %}
    cast(null as {{ tap_slack_snow.slack_type(type) }}) as {{ name }}
    {%- elif type in ('numeric', 'bigint') %}
    cast({{ value | float if type == 'numeric' else value | int }} as {{ tap_slack_snow.slack_type(type) }}) as {{ name }}
    {%- else %}
    cast('{{ value | string | replace("'", "''") }}' as {{ tap_slack_snow.slack_type(type) }}) as {{ name }}
    {%- endif %}{{ "," if not loop.last }}
    {%- endfor %}
  {{ "union all" if not loop.last }}
  {%- endfor %}
  {%- endif %}
{%- endmacro %}

{# The default billing model of a plan (var slack_billing_model_by_plan), as a SQL case. #}
{% macro slack_default_billing_model(plan_column) -%}
  {%- set defaults = var('slack_billing_model_by_plan', {
        'std': 'fair_billing', 'plus': 'fair_billing',
        'enterprise': 'contract', 'compliance': 'contract'}) -%}
  case {{ plan_column }}
    {%- for plan, model in defaults.items() %}
    when '{{ plan }}' then '{{ model }}'
    {%- endfor %}
    else 'none'
  end
{%- endmacro %}
