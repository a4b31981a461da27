{{ config(**incremental_by_date('cohort_start', whole_weeks=true)) }}

-- Conversion trend per cohort day and ISO week, per campaign, per platform and over every
-- campaign (docs/funnels.md section 6). Excluded journeys are only counted in journeys_excluded.
-- Incremental by whole weeks: rows from the Monday before the rebuilt range are recounted.
with

all_journeys as (
    select
        funnel_id,
        funnel_version,
        cohort_date,
        platform,
        campaign_id,
        is_converted,
        seconds_to_convert,
        is_excluded,
        is_final
    from {{ ref('fct_funnel_journeys_counted') }}
),

journeys as (
    select * from all_journeys
    where {{ in_reprocess_range('cohort_date', whole_weeks=true) }}
),

-- is_final only moves forward in time, so the newest final cohort day of a funnel version
-- tells whether a week's last day is final even when that day has no journey.
final_through as (
    select
        funnel_id,
        funnel_version,
        max(cohort_date) as final_through_date
    from all_journeys
    where is_final
    group by funnel_id, funnel_version
),

periods as (
    select
        *,
        'day' as cohort_grain,
        cohort_date as cohort_start,
        cohort_date as cohort_end
    from journeys
    union all
    select
        *,
        'week' as cohort_grain,
        -- ISO weeks run from Monday to Sunday.
        cast(date_trunc('week', cohort_date) as date) as cohort_start,
        cast(date_trunc('week', cohort_date) as date) + 6 as cohort_end
    from journeys
),

-- Every journey also counts in its platform's rollup and the one over every campaign.
scoped as (
    {{ scoped_rows('periods', [
        'funnel_id', 'funnel_version', 'cohort_grain', 'cohort_start', 'cohort_end',
        'is_converted', 'seconds_to_convert', 'is_excluded', 'is_final',
    ]) }}
),

grouped as (
    select
        funnel_id,
        funnel_version,
        cohort_grain,
        cohort_start,
        cohort_end,
        platform,
        campaign_id,
        count(case when not is_excluded then 1 end) as journeys_started,
        count(case when not is_excluded and is_converted then 1 end) as journeys_converted,
        {{ quantile_linear(
            'case when not is_excluded and is_converted then seconds_to_convert end', 0.5
        ) }} as median_seconds_to_convert,
        count(case when is_excluded then 1 end) as journeys_excluded,
        bool_and(is_final) as every_journey_final
    from scoped
    group by
        funnel_id, funnel_version, cohort_grain, cohort_start, cohort_end, platform, campaign_id
),

final as (
    select
        grouped.funnel_id,
        grouped.funnel_version,
        grouped.cohort_grain,
        grouped.cohort_start,
        cast({{ iso_year('grouped.cohort_start') }} as integer) as iso_year,
        cast(extract(week from grouped.cohort_start) as integer) as iso_week,
        grouped.platform,
        grouped.campaign_id,
        cast(grouped.journeys_started as bigint) as journeys_started,
        cast(grouped.journeys_converted as bigint) as journeys_converted,
        case
            when grouped.journeys_started > 0
                then cast(grouped.journeys_converted as double) / grouped.journeys_started
        end as conversion_rate,
        grouped.median_seconds_to_convert,
        cast(grouped.journeys_excluded as bigint) as journeys_excluded,
        coalesce(
            grouped.every_journey_final
            and grouped.cohort_end <= final_through.final_through_date,
            false
        ) as is_final
    from grouped
    left join final_through
        on
            grouped.funnel_id = final_through.funnel_id
            and grouped.funnel_version = final_through.funnel_version
)

select * from final
