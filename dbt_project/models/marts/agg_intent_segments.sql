{{ config(**incremental_by_date('cohort_date')) }}

-- Stage reach and conversion per cohort day, platform, campaign and intent segment
-- (docs/funnels.md sections 3, 4 and 6): do returning, warmer users move faster?
with

journey_stages as (
    select * from {{ ref('fct_funnel_journey_stages_counted') }}
    where {{ in_reprocess_range('cohort_date') }}
),

stage_stats as (
    select
        funnel_id,
        funnel_version,
        cohort_date,
        platform,
        campaign_id,
        intent_segment,
        stage_order,
        max(stage_count) as stage_count,
        count(case when is_reached then 1 end) as journeys_reached,
        count(case when is_advanced then 1 end) as journeys_advanced,
        bool_and(is_final) as is_final
    from journey_stages
    group by
        funnel_id, funnel_version, cohort_date, platform, campaign_id, intent_segment, stage_order
),

with_entries as (
    select
        *,
        first_value(journeys_reached) over (
            partition by
                funnel_id, funnel_version, cohort_date, platform, campaign_id, intent_segment
            order by stage_order
        ) as entry_journeys
    from stage_stats
),

stage_names as (
    select * from {{ ref('int_funnel_stage_names') }}
),

final as (
    select
        with_entries.funnel_id,
        with_entries.funnel_version,
        with_entries.cohort_date,
        with_entries.platform,
        with_entries.campaign_id,
        with_entries.intent_segment,
        cast(with_entries.stage_order as integer) as stage_order,
        stage_names.stage_name,
        cast(with_entries.journeys_reached as bigint) as journeys_reached,
        -- The last stage has nowhere to advance to.
        cast(
            case
                when with_entries.stage_order < with_entries.stage_count
                    then with_entries.journeys_advanced
            end as bigint
        ) as journeys_advanced,
        case
            when
                with_entries.stage_order < with_entries.stage_count
                and with_entries.journeys_reached > 0
                then
                    cast(with_entries.journeys_advanced as double)
                    / with_entries.journeys_reached
        end as step_conversion_rate,
        case
            when with_entries.entry_journeys > 0
                then cast(with_entries.journeys_reached as double) / with_entries.entry_journeys
        end as overall_conversion_rate,
        with_entries.is_final
    from with_entries
    left join stage_names
        on
            with_entries.funnel_id = stage_names.funnel_id
            and with_entries.funnel_version = stage_names.funnel_version
            and with_entries.stage_order = stage_names.stage_order
)

select * from final
