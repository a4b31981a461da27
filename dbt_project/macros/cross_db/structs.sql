{#
  Structs (named tuples). struct_of([('name', 'expression'), ...]) builds one;
  struct_field(struct, 'name') reads a field (dot access `s.name` works on every engine for a
  column; this is for structs built in the same select). DuckDB natively, default__ Spark SQL.
#}

{% macro struct_of(fields) -%}
    {{ return(adapter.dispatch('struct_of', 'microfunnel')(fields)) }}
{%- endmacro %}

{% macro default__struct_of(fields) -%}
    named_struct(
        {%- for name, expression in fields %}
        '{{ name }}', {{ expression }}{{ ',' if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}

{% macro duckdb__struct_of(fields) -%}
    struct_pack(
        {%- for name, expression in fields %}
        {{ name }} := {{ expression }}{{ ',' if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}


{% macro struct_field(struct, name) -%}
    {{ return(adapter.dispatch('struct_field', 'microfunnel')(struct, name)) }}
{%- endmacro %}

{% macro default__struct_field(struct, name) -%}
    {{ struct }}.{{ name }}
{%- endmacro %}

{% macro duckdb__struct_field(struct, name) -%}
    struct_extract({{ struct }}, '{{ name }}')
{%- endmacro %}

