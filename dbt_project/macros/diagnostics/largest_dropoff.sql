{#
  Finding largest_dropoff: the step that loses the most journeys. Inputs: the diagnostics mart's
  groups and steps.
#}
{% macro diagnostic_largest_dropoff(groups, steps) -%}
{%- set thresholds = diagnostics_thresholds() %}
with

-- The step that loses the most people (not the lowest rate: a small late step with a poor rate
-- loses fewer people than the entry step losing a third of everyone). Ties: the earliest step.
largest_dropoff as (
    select *
    from {{ steps }}
    qualify row_number() over (
        partition by funnel_id, funnel_version, platform, campaign_id
        order by journeys_lost desc, stage_order asc
    ) = 1
)

select
    group_totals.funnel_id,
    group_totals.funnel_version,
    group_totals.platform,
    group_totals.campaign_id,
    'largest_dropoff' as finding,
    largest_dropoff.stage_order,
    largest_dropoff.stage_name,
    largest_dropoff.next_stage_name,
    'dropoff_count' as metric_name,
    largest_dropoff.journeys_lost as metric_value,
    cast(null as double) as threshold,
    coalesce(largest_dropoff.journeys_reached, group_totals.journeys) as journeys,
    largest_dropoff.journeys_lost,
    largest_dropoff.stage_order is not null as is_flagged,
    case
        when largest_dropoff.stage_order is not null
            then
                {{ count_text('largest_dropoff.journeys_lost') }} || ' journeys ('
                || {{ percent_text('largest_dropoff.dropoff_share') }} || ' of '
                || {{ count_text('largest_dropoff.journeys_reached') }}
                || ') that reached ' || largest_dropoff.stage_name
                || ' stopped there, before ' || largest_dropoff.next_stage_name
        else 'no step reached by at least {{ thresholds.min_journeys }} journeys yet'
    end as evidence,
    group_totals.is_final
from {{ groups }} as group_totals
left join largest_dropoff
    on {{ same_diagnostic_group('group_totals', 'largest_dropoff') }}
{%- endmacro %}
