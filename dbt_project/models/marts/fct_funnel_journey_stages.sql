{{ config(**incremental_by_date('cohort_date')) }}

{%- set max_stages = var('microfunnel__max_stages') | int %}

-- One row per journey and stage it reached (the long form of fct_funnel_journeys): when, by
-- which event, how long until the next reached stage, and the engaged time spent in the stage.
with

journeys as (
    select * from {{ ref('fct_funnel_journeys') }}
    where {{ in_reprocess_range('cohort_date') }}
),

definitions as (
    select * from {{ ref('int_funnel_definitions') }}
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
        {{ k }} as stage_order,
        stage_{{ k }}_reached_at as reached_at,
        stage_{{ k }}_event_id as reached_event_id,
        stage_{{ k }}_event_name as reached_event_name,
        -- The next reached stage: optional stages in between may have been skipped.
        {% if k < max_stages -%}
        coalesce(
            {%- for j in range(k + 1, max_stages + 1) %}
            stage_{{ j }}_reached_at{% if not loop.last %},{% endif %}
            {%- endfor %}
        ) as next_stage_reached_at,
        {%- else -%}
        cast(null as timestamp) as next_stage_reached_at,
        {%- endif %}
        stage_{{ k }}_seconds_to_next as seconds_to_next_stage,
        stage_{{ k }}_engaged_seconds as engaged_seconds,
        is_excluded,
        is_final
    from journeys
    where stage_{{ k }}_reached_at is not null
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
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
        case reached.stage_order
            {% for k in range(1, max_stages + 1) -%}
            when {{ k }} then definitions.stage_{{ k }}_name
            {% endfor -%}
        end as stage_name,
        reached.reached_at,
        reached.reached_event_id,
        reached.reached_event_name,
        reached.next_stage_reached_at,
        reached.seconds_to_next_stage,
        reached.engaged_seconds,
        reached.is_excluded,
        reached.is_final
    from reached
    left join definitions
        on reached.funnel_id = definitions.funnel_id
)

select * from final
