{#
  Exclusions (docs/funnels.md section 3): per journey its first exclusion event between reaching
  an exclusion's `from` stage and reaching its `to` stage (or the journey end), as the struct
  first_exclusion. Inputs: funnel_journey_summary, the exclusions (stg_funnels__exclusions) and
  their matched events (int_funnel_event_matches, match_kind 'exclusion').
#}
{% macro funnel_journey_exclusions(journeys, exclusions, exclusion_hits) -%}
{%- set max_stages = var('microfunnel__max_stages') | int %}
with

exclusion_windows as (
    select
        journeys.journey_id,
        journeys.funnel_id,
        journeys.user_key,
        exclusions.exclusion_order,
        exclusions.exclusion_name,
        case exclusions.from_stage_order
            {% for k in range(1, max_stages + 1) -%}
            when {{ k }} then journeys.stage_{{ k }}_reached_at
            {% endfor -%}
        end as from_at,
        coalesce(
            case exclusions.to_stage_order
                {% for k in range(1, max_stages + 1) -%}
                when {{ k }} then journeys.stage_{{ k }}_reached_at
                {% endfor -%}
            end,
            journeys.ended_at
        ) as until_at
    from {{ journeys }} as journeys
    inner join {{ exclusions }} as exclusions
        on journeys.funnel_id = exclusions.funnel_id
)

select
    exclusion_windows.journey_id,
    min(
        {{ struct_of([
            ('event_at', 'exclusion_hits.event_at'),
            ('exclusion_order', 'exclusion_windows.exclusion_order'),
            ('event_id', 'exclusion_hits.event_id'),
            ('exclusion_name', 'exclusion_windows.exclusion_name'),
        ]) }}
    ) as first_exclusion
from exclusion_windows
inner join {{ exclusion_hits }} as exclusion_hits
    on
        exclusion_windows.funnel_id = exclusion_hits.funnel_id
        and exclusion_windows.user_key = exclusion_hits.user_key
        and exclusion_windows.exclusion_order = exclusion_hits.target_order
        and exclusion_hits.event_at >= exclusion_windows.from_at
        and exclusion_hits.event_at < exclusion_windows.until_at
group by exclusion_windows.journey_id
{%- endmacro %}
