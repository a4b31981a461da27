{#
  Per walked journey, which stages it reached, when and by which event, per the funnel's mode
  (docs/funnels.md section 2): the entry event, any_order's late optional matches, the stage
  positions, is_converted, ended_at and each stage's next reached stage. Inputs: the walked
  journeys (funnel_journey_walk), the definitions and the funnel sequence.
#}
{% macro funnel_journey_stages(walked, definitions, sequence) -%}
{%- set max_stages = var('microfunnel__max_stages') | int %}
with

journey_entries as (
    select
        walked_journeys.funnel_id,
        walked_journeys.user_key,
        walked_journeys.sequence_events,
        walked_journeys.stage_positions,
        walked_journeys.earlier_furthest_stage,
        definitions.funnel_version,
        definitions.funnel_mode,
        definitions.stage_count,
        definitions.window_days,
        definitions.attribution_model,
        definitions.attribution_stage_order,
        definitions.intent_mid_from_stage,
        definitions.intent_late_from_stage,
        definitions.any_order_required_mask,
        {% for k in range(1, max_stages + 1) -%}
        definitions.stage_{{ k }}_is_optional,
        {% endfor -%}
        entry_event.event_date as cohort_date,
        entry_event.event_id as start_event_id,
        entry_event.event_at as started_at,
        {{ add_seconds('entry_event.event_at', 'definitions.window_seconds') }}
            as deadline_at,
        entry_event.platform as entry_platform,
        entry_event.campaign_id as entry_campaign_id,
        entry_event.utm_campaign as entry_utm_campaign
    from {{ walked }} as walked_journeys
    inner join {{ definitions }} as definitions
        on walked_journeys.funnel_id = definitions.funnel_id
    inner join {{ sequence }} as entry_event
        on
            walked_journeys.funnel_id = entry_event.funnel_id
            and {{ list_element(
                'walked_journeys.sequence_events',
                list_element('walked_journeys.stage_positions', '1')
            ) }}.event_id
            = entry_event.event_id
),

-- any_order: the walk stops matching at the conversion; an optional stage still unmatched then
-- is matched by its first event after the entry within the deadline (it may come later).
{%- set event_j = list_element('sequence_events', 'j') %}
{%- set first_later_match = list_filter(
    integer_range(
        list_element('stage_positions', '1') ~ ' + 1',
        list_length('sequence_events') ~ ' + 1'
    ),
    'j',
    '(' ~ shift_right(event_j ~ '.stage_mask', 'k - 1') ~ ' & 1) = 1 and ' ~ event_j ~ '.event_at <= deadline_at'
) %}
journey_matches as (
    select
        *,
        case
            when
                funnel_mode = 'any_order'
                and {{ list_bit_or(list_transform(
                    'stage_positions', 'v, k',
                    'case when v > 0 then ' ~ shift_left('1', 'k - 1') ~ ' else 0 end'
                )) }} & any_order_required_mask = any_order_required_mask
                then {% call list_transform('stage_positions', 'v, k') -%}
                    case
                        when v = 0
                            then coalesce({{ list_element(first_later_match, '1') }}, 0)
                        else v
                    end
                {%- endcall %}
            else stage_positions
        end as matched_positions
    from journey_entries
),

-- Stage positions: ordered / strict as walked; any_order: stage k is reached when it and every
-- required stage before it are matched, at the latest of those events (greatest ignores the
-- nulls of optional stages).
journey_positions as (
    select
        *,
        {% for k in range(1, max_stages + 1) -%}
        {%- set matched_k = 'nullif(' ~ list_element('matched_positions', k) ~ ', 0)' %}
        {%- if k <= 2 %}
        {{ matched_k }} as stage_{{ k }}_sequence
        {%- else -%}
        case
            when funnel_mode != 'any_order' then {{ matched_k }}
            when
                {{ matched_k }} is not null
                {%- for j in range(2, k) %}
                and (stage_{{ j }}_is_optional or {{ list_element('matched_positions', j) }} > 0)
                {%- endfor %}
                then greatest(
                    {{ matched_k }}
                    {%- for j in range(2, k) %},
                    case
                        when not stage_{{ j }}_is_optional
                            then {{ list_element('matched_positions', j) }}
                    end
                    {%- endfor %}
                )
        end as stage_{{ k }}_sequence
        {%- endif %}
        {%- if not loop.last %},{% endif %}
        {% endfor %}
    from journey_matches
),

journey_stages as (
    select
        *,
        {% for k in range(1, max_stages + 1) -%}
        {%- set reaching_event = list_element('sequence_events', 'stage_' ~ k ~ '_sequence') %}
        {{ reaching_event }}.event_at as stage_{{ k }}_reached_at,
        {{ reaching_event }}.event_id as stage_{{ k }}_sequence_event_id,
        {% endfor -%}
        case
            {% for k in range(max_stages, 1, -1) -%}
            when stage_{{ k }}_sequence is not null then {{ k }}
            {% endfor -%}
            else 1
        end as furthest_stage
    from journey_positions
)

select
    {{ all_columns_except(['sequence_events', 'stage_positions', 'matched_positions']) }},
    case
        {% for k in range(2, max_stages + 1) -%}
        when stage_count = {{ k }} then stage_{{ k }}_reached_at is not null
        {% endfor -%}
        else false
    end as is_converted,
    case
        {% for k in range(2, max_stages + 1) -%}
        when stage_count = {{ k }} and stage_{{ k }}_reached_at is not null
            then stage_{{ k }}_reached_at
        {% endfor -%}
        else deadline_at
    end as ended_at,
    -- When the next reached stage (optional stages may have been skipped) was reached.
    {% for k in range(1, max_stages) -%}
    coalesce(
        {%- for j in range(k + 1, max_stages + 1) %}
        stage_{{ j }}_reached_at{% if not loop.last %},{% endif %}
        {%- endfor %}
    ) as stage_{{ k }}_next_reached_at,
    {% endfor -%}
    cast(null as timestamp) as stage_{{ max_stages }}_next_reached_at
from journey_stages
{%- endmacro %}
