{#
  Finding delay_without_filter: a step that lets nearly everyone through yet takes long (it
  delays without filtering anyone). Inputs: the diagnostics mart's groups and steps.
#}
{% macro diagnostic_delay_without_filter(groups, steps) -%}
{%- set thresholds = diagnostics_thresholds() %}
with

delay_without_filter as (
    select *
    from {{ steps }}
    where
        step_conversion_rate >= {{ thresholds.pass_through }}
        and median_seconds_to_next >= {{ thresholds.delay_seconds }}
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
    'delay_without_filter' as finding,
    delay_without_filter.stage_order,
    delay_without_filter.stage_name,
    delay_without_filter.next_stage_name,
    'median_seconds_to_next_stage' as metric_name,
    delay_without_filter.median_seconds_to_next as metric_value,
    cast({{ thresholds.delay_seconds }} as double) as threshold,
    coalesce(delay_without_filter.journeys_reached, group_totals.journeys) as journeys,
    delay_without_filter.journeys_lost,
    delay_without_filter.stage_order is not null as is_flagged,
    case
        when delay_without_filter.stage_order is not null
            then
                {{ percent_text('delay_without_filter.step_conversion_rate') }} || ' of '
                || {{ count_text('delay_without_filter.journeys_reached') }}
                || ' journeys that reached ' || delay_without_filter.stage_name
                || ' went on, after a median of '
                || {{ duration_text('delay_without_filter.median_seconds_to_next') }}
                || ': the step delays without filtering anyone'
        else
            'no step of at least {{ thresholds.min_journeys }} journeys lets '
            || {{ percent_text(thresholds.pass_through) }}
            || ' or more through yet takes a median of '
            || {{ duration_text(thresholds.delay_seconds) }} || ' or more'
    end as evidence,
    group_totals.is_final
from {{ groups }} as group_totals
left join delay_without_filter
    on {{ same_diagnostic_group('group_totals', 'delay_without_filter') }}
{%- endmacro %}
