{# Seconds between two timestamps, keeping sub-second precision (GA4 has microseconds). #}
{% macro seconds_between(start_at, end_at) -%}
    {{ return(adapter.dispatch('seconds_between', 'microfunnel')(start_at, end_at)) }}
{%- endmacro %}

{% macro default__seconds_between(start_at, end_at) -%}
    ({{ dbt.datediff(start_at, end_at, 'millisecond') }} / 1000.0)
{%- endmacro %}

{#- Spark: a bigint divided by a decimal literal would be a decimal. #}
{% macro spark__seconds_between(start_at, end_at) -%}
    (cast({{ epoch_microseconds(end_at) }} - {{ epoch_microseconds(start_at) }} as double) / 1000000)
{%- endmacro %}

{% macro duckdb__seconds_between(start_at, end_at) -%}
    (({{ epoch_microseconds(end_at) }} - {{ epoch_microseconds(start_at) }}) / 1000000.0)
{%- endmacro %}


{# Linear-interpolation quantile (the same definition as the Python reference). #}
{% macro quantile_linear(expression, fraction) -%}
    {{ return(adapter.dispatch('quantile_linear', 'microfunnel')(expression, fraction)) }}
{%- endmacro %}

{% macro default__quantile_linear(expression, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__quantile_linear(expression, fraction) -%}
    quantile_cont({{ expression }}, {{ fraction }})
{%- endmacro %}


{# Value of a JSON object's key as text; the key is validated by the funnel loader. #}
{% macro json_text(json_column, key_column) -%}
    {{ return(adapter.dispatch('json_text', 'microfunnel')(json_column, key_column)) }}
{%- endmacro %}

{% macro default__json_text(json_column, key_column) -%}
    json_extract_string({{ json_column }}, '$."' || {{ key_column }} || '"')
{%- endmacro %}

{% macro spark__json_text(json_column, key_column) -%}
    get_json_object({{ json_column }}, concat('$[\'', {{ key_column }}, '\']'))
{%- endmacro %}

{% macro postgres__json_text(json_column, key_column) -%}
    (cast({{ json_column }} as jsonb) ->> {{ key_column }})
{%- endmacro %}


{#
  Sum of decimal values that gives the same double on every run: parallel float sums depend
  on the order rows arrive in, so values are summed as integers at a fixed scale.
#}
{% macro exact_sum(expression, scale=1000000) -%}
    (cast(sum(cast(round({{ expression }} * {{ scale }}) as bigint)) as double) / {{ scale }})
{%- endmacro %}
