{#
  Finding stalled_journeys: the share of journeys that stalled (the user did nothing after
  reaching a stage) and the stage where most of them stopped. Inputs: the diagnostics mart's
  groups, grouped journeys and stages.
#}
{% macro diagnostic_stalled_journeys(groups, grouped_journeys, stages) -%}
{%- set thresholds = diagnostics_thresholds() %}
with

stalled_counts as (
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
),

-- The stage where most stalled journeys stopped (ties: the earliest stage).
stalled_stage as (
    select *
    from stalled_counts
    qualify row_number() over (
        partition by funnel_id, funnel_version, platform, campaign_id
        order by stalled_here desc, stage_order asc
    ) = 1
)

select
    group_totals.funnel_id,
    group_totals.funnel_version,
    group_totals.platform,
    group_totals.campaign_id,
    'stalled_journeys' as finding,
    stalled_stage.stage_order,
    stage_names.stage_name,
    stage_names.next_stage_name,
    'stalled_share' as metric_name,
    cast(group_totals.stalled as double) / group_totals.journeys as metric_value,
    cast({{ thresholds.stalled_share }} as double) as threshold,
    group_totals.journeys,
    group_totals.stalled as journeys_lost,
    group_totals.journeys >= {{ thresholds.min_journeys }}
    and cast(group_totals.stalled as double) / group_totals.journeys
    >= {{ thresholds.stalled_share }} as is_flagged,
    case
        when group_totals.stalled = 0
            then 'none of ' || {{ count_text('group_totals.journeys') }} || ' journeys stalled'
        else
            {{ percent_text('cast(group_totals.stalled as double) / group_totals.journeys') }} || ' of '
            || {{ count_text('group_totals.journeys') }}
            || ' journeys stalled (the user did nothing after reaching a stage), most at '
            || stage_names.stage_name
            || ' ('
            || {{ count_text('stalled_stage.stalled_here') }}
            || ')'
    end as evidence,
    group_totals.is_final
from {{ groups }} as group_totals
left join stalled_stage
    on {{ same_diagnostic_group('group_totals', 'stalled_stage') }}
left join {{ stages }} as stage_names
    on
        stalled_stage.funnel_id = stage_names.funnel_id
        and stalled_stage.stage_order = stage_names.stage_order
{%- endmacro %}
