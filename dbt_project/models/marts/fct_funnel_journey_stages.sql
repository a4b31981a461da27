{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook="{{ delete_reprocessed_rows('cohort_date') }}",
    )
}}

{%- set max_stages = var('microfunnel__max_stages') | int %}

-- One row per journey and stage it reached: when, by which event, how long until the next
-- stage, and the engaged time spent in the stage. A stage's interval runs from reaching it
-- until reaching the next one, or until the journey ends for the furthest stage (empty for
-- the converting stage); it is half-open and counts every event of the user in it.
with

journeys as (
    select * from {{ ref('fct_funnel_journeys') }}
    where {{ in_reprocess_range('cohort_date') }}
),

events as (
    select * from {{ ref('int_events_enriched') }}
),

stages as (
    select * from {{ ref('stg_funnels__stages') }}
),

reached as (
    {% for k in range(1, max_stages + 1) -%}
    select
        funnel_id,
        funnel_version,
        journey_id,
        user_key,
        platform,
        campaign_id,
        cohort_date,
        is_final,
        {{ k }} as stage_order,
        stage_{{ k }}_reached_at as reached_at,
        stage_{{ k }}_event_id as reached_event_id,
        {% if k < max_stages -%}
        stage_{{ k + 1 }}_reached_at as next_stage_reached_at,
        case
            when furthest_stage = {{ k }} then ended_at else stage_{{ k + 1 }}_reached_at
        end as interval_ended_at
        {%- else -%}
        cast(null as timestamp) as next_stage_reached_at,
        ended_at as interval_ended_at
        {%- endif %}
    from journeys
    where furthest_stage >= {{ k }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

engaged as (
    select
        reached.journey_id,
        reached.stage_order,
        cast(coalesce(sum(events.engagement_time_ms), 0) as double) / 1000.0 as engaged_seconds
    from reached
    left join events
        on
            reached.user_key = events.user_key
            and events.event_at >= reached.reached_at
            and events.event_at < reached.interval_ended_at
    group by reached.journey_id, reached.stage_order
),

final as (
    select
        reached.funnel_id,
        reached.funnel_version,
        reached.journey_id,
        reached.user_key,
        reached.platform,
        reached.campaign_id,
        reached.cohort_date,
        reached.stage_order,
        stages.stage_name,
        reached.reached_at,
        reached.reached_event_id,
        reached.next_stage_reached_at,
        case
            when reached.next_stage_reached_at is not null
                then {{ seconds_between('reached.reached_at', 'reached.next_stage_reached_at') }}
        end as seconds_to_next_stage,
        engaged.engaged_seconds,
        reached.is_final
    from reached
    inner join engaged
        on
            reached.journey_id = engaged.journey_id
            and reached.stage_order = engaged.stage_order
    left join stages
        on
            reached.funnel_id = stages.funnel_id
            and reached.stage_order = stages.stage_order
)

select * from final
