{{ config(**incremental_by_date('cohort_date')) }}

-- One row per funnel, version, cohort date, platform, campaign and stage (every stage of the
-- funnel, zero-filled), with reach, advance, drop-off, timing and cost per micro-commitment
-- (docs/funnels.md section 3). Excluded journeys count only in journeys_excluded.
with

-- Organic journeys (no platform, no campaign) get named placeholders so every row has a key.
journeys as (
    select
        {{ all_columns_except(['platform', 'campaign_id']) }},
        coalesce(platform, 'organic') as platform,
        coalesce(campaign_id, '(none)') as campaign_id
    from {{ ref('fct_funnel_journeys') }}
    where {{ in_reprocess_range('cohort_date') }}
),

journey_stages as (
    select
        {{ all_columns_except(['platform', 'campaign_id']) }},
        coalesce(platform, 'organic') as platform,
        coalesce(campaign_id, '(none)') as campaign_id,
        case
            when not is_excluded and next_stage_reached_at is not null then seconds_to_next_stage
        end as advanced_seconds_to_next,
        case when not is_excluded then engaged_seconds end as counted_engaged_seconds
    from {{ ref('fct_funnel_journey_stages') }}
    where {{ in_reprocess_range('cohort_date') }}
),

stages as (
    select * from {{ ref('stg_funnels__stages') }}
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
        any_value(stage_count) as stage_count,
        bool_and(is_final) as is_final
    from journeys
    group by funnel_id, funnel_version, cohort_date, platform, campaign_id
),

stage_grid as (
    select
        cohort_groups.*,
        stages.stage_order,
        stages.stage_name
    from cohort_groups
    inner join stages
        on cohort_groups.funnel_id = stages.funnel_id
),

stage_stats as (
    select
        funnel_id,
        funnel_version,
        cohort_date,
        platform,
        campaign_id,
        stage_order,
        count(*) filter (where not is_excluded) as journeys_reached,
        count(distinct user_key) filter (where not is_excluded) as users_reached,
        -- Advanced: reached k and a deeper stage (the next reached one may skip optional ones).
        count(*) filter (
            where not is_excluded and next_stage_reached_at is not null
        ) as journeys_advanced,
        {{ quantile_linear('advanced_seconds_to_next', 0.5) }} as median_seconds_to_next_stage,
        {{ quantile_linear('advanced_seconds_to_next', 0.9) }} as p90_seconds_to_next_stage,
        {{ exact_sum('counted_engaged_seconds', 1000) }} as engaged_total,
        count(*) filter (where is_excluded) as journeys_excluded
    from journey_stages
    group by funnel_id, funnel_version, cohort_date, platform, campaign_id, stage_order
),

filled as (
    select
        stage_grid.*,
        coalesce(stage_stats.journeys_reached, 0) as journeys_reached,
        coalesce(stage_stats.users_reached, 0) as users_reached,
        coalesce(stage_stats.journeys_advanced, 0) as journeys_advanced,
        stage_stats.median_seconds_to_next_stage,
        stage_stats.p90_seconds_to_next_stage,
        case
            when stage_stats.journeys_reached > 0
                then stage_stats.engaged_total / stage_stats.journeys_reached
        end as avg_engaged_seconds,
        coalesce(stage_stats.journeys_excluded, 0) as journeys_excluded
    from stage_grid
    left join stage_stats
        on
            stage_grid.funnel_id = stage_stats.funnel_id
            and stage_grid.funnel_version = stage_stats.funnel_version
            and stage_grid.cohort_date = stage_stats.cohort_date
            and stage_grid.platform = stage_stats.platform
            and stage_grid.campaign_id = stage_stats.campaign_id
            and stage_grid.stage_order = stage_stats.stage_order
),

with_entry as (
    select
        *,
        stage_order = stage_count as is_last_stage,
        first_value(journeys_reached) over (
            partition by funnel_id, funnel_version, cohort_date, platform, campaign_id
            order by stage_order
        ) as entry_journeys
    from filled
),

final as (
    select
        with_entry.funnel_id,
        with_entry.funnel_version,
        with_entry.cohort_date,
        with_entry.platform,
        with_entry.campaign_id,
        with_entry.stage_order,
        with_entry.stage_name,
        cast(with_entry.journeys_reached as bigint) as journeys_reached,
        cast(with_entry.users_reached as bigint) as users_reached,
        case
            when not with_entry.is_last_stage then cast(with_entry.journeys_advanced as bigint)
        end as journeys_advanced,
        case
            when not with_entry.is_last_stage and with_entry.journeys_reached > 0
                then cast(with_entry.journeys_advanced as double) / with_entry.journeys_reached
        end as step_conversion_rate,
        case
            when with_entry.entry_journeys > 0
                then cast(with_entry.journeys_reached as double) / with_entry.entry_journeys
        end as overall_conversion_rate,
        case
            when not with_entry.is_last_stage
                then cast(with_entry.journeys_reached - with_entry.journeys_advanced as bigint)
        end as dropoff_count,
        with_entry.median_seconds_to_next_stage,
        with_entry.p90_seconds_to_next_stage,
        with_entry.avg_engaged_seconds,
        ad_spend.spend,
        case
            when with_entry.journeys_reached > 0
                then ad_spend.spend / with_entry.journeys_reached
        end as cost_per_journey_reached,
        cast(with_entry.journeys_excluded as bigint) as journeys_excluded,
        with_entry.is_final
    from with_entry
    left join ad_spend
        on
            with_entry.platform = ad_spend.platform
            and with_entry.campaign_id = ad_spend.campaign_id
            and with_entry.cohort_date = ad_spend.report_date
)

select * from final
