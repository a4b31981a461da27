{#
  Bit shifts of integers. DuckDB writes them as operators; Spark's parser misreads `>>` after a
  lambda arrow, so there they are the functions shiftleft / shiftright.
#}

{% macro shift_left(value, bits) -%}
    {{ return(adapter.dispatch('shift_left', 'microfunnel')(value, bits)) }}
{%- endmacro %}

{% macro default__shift_left(value, bits) -%}
    shiftleft({{ value }}, {{ bits }})
{%- endmacro %}

{% macro duckdb__shift_left(value, bits) -%}
    ({{ value }} << {{ bits }})
{%- endmacro %}


{% macro shift_right(value, bits) -%}
    {{ return(adapter.dispatch('shift_right', 'microfunnel')(value, bits)) }}
{%- endmacro %}

{% macro default__shift_right(value, bits) -%}
    shiftright({{ value }}, {{ bits }})
{%- endmacro %}

{% macro duckdb__shift_right(value, bits) -%}
    ({{ value }} >> {{ bits }})
{%- endmacro %}
