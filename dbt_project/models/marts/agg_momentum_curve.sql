{{ config(materialized='table') }}

-- P(final conversion | stage reached) per stage, per campaign, per platform and over every
-- campaign (docs/funnels.md section 6): how much each micro-commitment raises the odds.
with

journey_stages as (
    select * from {{ ref('fct_funnel_journey_stages_counted') }}
),

-- Every journey also counts in its platform's rollup and the one over every campaign.
scoped as (
    {{ scoped_rows('journey_stages', [
        'funnel_id', 'funnel_version', 'is_converted', 'stage_count', 'stage_order', 'is_reached',
    ]) }}
),

stage_stats as (
    select
        funnel_id,
        funnel_version,
        platform,
        campaign_id,
        stage_order,
        max(stage_count) as stage_count,
        count(case when is_reached then 1 end) as journeys_reached,
        count(case when is_reached and is_converted then 1 end) as journeys_converted
    from scoped
    group by funnel_id, funnel_version, platform, campaign_id, stage_order
),

stage_names as (
    select * from {{ ref('int_funnel_stage_names') }}
),

with_probability as (
    select
        stage_stats.*,
        case
            when stage_stats.journeys_reached > 0
                then
                    cast(stage_stats.journeys_converted as double)
                    / stage_stats.journeys_reached
        end as conversion_probability
    from stage_stats
),

final as (
    select
        with_probability.funnel_id,
        with_probability.funnel_version,
        with_probability.platform,
        with_probability.campaign_id,
        cast(with_probability.stage_order as integer) as stage_order,
        stage_names.stage_name,
        cast(with_probability.journeys_reached as bigint) as journeys_reached,
        cast(with_probability.journeys_converted as bigint) as journeys_converted,
        with_probability.conversion_probability,
        -- At the last stage P(convert | converted) = 1: a lift there only restates the previous
        -- stage's odds (1 / its probability), so it is left null.
        case
            when with_probability.stage_order < with_probability.stage_count
                then
                    with_probability.conversion_probability / nullif(
                        lag(with_probability.conversion_probability) over (
                            partition by
                                with_probability.funnel_id,
                                with_probability.funnel_version,
                                with_probability.platform,
                                with_probability.campaign_id
                            order by with_probability.stage_order
                        ),
                        0
                    )
        end as lift_vs_previous_stage
    from with_probability
    left join stage_names
        on
            with_probability.funnel_id = stage_names.funnel_id
            and with_probability.funnel_version = stage_names.funnel_version
            and with_probability.stage_order = stage_names.stage_order
)

select * from final
