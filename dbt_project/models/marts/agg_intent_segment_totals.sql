{{ config(materialized='table') }}

-- Stage reach per intent segment over every cohort present, per funnel version and scope: each
-- campaign, each platform and every campaign (docs/funnels.md section 6). Counts are sums of
-- agg_intent_segments' daily rows; the report reads these rows as they are.
with

daily as (
    select * from {{ ref('agg_intent_segments') }}
),

scoped as (
    {{ scoped_rows('daily', [
        'funnel_id', 'funnel_version', 'cohort_date', 'intent_segment', 'stage_order',
        'stage_name', 'journeys_reached', 'journeys_advanced', 'is_final',
    ]) }}
),

segment_sums as (
    select
        funnel_id,
        funnel_version,
        platform,
        campaign_id,
        intent_segment,
        stage_order,
        max_by(stage_name, cohort_date) as stage_name,
        sum(journeys_reached) as journeys_reached,
        -- Null at the last stage, where no journey can advance.
        sum(journeys_advanced) as journeys_advanced,
        bool_and(is_final) as is_final
    from scoped
    group by funnel_id, funnel_version, platform, campaign_id, intent_segment, stage_order
),

with_entries as (
    select
        *,
        first_value(journeys_reached) over (
            partition by funnel_id, funnel_version, platform, campaign_id, intent_segment
            order by stage_order
        ) as entry_journeys
    from segment_sums
),

final as (
    select
        funnel_id,
        funnel_version,
        platform,
        campaign_id,
        intent_segment,
        cast(stage_order as integer) as stage_order,
        stage_name,
        cast(journeys_reached as bigint) as journeys_reached,
        cast(journeys_advanced as bigint) as journeys_advanced,
        case
            when journeys_reached > 0 then cast(journeys_advanced as double) / journeys_reached
        end as step_conversion_rate,
        case
            when entry_journeys > 0 then cast(journeys_reached as double) / entry_journeys
        end as overall_conversion_rate,
        is_final
    from with_entries
)

select * from final
