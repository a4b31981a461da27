-- A later stage can never be reached by more journeys than the stage before it.
with

stages as (
    select * from {{ ref('agg_funnel_stages_daily') }}
),

compared as (
    select
        funnel_id,
        cohort_date,
        platform,
        campaign_id,
        stage_order,
        journeys_reached,
        lag(journeys_reached) over (
            partition by funnel_id, cohort_date, platform, campaign_id order by stage_order
        ) as previous_stage_reached
    from stages
)

select * from compared
where journeys_reached > previous_stage_reached
