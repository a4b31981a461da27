{# Date and time functions that differ between engines. DuckDB natively, default__ Spark SQL. #}

{# Microseconds since 1970-01-01 00:00:00 UTC. #}
{% macro epoch_microseconds(timestamp) -%}
    {{ return(adapter.dispatch('epoch_microseconds', 'microfunnel')(timestamp)) }}
{%- endmacro %}

{% macro default__epoch_microseconds(timestamp) -%}
    unix_micros({{ timestamp }})
{%- endmacro %}

{% macro duckdb__epoch_microseconds(timestamp) -%}
    epoch_us({{ timestamp }})
{%- endmacro %}

