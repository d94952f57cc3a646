{# Generic test: no two rows share the values of `columns` (dbt-core has no built-in
   multi-column unique test; this avoids a package from the package hub). #}
{% test slack_unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as rows_with_these_values
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
