{# Type names that differ between engines: lists and structs. DuckDB natively, default__ Spark. #}

{% macro list_type(element_type) -%}
    {{ return(adapter.dispatch('list_type', 'microfunnel')(element_type)) }}
{%- endmacro %}

{% macro default__list_type(element_type) -%}
    array<{{ element_type }}>
{%- endmacro %}

{% macro duckdb__list_type(element_type) -%}
    {{ element_type }}[]
{%- endmacro %}


{# struct_type([('name', 'type'), ...]) #}
{% macro struct_type(fields) -%}
    {{ return(adapter.dispatch('struct_type', 'microfunnel')(fields)) }}
{%- endmacro %}

{% macro default__struct_type(fields) -%}
    struct<
        {%- for name, type in fields %}{{ name }}: {{ type }}{{ ', ' if not loop.last }}{% endfor -%}
    >
{%- endmacro %}

{% macro duckdb__struct_type(fields) -%}
    struct(
        {%- for name, type in fields %}{{ name }} {{ type }}{{ ', ' if not loop.last }}{% endfor -%}
    )
{%- endmacro %}
