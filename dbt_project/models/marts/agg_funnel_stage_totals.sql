{{ config(materialized='table') }}

-- Stage totals over every cohort present, per funnel version and scope: each campaign, each
-- platform and every campaign (docs/funnels.md section 3). Counts are sums of the daily mart's
-- rows; medians are exact over the scope's journeys; spend is counted once per campaign and
-- cohort day. The report and the CLI read these rows as they are.
with

daily as (
    select * from {{ ref('agg_funnel_stages_daily') }}
),

scoped_stages as (
    {{ scoped_rows('daily', [
        'funnel_id', 'funnel_version', 'cohort_date', 'stage_order', 'stage_name',
        'journeys_reached', 'journeys_advanced', 'dropoff_count', 'journeys_excluded',
    ]) }}
),

stage_sums as (
    select
        funnel_id,
        funnel_version,
        platform,
        campaign_id,
        stage_order,
        max_by(stage_name, cohort_date) as stage_name,
        sum(journeys_reached) as journeys_reached,
        sum(journeys_advanced) as journeys_advanced,
        sum(dropoff_count) as dropoff_count,
        sum(journeys_excluded) as journeys_excluded
    from scoped_stages
    group by funnel_id, funnel_version, platform, campaign_id, stage_order
),

-- The campaign's spend and finality once per cohort day (they repeat on every stage row).
campaign_days as (
    select
        funnel_id,
        funnel_version,
        platform,
        campaign_id,
        cohort_date,
        max(spend) as spend,
        bool_and(is_final) as is_final
    from daily
    group by funnel_id, funnel_version, platform, campaign_id, cohort_date
),

scoped_days as (
    {{ scoped_rows('campaign_days', [
        'funnel_id', 'funnel_version', 'cohort_date', 'spend', 'is_final',
    ]) }}
),

scope_days as (
    select
        funnel_id,
        funnel_version,
        platform,
        campaign_id,
        min(cohort_date) as first_cohort_date,
        max(cohort_date) as last_cohort_date,
        count(distinct case when not is_final then cohort_date end) as provisional_cohort_days,
        {{ exact_sum('spend') }} as spend,
        bool_and(is_final) as is_final
    from scoped_days
    group by funnel_id, funnel_version, platform, campaign_id
),

-- Seconds to the next stage of the journeys that advanced, as the daily mart takes them.
advanced_stages as (
    select
        funnel_id,
        funnel_version,
        coalesce(platform, 'organic') as platform,
        coalesce(campaign_id, '(none)') as campaign_id,
        stage_order,
        seconds_to_next_stage
    from {{ ref('fct_funnel_journey_stages') }}
    where not is_excluded and next_stage_reached_at is not null
),

scoped_advanced as (
    {{ scoped_rows('advanced_stages', [
        'funnel_id', 'funnel_version', 'stage_order', 'seconds_to_next_stage',
    ]) }}
),

stage_times as (
    select
        funnel_id,
        funnel_version,
        platform,
        campaign_id,
        stage_order,
        {{ quantile_linear('seconds_to_next_stage', 0.5) }} as median_seconds_to_next_stage,
        {{ quantile_linear('seconds_to_next_stage', 0.9) }} as p90_seconds_to_next_stage
    from scoped_advanced
    group by funnel_id, funnel_version, platform, campaign_id, stage_order
),

with_scope as (
    select
        stage_sums.*,
        stage_times.median_seconds_to_next_stage,
        stage_times.p90_seconds_to_next_stage,
        scope_days.first_cohort_date,
        scope_days.last_cohort_date,
        scope_days.provisional_cohort_days,
        scope_days.spend,
        scope_days.is_final,
        max(stage_sums.stage_order) over (
            partition by stage_sums.funnel_id, stage_sums.funnel_version
        ) as stage_count
    from stage_sums
    inner join scope_days
        on
            stage_sums.funnel_id = scope_days.funnel_id
            and stage_sums.funnel_version = scope_days.funnel_version
            and stage_sums.platform = scope_days.platform
            and stage_sums.campaign_id = scope_days.campaign_id
    left join stage_times
        on
            stage_sums.funnel_id = stage_times.funnel_id
            and stage_sums.funnel_version = stage_times.funnel_version
            and stage_sums.platform = stage_times.platform
            and stage_sums.campaign_id = stage_times.campaign_id
            and stage_sums.stage_order = stage_times.stage_order
),

with_ends as (
    select
        *,
        first_value(journeys_reached) over scope_stages as entries,
        max(case when stage_order = stage_count then journeys_reached end) over (
            partition by funnel_id, funnel_version, platform, campaign_id
        ) as conversions
    from with_scope
    window scope_stages as (
        partition by funnel_id, funnel_version, platform, campaign_id order by stage_order
    )
),

final as (
    select
        funnel_id,
        funnel_version,
        platform,
        campaign_id,
        cast(stage_order as integer) as stage_order,
        stage_name,
        first_cohort_date,
        last_cohort_date,
        cast(journeys_reached as bigint) as journeys_reached,
        cast(journeys_advanced as bigint) as journeys_advanced,
        -- journeys_advanced, not the next stage's reach: right with skipped optional stages.
        case
            when stage_order < stage_count and journeys_reached > 0
                then cast(journeys_advanced as double) / journeys_reached
        end as step_conversion_rate,
        case
            when entries > 0 then cast(journeys_reached as double) / entries
        end as overall_conversion_rate,
        cast(dropoff_count as bigint) as dropoff_count,
        median_seconds_to_next_stage,
        p90_seconds_to_next_stage,
        cast(journeys_excluded as bigint) as journeys_excluded,
        cast(entries as bigint) as entries,
        cast(conversions as bigint) as conversions,
        case when entries > 0 then cast(conversions as double) / entries end as conversion_rate,
        cast(spend as double) as spend,
        case
            when conversions > 0 then cast(spend as double) / conversions
        end as cost_per_conversion,
        cast(provisional_cohort_days as bigint) as provisional_cohort_days,
        is_final
    from with_ends
)

select * from final
