{#
  Every column but some: all_columns_except(['a', 'b']) or, of one relation in the query,
  all_columns_except(['a'], 'events'). DuckDB spells it `* exclude (...)`, Spark `* except (...)`.
#}
{% macro all_columns_except(columns, relation=none) -%}
    {{ return(adapter.dispatch('all_columns_except', 'microfunnel')(columns, relation)) }}
{%- endmacro %}

{% macro default__all_columns_except(columns, relation) -%}
    {{ relation ~ '.' if relation }}* except ({{ columns | join(', ') }})
{%- endmacro %}

{% macro duckdb__all_columns_except(columns, relation) -%}
    {{ relation ~ '.' if relation }}* exclude ({{ columns | join(', ') }})
{%- endmacro %}
