{# Text functions that differ between engines. DuckDB natively, default__ Spark SQL. #}

{# A printf-style format ('%.1f') applied to one value. #}
{% macro format_number(format, value) -%}
    {{ return(adapter.dispatch('format_number', 'microfunnel')(format, value)) }}
{%- endmacro %}

{#- Java's %f takes no decimal type. #}
{% macro default__format_number(format, value) -%}
    format_string({{ format }}, cast({{ value }} as double))
{%- endmacro %}

{% macro duckdb__format_number(format, value) -%}
    printf({{ format }}, {{ value }})
{%- endmacro %}


{% macro text_contains(text, part) -%}
    {{ return(adapter.dispatch('text_contains', 'microfunnel')(text, part)) }}
{%- endmacro %}

{% macro default__text_contains(text, part) -%}
    (instr({{ text }}, {{ part }}) > 0)
{%- endmacro %}

{% macro duckdb__text_contains(text, part) -%}
    contains({{ text }}, {{ part }})
{%- endmacro %}


{# The value of `expression` on the row with the smallest `ordering`. #}
{% macro value_at_min(expression, ordering) -%}
    {{ return(adapter.dispatch('value_at_min', 'microfunnel')(expression, ordering)) }}
{%- endmacro %}

{% macro default__value_at_min(expression, ordering) -%}
    min_by({{ expression }}, {{ ordering }})
{%- endmacro %}

{% macro duckdb__value_at_min(expression, ordering) -%}
    arg_min({{ expression }}, {{ ordering }})
{%- endmacro %}


{# The value of `expression` on the row with the largest `ordering`. #}
{% macro value_at_max(expression, ordering) -%}
    {{ return(adapter.dispatch('value_at_max', 'microfunnel')(expression, ordering)) }}
{%- endmacro %}

{% macro default__value_at_max(expression, ordering) -%}
    max_by({{ expression }}, {{ ordering }})
{%- endmacro %}

{% macro duckdb__value_at_max(expression, ordering) -%}
    arg_max({{ expression }}, {{ ordering }})
{%- endmacro %}
