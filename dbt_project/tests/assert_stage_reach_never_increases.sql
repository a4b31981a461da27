{{ config(meta={'dagster': {'ref': {'name': 'agg_funnel_stages_daily'}}}) }}
-- A stage can never be reached by more journeys than the last required stage before it
-- (optional stages may be skipped, so only required ones bound the stages after them).
with

stages as (
    select * from {{ ref('agg_funnel_stages_daily') }}
),

funnel_stages as (
    select * from {{ ref('stg_funnels__stages') }}
),

compared as (
    select
        stages.funnel_id,
        stages.funnel_version,
        stages.cohort_date,
        stages.platform,
        stages.campaign_id,
        stages.stage_order,
        stages.journeys_reached,
        {{ last_value_ignoring_nulls(
            'case when not funnel_stages.is_optional then stages.journeys_reached end'
        ) }} over (
            partition by
                stages.funnel_id,
                stages.funnel_version,
                stages.cohort_date,
                stages.platform,
                stages.campaign_id
            order by stages.stage_order
            rows between unbounded preceding and 1 preceding
        ) as previous_required_stage_reached
    from stages
    inner join funnel_stages
        on
            stages.funnel_id = funnel_stages.funnel_id
            and stages.stage_order = funnel_stages.stage_order
)

select * from compared
where journeys_reached > previous_required_stage_reached
