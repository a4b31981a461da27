{{ config(materialized='table') }}

{%- set max_stages = var('microfunnel__max_stages', 8) %}
{%- set min_journeys = diagnostics_thresholds().min_journeys %}

-- What to fix in a funnel, one row per finding, per funnel, platform and campaign (plus the
-- '(all)' rollup), over every cohort present. Rules and evidence wording:
-- agg_funnel_diagnostics.yml. Each finding is a macro in macros/diagnostics/ over the groups
-- and steps below.
with

funnels as (
    select
        funnel_id,
        funnel_version,
        funnel_kind,
        is_primary,
        stage_count
    from {{ ref('stg_funnels__funnels') }}
),

stages as (
    select
        funnel_id,
        stage_order,
        stage_name,
        lead(stage_name) over (partition by funnel_id order by stage_order) as next_stage_name
    from {{ ref('stg_funnels__stages') }}
),

-- Journeys of the current definitions, excluded ones left out.
journeys as (
    select * from {{ ref('fct_funnel_journeys_counted') }}
    where not is_excluded and is_current_version
),

-- Every journey also counts in the rollup over all campaigns.
grouped_journeys as (
    select
        {{ all_columns_except(['platform', 'campaign_id']) }},
        platform,
        campaign_id
    from journeys
    union all
    select
        {{ all_columns_except(['platform', 'campaign_id']) }},
        '(all)' as platform,
        '(all)' as campaign_id
    from journeys
),

groups as (
    select
        funnel_id,
        funnel_version,
        platform,
        campaign_id,
        count(*) as journeys,
        count(*) filter (where is_converted) as conversions,
        count(*) filter (where is_stalled) as stalled,
        bool_and(is_final) as is_final
    from grouped_journeys
    group by funnel_id, funnel_version, platform, campaign_id
),

-- One row per journey and reached stage (a skipped optional stage is not reached).
journey_stages as (
    {%- for k in range(1, max_stages + 1) %}
    select
        funnel_id,
        funnel_version,
        platform,
        campaign_id,
        {{ k }} as stage_order,
        furthest_stage > {{ k }} as is_advanced,
        stage_{{ k }}_seconds_to_next as seconds_to_next
    from grouped_journeys
    where stage_{{ k }}_reached_at is not null
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

-- Steps (every stage but the last) with enough journeys to judge.
steps as (
    select
        journey_stages.funnel_id,
        journey_stages.funnel_version,
        journey_stages.platform,
        journey_stages.campaign_id,
        journey_stages.stage_order,
        stages.stage_name,
        stages.next_stage_name,
        count(*) as journeys_reached,
        count(*) filter (where journey_stages.is_advanced) as journeys_advanced,
        count(*) filter (where not journey_stages.is_advanced) as journeys_lost,
        cast(count(*) filter (where journey_stages.is_advanced) as double)
        / count(*) as step_conversion_rate,
        cast(count(*) filter (where not journey_stages.is_advanced) as double)
        / count(*) as dropoff_share,
        {{ quantile_linear('journey_stages.seconds_to_next', 0.5) }} as median_seconds_to_next
    from journey_stages
    inner join stages
        on
            journey_stages.funnel_id = stages.funnel_id
            and journey_stages.stage_order = stages.stage_order
    where stages.next_stage_name is not null
    group by
        journey_stages.funnel_id,
        journey_stages.funnel_version,
        journey_stages.platform,
        journey_stages.campaign_id,
        journey_stages.stage_order,
        stages.stage_name,
        stages.next_stage_name
    having count(*) >= {{ min_journeys }}
),

largest_dropoff as (
    {{ diagnostic_largest_dropoff('groups', 'steps') }}
),

slowest_step as (
    {{ diagnostic_slowest_step('groups', 'steps') }}
),

delay_without_filter as (
    {{ diagnostic_delay_without_filter('groups', 'steps') }}
),

asking_too_much_too_soon as (
    {{ diagnostic_asking_too_much_too_soon('groups', 'funnels') }}
),

stalled_journeys as (
    {{ diagnostic_stalled_journeys('groups', 'grouped_journeys', 'stages') }}
),

findings as (
    select * from largest_dropoff
    union all
    select * from slowest_step
    union all
    select * from delay_without_filter
    union all
    select * from asking_too_much_too_soon
    union all
    select * from stalled_journeys
),

final as (
    select
        funnel_id,
        funnel_version,
        platform,
        campaign_id,
        finding,
        cast(stage_order as integer) as stage_order,
        stage_name,
        next_stage_name,
        metric_name,
        cast(metric_value as double) as metric_value,
        threshold,
        cast(journeys as bigint) as journeys,
        cast(journeys_lost as bigint) as journeys_lost,
        is_flagged,
        evidence,
        is_final
    from findings
)

select * from final
