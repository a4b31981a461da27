{#
  Finding asking_too_much_too_soon: a direct ask converts worse than the reference micro funnel
  (the primary one, else the first by id), tested with a two-proportion z test. Inputs: the
  diagnostics mart's groups and funnels.
#}
{% macro diagnostic_asking_too_much_too_soon(groups, funnels) -%}
{%- set thresholds = diagnostics_thresholds() %}
with

-- The micro funnel a direct ask is held against: the primary one, else the first by id.
reference_micro as (
    select
        group_totals.funnel_id,
        group_totals.journeys,
        group_totals.conversions
    from {{ groups }} as group_totals
    inner join {{ funnels }} as funnels
        on
            group_totals.funnel_id = funnels.funnel_id
            and group_totals.funnel_version = funnels.funnel_version
    where funnels.funnel_kind = 'micro' and group_totals.platform = '(all)'
    qualify row_number() over (order by funnels.is_primary desc, funnels.funnel_id asc) = 1
),

direct_vs_micro as (
    select
        group_totals.*,
        reference_micro.funnel_id as micro_funnel_id,
        reference_micro.journeys as micro_journeys,
        reference_micro.conversions as micro_conversions,
        cast(group_totals.conversions as double) / group_totals.journeys as direct_rate,
        cast(reference_micro.conversions as double) / reference_micro.journeys as micro_rate,
        {{ two_proportion_z(
            'group_totals.conversions', 'group_totals.journeys',
            'reference_micro.conversions', 'reference_micro.journeys'
        ) }} as z_score
    from {{ groups }} as group_totals
    inner join {{ funnels }} as funnels
        on
            group_totals.funnel_id = funnels.funnel_id
            and group_totals.funnel_version = funnels.funnel_version
    left join reference_micro
        on true
    where funnels.funnel_kind = 'direct'
),

direct_tested as (
    select
        *,
        {{ two_sided_p_value('z_score') }} as p_value,
        micro_journeys >= {{ thresholds.min_journeys }}
        and journeys >= {{ thresholds.min_journeys }} as is_measurable
    from direct_vs_micro
)

select
    direct_tested.funnel_id,
    direct_tested.funnel_version,
    direct_tested.platform,
    direct_tested.campaign_id,
    'asking_too_much_too_soon' as finding,
    cast(null as integer) as stage_order,
    cast(null as string) as stage_name,
    cast(null as string) as next_stage_name,
    'p_value' as metric_name,
    direct_tested.p_value as metric_value,
    cast({{ thresholds.alpha }} as double) as threshold,
    direct_tested.journeys,
    direct_tested.journeys - direct_tested.conversions as journeys_lost,
    coalesce(
        direct_tested.is_measurable
        and direct_tested.direct_rate < direct_tested.micro_rate
        and direct_tested.p_value < {{ thresholds.alpha }},
        false
    ) as is_flagged,
    case
        when direct_tested.micro_funnel_id is null then 'no micro funnel to compare with'
        when not direct_tested.is_measurable
            then
                'not measurable yet: fewer than {{ thresholds.min_journeys }} entries on a side ('
                || direct_tested.funnel_id || ' ' || {{ count_text('direct_tested.journeys') }}
                || ', ' || direct_tested.micro_funnel_id || ' '
                || {{ count_text('direct_tested.micro_journeys') }} || ')'
        else
            direct_tested.funnel_id || ' converts '
            || {{ percent_text('direct_tested.direct_rate') }} || ' of '
            || {{ count_text('direct_tested.journeys') }} || ' entries vs '
            || {{ percent_text('direct_tested.micro_rate') }} || ' of '
            || {{ count_text('direct_tested.micro_journeys') }} || ' for '
            || direct_tested.micro_funnel_id || ' (all campaigns): '
            || case
                when direct_tested.direct_rate >= direct_tested.micro_rate then 'not worse'
                when direct_tested.p_value < {{ thresholds.alpha }}
                    then
                        'worse, significant (' || {{ p_value_text('direct_tested.p_value') }}
                        || ')'
                else
                    'worse, not significant ('
                    || {{ p_value_text('direct_tested.p_value') }} || ')'
            end
    end as evidence,
    direct_tested.is_final
from direct_tested
{%- endmacro %}
