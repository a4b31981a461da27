{#
  Finding stalled_journeys: the share of journeys that stalled (the user did nothing after
  reaching a stage) and the stage where most of them stopped. Inputs: the diagnostics mart's
  groups, grouped journeys and stages.
#}
{% macro diagnostic_stalled_journeys(groups, grouped_journeys, stages) -%}
{%- set thresholds = diagnostics_thresholds() %}
with

-- The stage where most stalled journeys stopped (ties: the earliest stage).
stalled_stage as (
    select
        grouped_journeys.funnel_id,
        grouped_journeys.funnel_version,
        grouped_journeys.platform,
        grouped_journeys.campaign_id,
        grouped_journeys.furthest_stage as stage_order,
        count(*) as stalled_here
    from {{ grouped_journeys }} as grouped_journeys
    where grouped_journeys.is_stalled
    group by
        grouped_journeys.funnel_id,
        grouped_journeys.funnel_version,
        grouped_journeys.platform,
        grouped_journeys.campaign_id,
        grouped_journeys.furthest_stage
    qualify row_number() over (
        partition by
            grouped_journeys.funnel_id,
            grouped_journeys.funnel_version,
            grouped_journeys.platform,
            grouped_journeys.campaign_id
        order by count(*) desc, grouped_journeys.furthest_stage
    ) = 1
)

select
    groups.funnel_id,
    groups.funnel_version,
    groups.platform,
    groups.campaign_id,
    'stalled_journeys' as finding,
    stalled_stage.stage_order,
    stages.stage_name,
    stages.next_stage_name,
    'stalled_share' as metric_name,
    cast(groups.stalled as double) / groups.journeys as metric_value,
    cast({{ thresholds.stalled_share }} as double) as threshold,
    groups.journeys,
    groups.stalled as journeys_lost,
    groups.journeys >= {{ thresholds.min_journeys }}
    and cast(groups.stalled as double) / groups.journeys
    >= {{ thresholds.stalled_share }} as is_flagged,
    case
        when groups.stalled = 0
            then 'none of ' || {{ count_text('groups.journeys') }} || ' journeys stalled'
        else
            {{ percent_text('cast(groups.stalled as double) / groups.journeys') }} || ' of '
            || {{ count_text('groups.journeys') }}
            || ' journeys stalled (the user did nothing after reaching a stage), most at '
            || stages.stage_name
            || ' ('
            || {{ count_text('stalled_stage.stalled_here') }}
            || ')'
    end as evidence,
    groups.is_final
from {{ groups }} as groups
left join stalled_stage
    on {{ same_diagnostic_group('groups', 'stalled_stage') }}
left join {{ stages }} as stages
    on
        stalled_stage.funnel_id = stages.funnel_id
        and stalled_stage.stage_order = stages.stage_order
{%- endmacro %}
