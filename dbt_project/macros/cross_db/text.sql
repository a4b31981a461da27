{# Text functions that differ between engines. DuckDB natively, default__ Spark SQL. #}

{# A printf-style format ('%.1f') applied to one value. #}
{% macro format_number(format, value) -%}
    {{ return(adapter.dispatch('format_number', 'microfunnel')(format, value)) }}
{%- endmacro %}

{#-
  Java's %.Nf rounds the shortest decimal form of the value half up (31.25 -> 31.3); C's printf,
  as DuckDB and Python format, rounds the exact binary value half to even (31.2). So the value
  is rounded here the C way and Java only prints the result: the exact product v * 10^N is
  p + e (Dekker's two-product: the split of v into 26-bit halves makes e exact), whose
  fraction above floor(p) is compared with one half. One format with a single %.Nf (N < 10).
#}
{% macro default__format_number(format, value) -%}
    {%- set digits = format[format.index('%.') + 2] | int %}
    {%- set scale = 10 ** digits %}
    {%- call bind_value('mf_v', 'cast(' ~ value ~ ' as double)') -%}
        {%- call bind_value('mf_a', 'abs(mf_v)') -%}
            {%- set p = '(mf_a * ' ~ scale ~ ')' %}
            {%- set high = '(134217729.0 * mf_a - (134217729.0 * mf_a - mf_a))' %}
            {%- set e = '((' ~ high ~ ' * ' ~ scale ~ ' - ' ~ p ~ ') + (mf_a - ' ~ high ~ ') * ' ~ scale ~ ')' %}
            {%- set d = '(' ~ p ~ ' - floor(' ~ p ~ ') - 0.5)' %}
            case when mf_v is not null then format_string({{ format }}, signum(mf_v) * (
                floor({{ p }}) + case
                    when {{ d }} > 0 or ({{ d }} = 0 and {{ e }} > 0) then 1
                    when {{ d }} = 0 and {{ e }} = 0 and floor({{ p }}) % 2 = 1 then 1
                    else 0
                end
            ) / {{ scale }}) end
        {%- endcall %}
    {%- endcall %}
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
