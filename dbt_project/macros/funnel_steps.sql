{#
  In the greedy walk of int_funnel_journey_candidates, stage k counts only when stage k-1 was
  reached (an ASOF probe with a NULL key can still find a row) and the matching event lies
  inside the conversion window (inclusive).
#}
{% macro funnel_step_reached(k) -%}
    progress_{{ k - 1 }}.sequence_{{ k - 1 }} is not null
    and stage_{{ k }}_events.event_at <= progress_{{ k - 1 }}.deadline_at
{%- endmacro %}
