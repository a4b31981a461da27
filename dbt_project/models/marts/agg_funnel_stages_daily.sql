{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook="{{ delete_reprocessed_rows('cohort_date') }}",
    )
}}

-- One row per funnel, cohort date, platform, campaign and stage (every stage of the funnel,
-- zero-filled), with reach, conversion, drop-off, timing and cost per micro-commitment.
with

-- Organic journeys (no platform, no campaign) get named placeholders so every row has a key.
journeys as (
    select
        * exclude (platform, campaign_id),
        coalesce(platform, 'organic') as platform,
        coalesce(campaign_id, '(none)') as campaign_id
    from {{ ref('fct_funnel_journeys') }}
    where {{ in_reprocess_range('cohort_date') }}
),

journey_stages as (
    select
        * exclude (platform, campaign_id),
        coalesce(platform, 'organic') as platform,
        coalesce(campaign_id, '(none)') as campaign_id
    from {{ ref('fct_funnel_journey_stages') }}
    where {{ in_reprocess_range('cohort_date') }}
),

stages as (
    select * from {{ ref('stg_funnels__stages') }}
),

funnels as (
    select * from {{ ref('stg_funnels__funnels') }}
),

ad_spend as (
    select * from {{ ref('int_ad_spend_daily') }}
),

cohort_groups as (
    select
        funnel_id,
        funnel_version,
        cohort_date,
        platform,
        campaign_id,
        bool_and(is_final) as is_final
    from journeys
    group by funnel_id, funnel_version, cohort_date, platform, campaign_id
),

stage_grid as (
    select
        cohort_groups.*,
        stages.stage_order,
        stages.stage_name,
        funnels.stage_count
    from cohort_groups
    inner join stages
        on cohort_groups.funnel_id = stages.funnel_id
    inner join funnels
        on cohort_groups.funnel_id = funnels.funnel_id
),

stage_stats as (
    select
        funnel_id,
        cohort_date,
        platform,
        campaign_id,
        stage_order,
        count(*) as journeys_reached,
        count(distinct user_key) as users_reached,
        {{ quantile_linear('seconds_to_next_stage', 0.5) }} as median_seconds_to_next_stage,
        {{ quantile_linear('seconds_to_next_stage', 0.9) }} as p90_seconds_to_next_stage,
        {{ exact_sum('engaged_seconds', 1000) }} / count(*) as avg_engaged_seconds
    from journey_stages
    group by funnel_id, cohort_date, platform, campaign_id, stage_order
),

filled as (
    select
        stage_grid.*,
        coalesce(stage_stats.journeys_reached, 0) as journeys_reached,
        coalesce(stage_stats.users_reached, 0) as users_reached,
        stage_stats.median_seconds_to_next_stage,
        stage_stats.p90_seconds_to_next_stage,
        stage_stats.avg_engaged_seconds
    from stage_grid
    left join stage_stats
        on
            stage_grid.funnel_id = stage_stats.funnel_id
            and stage_grid.cohort_date = stage_stats.cohort_date
            and stage_grid.platform = stage_stats.platform
            and stage_grid.campaign_id = stage_stats.campaign_id
            and stage_grid.stage_order = stage_stats.stage_order
),

with_next as (
    select
        *,
        lead(journeys_reached) over (
            partition by funnel_id, cohort_date, platform, campaign_id order by stage_order
        ) as next_stage_journeys,
        first_value(journeys_reached) over (
            partition by funnel_id, cohort_date, platform, campaign_id order by stage_order
        ) as entry_journeys
    from filled
),

final as (
    select
        with_next.funnel_id,
        with_next.funnel_version,
        with_next.cohort_date,
        with_next.platform,
        with_next.campaign_id,
        with_next.stage_order,
        with_next.stage_name,
        cast(with_next.journeys_reached as bigint) as journeys_reached,
        cast(with_next.users_reached as bigint) as users_reached,
        cast(with_next.next_stage_journeys as bigint) as journeys_advanced,
        case
            when with_next.journeys_reached > 0 and with_next.next_stage_journeys is not null
                then with_next.next_stage_journeys * 1.0 / with_next.journeys_reached
        end as step_conversion_rate,
        case
            when with_next.entry_journeys > 0
                then with_next.journeys_reached * 1.0 / with_next.entry_journeys
        end as overall_conversion_rate,
        cast(with_next.journeys_reached - with_next.next_stage_journeys as bigint) as dropoff_count,
        with_next.median_seconds_to_next_stage,
        with_next.p90_seconds_to_next_stage,
        with_next.avg_engaged_seconds,
        ad_spend.spend,
        case
            when with_next.journeys_reached > 0
                then ad_spend.spend / with_next.journeys_reached
        end as cost_per_journey_reached,
        with_next.is_final
    from with_next
    left join ad_spend
        on
            with_next.platform = ad_spend.platform
            and with_next.campaign_id = ad_spend.campaign_id
            and with_next.cohort_date = ad_spend.report_date
)

select * from final
