{#
  One step of the ordered / strict walk (docs/funnels.md section 2), for candidate stage m:
  the first event matching m after the anchor, when m is a candidate (anchor < m <= r(anchor)),
  it lies inside the window, within the stage's max gap of the anchor and, in strict mode, it
  is the very next event of the sequence. Null when it does not qualify.
#}
{% macro funnel_walk_candidate(walk, m) -%}
    case
        when
            {{ m }} > {{ walk }}.anchor_stage
            and {{ m }} <= {{ walk }}.anchor_next_required_stage
            and {{ walk }}.anchor_next_at_{{ m }} <= {{ walk }}.deadline_at
            and (
                {{ walk }}.stage_{{ m }}_max_gap_seconds is null
                or {{ seconds_between(walk ~ '.anchor_at', walk ~ '.anchor_next_at_' ~ m) }}
                <= {{ walk }}.stage_{{ m }}_max_gap_seconds
            )
            and (
                {{ walk }}.funnel_mode != 'strict'
                or {{ walk }}.anchor_next_sequence_{{ m }} = {{ walk }}.anchor_sequence + 1
            )
            then {{ walk }}.anchor_next_sequence_{{ m }}
    end
{%- endmacro %}


{# r(k) of the stage held in `stage_column`, from the wide per-stage funnel columns. #}
{% macro funnel_next_required_stage(relation, stage_column, max_stages) -%}
    case {{ stage_column }}
        {% for k in range(1, max_stages + 1) -%}
        when {{ k }} then {{ relation }}.stage_{{ k }}_next_required_stage
        {% endfor -%}
    end
{%- endmacro %}
