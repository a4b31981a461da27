{{ config(materialized='table') }}

{%- set max_stages = var('microfunnel__max_stages') | int %}

-- One row per event of a user's funnel sequence (docs/funnels.md section 2), with the stages it
-- matches and, for every stage m, the next event after it in the sequence that matches m
-- (next_sequence_m, next_at_m). The journey walk then needs one equi-join per step.
with

matched as (
    select * from {{ ref('int_funnel_events_matched') }}
),

sequence_events as (
    select
        funnel_id,
        user_key,
        sequence_number,
        event_id,
        event_at,
        event_date,
        event_name,
        platform,
        campaign_id,
        {% for m in range(1, max_stages + 1) -%}
        bool_or(stage_order = {{ m }}) as matches_stage_{{ m }},
        {% endfor -%}
        utm_campaign
    from matched
    group by
        funnel_id,
        user_key,
        sequence_number,
        event_id,
        event_at,
        event_date,
        event_name,
        platform,
        campaign_id,
        utm_campaign
),

final as (
    select
        {% for m in range(1, max_stages + 1) -%}
        min(sequence_number) filter (where matches_stage_{{ m }}) over later_events
            as next_sequence_{{ m }},
        -- event_at never decreases along the sequence: the first later match is the earliest.
        min(event_at) filter (where matches_stage_{{ m }}) over later_events as next_at_{{ m }},
        {% endfor -%}
        *
    from sequence_events
    window later_events as (
        partition by funnel_id, user_key
        order by sequence_number
        rows between 1 following and unbounded following
    )
)

select * from final
