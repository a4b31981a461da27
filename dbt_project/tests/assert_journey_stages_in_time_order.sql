{{ config(meta={'dagster': {'ref': {'name': 'fct_funnel_journeys'}}}) }}
{%- set max_stages = var('microfunnel__max_stages') | int %}

-- Journeys are consistent with docs/funnels.md section 2: stage 1 is the entry, a reached stage
-- implies every required stage before it was reached, ordered and strict walks reach stages in
-- time order, the journey ends inside its window, and conversion means the last stage.
with

journeys as (
    select * from {{ ref('fct_funnel_journeys') }}
),

definitions as (
    select * from {{ ref('int_funnel_definitions') }}
),

checks as (
    select
        journeys.*,
        {% for k in range(2, max_stages + 1) -%}
        coalesce(
            (
                journeys.stage_{{ k }}_reached_at is not null
                and journeys.stage_{{ k - 1 }}_reached_at is null
                and not definitions.stage_{{ k - 1 }}_is_optional
            )
            or (
                definitions.funnel_mode != 'any_order'
                {#- started_at (= stage 1's time) keeps greatest() at two arguments or more. #}
                and journeys.stage_{{ k }}_reached_at < greatest(
                    journeys.started_at,
                    {%- for j in range(1, k) %}
                    journeys.stage_{{ j }}_reached_at{% if not loop.last %},{% endif %}
                    {%- endfor %}
                )
            ),
            false
        ) as stage_{{ k }}_inconsistent,
        {% endfor -%}
        coalesce(
            journeys.stage_1_reached_at != journeys.started_at
            or journeys.ended_at > journeys.deadline_at
            or journeys.ended_at < journeys.started_at
            or journeys.furthest_stage > journeys.stage_count
            or journeys.is_converted != (journeys.furthest_stage = journeys.stage_count)
            or (journeys.is_converted and journeys.seconds_to_convert is null)
            or (journeys.is_excluded and journeys.excluded_by is null),
            true
        ) as journey_inconsistent
    from journeys
    inner join definitions
        on journeys.funnel_id = definitions.funnel_id
)

select *
from checks
where greatest(
    journey_inconsistent
    {%- for k in range(2, max_stages + 1) %},
    stage_{{ k }}_inconsistent
    {%- endfor %}
)
