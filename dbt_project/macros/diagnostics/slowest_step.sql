{#
  Finding slowest_step: the step with the longest median time to the next stage. Inputs: the
  diagnostics mart's groups and steps.
#}
{% macro diagnostic_slowest_step(groups, steps) -%}
{%- set thresholds = diagnostics_thresholds() %}
with

slowest_step as (
    select *
    from {{ steps }}
    where median_seconds_to_next is not null
    qualify row_number() over (
        partition by funnel_id, funnel_version, platform, campaign_id
        order by median_seconds_to_next desc, stage_order asc
    ) = 1
)

select
    group_totals.funnel_id,
    group_totals.funnel_version,
    group_totals.platform,
    group_totals.campaign_id,
    'slowest_step' as finding,
    slowest_step.stage_order,
    slowest_step.stage_name,
    slowest_step.next_stage_name,
    'median_seconds_to_next_stage' as metric_name,
    slowest_step.median_seconds_to_next as metric_value,
    cast(null as double) as threshold,
    coalesce(slowest_step.journeys_reached, group_totals.journeys) as journeys,
    slowest_step.journeys_lost,
    slowest_step.stage_order is not null as is_flagged,
    case
        when slowest_step.stage_order is not null
            then
                'from ' || slowest_step.stage_name || ', the next stage took a median of '
                || {{ duration_text('slowest_step.median_seconds_to_next') }}
                || ' (' || {{ count_text('slowest_step.journeys_advanced') }} || ' of '
                || {{ count_text('slowest_step.journeys_reached') }} || ' journeys went on)'
        else
            'no timing yet: no step reached by at least {{ thresholds.min_journeys }} journeys'
            || ' had one go on'
    end as evidence,
    group_totals.is_final
from {{ groups }} as group_totals
left join slowest_step
    on {{ same_diagnostic_group('group_totals', 'slowest_step') }}
{%- endmacro %}
