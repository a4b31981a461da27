-- Stages are reached in order, within the window, and conversion ends the journey.
with

journeys as (
    select * from {{ ref('fct_funnel_journeys') }}
)

select *
from journeys
where
    stage_2_reached_at < stage_1_reached_at
    or stage_3_reached_at < stage_2_reached_at
    or stage_4_reached_at < stage_3_reached_at
    or stage_5_reached_at < stage_4_reached_at
    or ended_at > deadline_at
    or ended_at < started_at
    or (stage_2_reached_at is null and stage_3_reached_at is not null)
    or (is_converted and seconds_to_convert is null)
    or furthest_stage > stage_count
