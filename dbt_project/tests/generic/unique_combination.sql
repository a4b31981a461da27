{#
  The columns together identify a row. Null counts as a value (an organic row has a null
  campaign), which is why this groups instead of concatenating.
#}
{% test microfunnel_unique_combination(model, columns) %}

select
    {{ columns | join(', ') }},
    count(*) as row_count
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
