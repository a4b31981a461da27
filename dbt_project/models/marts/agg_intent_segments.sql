{{ config(materialized='table') }}

-- Stage reach and conversion per cohort day, platform, campaign and intent segment
-- (docs/funnels.md sections 3, 4 and 6): do returning, warmer users move faster?
with

journey_stages as (
    select * from {{ ref('int_funnel_journey_stages_counted') }}
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

-- Names of the current definition; journeys kept from an older version of the funnel fall
-- back to the names they recorded as their furthest stage.
current_stage_names as (
    select
        funnel_stages.funnel_id,
        funnel_definitions.funnel_version,
        funnel_stages.stage_order,
        funnel_stages.stage_name
    from {{ ref('stg_funnels__stages') }} as funnel_stages
    inner join {{ ref('stg_funnels__funnels') }} as funnel_definitions
        on funnel_stages.funnel_id = funnel_definitions.funnel_id
),

recorded_stage_names as (
    select
        funnel_id,
        funnel_version,
        furthest_stage as stage_order,
        min(furthest_stage_name) as stage_name
    from {{ ref('fct_funnel_journeys') }}
    group by funnel_id, funnel_version, furthest_stage
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
        coalesce(current_stage_names.stage_name, recorded_stage_names.stage_name) as stage_name,
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
    left join current_stage_names
        on
            with_entries.funnel_id = current_stage_names.funnel_id
            and with_entries.funnel_version = current_stage_names.funnel_version
            and with_entries.stage_order = current_stage_names.stage_order
    left join recorded_stage_names
        on
            with_entries.funnel_id = recorded_stage_names.funnel_id
            and with_entries.funnel_version = recorded_stage_names.funnel_version
            and with_entries.stage_order = recorded_stage_names.stage_order
)

select * from final
