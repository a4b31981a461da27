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


{#
  The timestamp plus a whole number of seconds, keeping its fraction of a second (dbt-spark's
  dateadd goes through unix seconds and would drop it).
#}
{% macro add_seconds(timestamp, seconds) -%}
    {{ return(adapter.dispatch('add_seconds', 'microfunnel')(timestamp, seconds)) }}
{%- endmacro %}

{% macro default__add_seconds(timestamp, seconds) -%}
    timestampadd(second, {{ seconds }}, {{ timestamp }})
{%- endmacro %}

{% macro duckdb__add_seconds(timestamp, seconds) -%}
    {{ dbt.dateadd('second', seconds, timestamp) }}
{%- endmacro %}


{# The ISO 8601 week-numbering year of a date (the year its ISO week belongs to). #}
{% macro iso_year(day) -%}
    {{ return(adapter.dispatch('iso_year', 'microfunnel')(day)) }}
{%- endmacro %}

{% macro default__iso_year(day) -%}
    extract(yearofweek from {{ day }})
{%- endmacro %}

{% macro duckdb__iso_year(day) -%}
    extract(isoyear from {{ day }})
{%- endmacro %}
