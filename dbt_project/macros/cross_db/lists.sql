{#
  List (array) functions and lambdas. DuckDB implements them natively (duckdb__); default__ is
  the Spark SQL form (higher-order functions). Lambda bodies come from a call block, so long
  bodies read as SQL:

      {% call list_transform('filter_list', 'f') %} f.value {% endcall %}

  Lists and lambda indexes count from 1, as in DuckDB. Spark's own lambda index counts from 0
  and its aggregate() has none, so there a lambda that reads the index walks the list zipped
  with its 1-based positions (one_based_positions), and zip_with binds the two names. The
  lambdas these macros add of their own name their parameters mf_*: a plain name (i, v) would
  capture the caller's lambda parameter of that name in the list or fill expression.
#}

{# The lambda's parameter names, e.g. 'acc, x, i' -> ['acc', 'x', 'i']. #}
{% macro lambda_params(params) -%}
    {{ return(params.split(',') | map('trim') | list) }}
{%- endmacro %}


{# Spark writes one lambda parameter bare (x -> ...), several in parentheses. #}
{% macro lambda_head(params) -%}
    {%- set names = lambda_params(params) -%}
    {{ names[0] if names | length == 1 else '(' ~ names | join(', ') ~ ')' }}
{%- endmacro %}


{# 1, 2, ..., len(list). #}
{% macro one_based_positions(list) -%}
    {{ integer_range('1', 'size(' ~ list ~ ') + 1') }}
{%- endmacro %}


{% macro list_transform(list, params, body=none) -%}
    {%- set body = caller() if body is none else body %}
    {{ return(adapter.dispatch('list_transform', 'microfunnel')(list, params, body)) }}
{%- endmacro %}

{% macro default__list_transform(list, params, body) -%}
    {%- if lambda_params(params) | length == 2 -%}
        zip_with({{ list }}, {{ one_based_positions(list) }}, ({{ params }}) -> {{ body }})
    {%- else -%}
        transform({{ list }}, {{ lambda_head(params) }} -> {{ body }})
    {%- endif -%}
{%- endmacro %}

{% macro duckdb__list_transform(list, params, body) -%}
    list_transform({{ list }}, ({{ params }}) -> {{ body }})
{%- endmacro %}


{% macro list_filter(list, params, body=none) -%}
    {%- set body = caller() if body is none else body %}
    {{ return(adapter.dispatch('list_filter', 'microfunnel')(list, params, body)) }}
{%- endmacro %}

{% macro default__list_filter(list, params, body) -%}
    {%- set names = lambda_params(params) -%}
    {%- if names | length == 2 -%}
        transform(
            filter(
                zip_with({{ list }}, {{ one_based_positions(list) }}, ({{ params }}) -> named_struct(
                    'element', {{ names[0] }}, 'keep', {{ body }}
                )),
                mf_kept -> mf_kept.keep
            ),
            mf_kept -> mf_kept.element
        )
    {%- else -%}
        filter({{ list }}, {{ lambda_head(params) }} -> {{ body }})
    {%- endif -%}
{%- endmacro %}

{% macro duckdb__list_filter(list, params, body) -%}
    list_filter({{ list }}, ({{ params }}) -> {{ body }})
{%- endmacro %}


{# Folds the list from `initial` with the lambda (accumulator, element[, index]). #}
{% macro list_reduce(list, params, initial, body=none) -%}
    {%- set body = caller() if body is none else body %}
    {{ return(adapter.dispatch('list_reduce', 'microfunnel')(list, params, initial, body)) }}
{%- endmacro %}

{#- With an index, each step binds the element and its position with a one-element zip_with. #}
{% macro default__list_reduce(list, params, initial, body) -%}
    {%- set names = lambda_params(params) -%}
    {%- if names | length == 3 -%}
        aggregate(
            zip_with({{ list }}, {{ one_based_positions(list) }}, (mf_e, mf_p) -> named_struct('e', mf_e, 'p', mf_p)),
            {{ initial }},
            ({{ names[0] }}, mf_step) -> element_at(zip_with(
                array(mf_step.e), array(mf_step.p), ({{ names[1] }}, {{ names[2] }}) -> {{ body }}
            ), 1)
        )
    {%- else -%}
        aggregate({{ list }}, {{ initial }}, {{ lambda_head(params) }} -> {{ body }})
    {%- endif -%}
{%- endmacro %}

{% macro duckdb__list_reduce(list, params, initial, body) -%}
    list_reduce({{ list }}, ({{ params }}) -> {{ body }}, {{ initial }})
{%- endmacro %}


{# The element at a 1-based position (null past the end). #}
{% macro list_element(list, position) -%}
    {{ return(adapter.dispatch('list_element', 'microfunnel')(list, position)) }}
{%- endmacro %}

{% macro default__list_element(list, position) -%}
    element_at({{ list }}, {{ position }})
{%- endmacro %}

{% macro duckdb__list_element(list, position) -%}
    {{ list }}[{{ position }}]
{%- endmacro %}


{# The first `length` elements. #}
{% macro list_head(list, length) -%}
    {{ return(adapter.dispatch('list_head', 'microfunnel')(list, length)) }}
{%- endmacro %}

{% macro default__list_head(list, length) -%}
    slice({{ list }}, 1, {{ length }})
{%- endmacro %}

{% macro duckdb__list_head(list, length) -%}
    {{ list }}[1:{{ length }}]
{%- endmacro %}


{% macro list_length(list) -%}
    {{ return(adapter.dispatch('list_length', 'microfunnel')(list)) }}
{%- endmacro %}

{% macro default__list_length(list) -%}
    cardinality({{ list }})
{%- endmacro %}

{% macro duckdb__list_length(list) -%}
    len({{ list }})
{%- endmacro %}


{# The integers start .. stop - 1, as a list. #}
{% macro integer_range(start, stop) -%}
    {{ return(adapter.dispatch('integer_range', 'microfunnel')(start, stop)) }}
{%- endmacro %}

{#- sequence() counts down when stop < start: the slice keeps an empty range empty. #}
{% macro default__integer_range(start, stop) -%}
    slice(sequence({{ start }}, {{ stop }}), 1, greatest(({{ stop }}) - ({{ start }}), 0))
{%- endmacro %}

{% macro duckdb__integer_range(start, stop) -%}
    range({{ start }}, {{ stop }})
{%- endmacro %}


{% macro list_append(list, element) -%}
    {{ return(adapter.dispatch('list_append', 'microfunnel')(list, element)) }}
{%- endmacro %}

{% macro default__list_append(list, element) -%}
    concat({{ list }}, array({{ element }}))
{%- endmacro %}

{% macro duckdb__list_append(list, element) -%}
    list_append({{ list }}, {{ element }})
{%- endmacro %}


{# The list cut or padded with `fill` to `length` elements. #}
{% macro list_resize(list, length, fill) -%}
    {{ return(adapter.dispatch('list_resize', 'microfunnel')(list, length, fill)) }}
{%- endmacro %}

{% macro default__list_resize(list, length, fill) -%}
    transform(
        sequence(1, {{ length }}),
        mf_position -> coalesce(element_at({{ list }}, mf_position), {{ fill }})
    )
{%- endmacro %}

{% macro duckdb__list_resize(list, length, fill) -%}
    list_resize({{ list }}, {{ length }}, {{ fill }})
{%- endmacro %}


{% macro list_contains(list, element) -%}
    {{ return(adapter.dispatch('list_contains', 'microfunnel')(list, element)) }}
{%- endmacro %}

{% macro default__list_contains(list, element) -%}
    array_contains({{ list }}, {{ element }})
{%- endmacro %}

{% macro duckdb__list_contains(list, element) -%}
    list_contains({{ list }}, {{ element }})
{%- endmacro %}


{% macro list_max(list) -%}
    {{ return(adapter.dispatch('list_max', 'microfunnel')(list)) }}
{%- endmacro %}

{% macro default__list_max(list) -%}
    array_max({{ list }})
{%- endmacro %}

{% macro duckdb__list_max(list) -%}
    list_max({{ list }})
{%- endmacro %}


{# Bitwise or of a list of integers (0 for an empty list in default__, null in DuckDB). #}
{% macro list_bit_or(list) -%}
    {{ return(adapter.dispatch('list_bit_or', 'microfunnel')(list)) }}
{%- endmacro %}

{% macro default__list_bit_or(list) -%}
    aggregate({{ list }}, 0, (mf_acc, mf_v) -> mf_acc | mf_v)
{%- endmacro %}

{% macro duckdb__list_bit_or(list) -%}
    list_bit_or({{ list }})
{%- endmacro %}


{# True when every element is true (null for an empty list in DuckDB). #}
{% macro list_bool_and(list) -%}
    {{ return(adapter.dispatch('list_bool_and', 'microfunnel')(list)) }}
{%- endmacro %}

{% macro default__list_bool_and(list) -%}
    forall({{ list }}, mf_v -> mf_v)
{%- endmacro %}

{% macro duckdb__list_bool_and(list) -%}
    list_bool_and({{ list }})
{%- endmacro %}


{# A list aggregate (in no particular order). #}
{% macro list_agg(expression) -%}
    {{ return(adapter.dispatch('list_agg', 'microfunnel')(expression)) }}
{%- endmacro %}

{% macro default__list_agg(expression) -%}
    collect_list({{ expression }})
{%- endmacro %}

{% macro duckdb__list_agg(expression) -%}
    list({{ expression }})
{%- endmacro %}


{# A list aggregate sorted ascending by its elements (structs: field by field). #}
{% macro sorted_list_agg(expression) -%}
    {{ return(adapter.dispatch('sorted_list_agg', 'microfunnel')(expression)) }}
{%- endmacro %}

{% macro default__sorted_list_agg(expression) -%}
    array_sort(collect_list({{ expression }}))
{%- endmacro %}

{# Sorting the list is much faster than DuckDB's ordered list() aggregate. #}
{% macro duckdb__sorted_list_agg(expression) -%}
    list_sort(list({{ expression }}))
{%- endmacro %}


{# A list aggregate of `expression` ordered by `ordering`. #}
{% macro ordered_list_agg(expression, ordering) -%}
    {{ return(adapter.dispatch('ordered_list_agg', 'microfunnel')(expression, ordering)) }}
{%- endmacro %}

{% macro default__ordered_list_agg(expression, ordering) -%}
    transform(
        array_sort(collect_list(named_struct('k', {{ ordering }}, 'v', {{ expression }}))),
        mf_s -> mf_s.v
    )
{%- endmacro %}

{% macro duckdb__ordered_list_agg(expression, ordering) -%}
    list({{ expression }} order by {{ ordering }})
{%- endmacro %}


{#
  Select-list items unnesting two lists of equal length in parallel, one row per position:
  unnest_in_parallel([('list_a', 'name_a'), ('list_b', 'name_b')]).
#}
{% macro unnest_in_parallel(lists) -%}
    {{ return(adapter.dispatch('unnest_in_parallel', 'microfunnel')(lists)) }}
{%- endmacro %}

{% macro default__unnest_in_parallel(lists) -%}
    inline(arrays_zip(
        {%- for list, name in lists %}{{ list }}{{ ', ' if not loop.last }}{% endfor -%}
    )) as ({% for list, name in lists %}{{ name }}{{ ', ' if not loop.last }}{% endfor %})
{%- endmacro %}

{% macro duckdb__unnest_in_parallel(lists) -%}
    {%- for list, name in lists %}
    unnest({{ list }}) as {{ name }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}


{#
  `body` with `name` bound to the value of `expression` (which is evaluated once), written as a
  lambda over a one-element list: a "let" that both engines understand.
#}
{% macro bind_value(name, expression, body=none) -%}
    {%- set body = caller() if body is none else body -%}
    {{ list_element(list_transform(list_of([expression]), name, body), 1) }}
{%- endmacro %}


{# An empty list literal. #}
{% macro empty_list() -%}
    {{ return(adapter.dispatch('empty_list', 'microfunnel')()) }}
{%- endmacro %}

{% macro default__empty_list() -%}
    array()
{%- endmacro %}

{% macro duckdb__empty_list() -%}
    []
{%- endmacro %}


{# A list literal of the given element expressions. #}
{% macro list_of(elements) -%}
    {{ return(adapter.dispatch('list_of', 'microfunnel')(elements)) }}
{%- endmacro %}

{% macro default__list_of(elements) -%}
    array({{ elements | join(', ') }})
{%- endmacro %}

{% macro duckdb__list_of(elements) -%}
    [{{ elements | join(', ') }}]
{%- endmacro %}
