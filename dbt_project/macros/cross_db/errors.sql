{#
  Stop the query with a message, from inside a row's expression (a missing exchange rate names
  its currency and day). DuckDB's error() and Spark's raise_error() both fail only when a row
  reaches them, so they sit in the branch of a CASE that should never be taken.
#}

{% macro raise_error(message) -%}
    {{ return(adapter.dispatch('raise_error', 'microfunnel')(message)) }}
{%- endmacro %}

{% macro default__raise_error(message) -%}
    raise_error({{ message }})
{%- endmacro %}

{% macro duckdb__raise_error(message) -%}
    error({{ message }})
{%- endmacro %}
