{{ config(materialized='table') }}

{%- set alpha = sequence_comparison_thresholds().alpha %}

-- Micro-commitment sequence vs direct ask on the same denominator: journeys started (the
-- hook). One row per (micro funnel, direct funnel) pair and cohort day, plus one over every
-- cohort (cohort_grain 'all'). Rules and verdict wording: agg_sequence_comparison.yml;
-- the daily counts and the verdict are macros in macros/comparison/.
with

funnels as (
    select
        funnel_id,
        funnel_version,
        funnel_kind
    from {{ ref('stg_funnels__funnels') }}
),

-- Journeys of the current definitions; excluded journeys count nowhere (docs/funnels.md 3).
journeys as (
    select
        funnel_id,
        cohort_date,
        platform,
        campaign_id,
        is_converted,
        is_final
    from {{ ref('fct_funnel_journeys_counted') }}
    where not is_excluded and is_current_version
),

ad_spend as (
    select * from {{ ref('int_ad_spend_daily') }}
),

pairs as (
    select
        micro.funnel_id as micro_funnel_id,
        micro.funnel_version as micro_funnel_version,
        direct.funnel_id as direct_funnel_id,
        direct.funnel_version as direct_funnel_version
    from funnels as micro
    cross join funnels as direct
    where micro.funnel_kind = 'micro' and direct.funnel_kind = 'direct'
),

daily_sides as (
    {{ sequence_comparison_daily_sides('journeys', 'ad_spend') }}
),

-- Every cohort day on which either side of a pair has a journey.
pair_days as (
    select distinct
        pairs.*,
        daily_sides.cohort_date
    from pairs
    inner join daily_sides
        on daily_sides.funnel_id in (pairs.micro_funnel_id, pairs.direct_funnel_id)
),

by_day as (
    select
        pair_days.micro_funnel_id,
        pair_days.micro_funnel_version,
        pair_days.direct_funnel_id,
        pair_days.direct_funnel_version,
        'day' as cohort_grain,
        pair_days.cohort_date,
        coalesce(micro.entries, 0) as micro_entries,
        coalesce(micro.conversions, 0) as micro_conversions,
        micro.spend as micro_spend,
        coalesce(direct.entries, 0) as direct_entries,
        coalesce(direct.conversions, 0) as direct_conversions,
        direct.spend as direct_spend,
        coalesce(micro.is_final, true) and coalesce(direct.is_final, true) as is_final
    from pair_days
    left join daily_sides as micro
        on
            pair_days.micro_funnel_id = micro.funnel_id
            and pair_days.cohort_date = micro.cohort_date
    left join daily_sides as direct
        on
            pair_days.direct_funnel_id = direct.funnel_id
            and pair_days.cohort_date = direct.cohort_date
),

over_all as (
    select
        micro_funnel_id,
        micro_funnel_version,
        direct_funnel_id,
        direct_funnel_version,
        'all' as cohort_grain,
        cast(null as date) as cohort_date,
        sum(micro_entries) as micro_entries,
        sum(micro_conversions) as micro_conversions,
        {{ exact_sum('micro_spend') }} as micro_spend,
        sum(direct_entries) as direct_entries,
        sum(direct_conversions) as direct_conversions,
        {{ exact_sum('direct_spend') }} as direct_spend,
        bool_and(is_final) as is_final
    from by_day
    group by micro_funnel_id, micro_funnel_version, direct_funnel_id, direct_funnel_version
),

scopes as (
    select * from by_day
    union all
    select * from over_all
),

rates as (
    select
        micro_funnel_id,
        micro_funnel_version,
        direct_funnel_id,
        direct_funnel_version,
        cohort_grain,
        cohort_date,
        cast(micro_entries as bigint) as micro_entries,
        cast(micro_conversions as bigint) as micro_conversions,
        cast(direct_entries as bigint) as direct_entries,
        cast(direct_conversions as bigint) as direct_conversions,
        micro_spend,
        direct_spend,
        is_final,
        case
            when micro_entries > 0 then cast(micro_conversions as double) / micro_entries
        end as micro_conversion_rate,
        case
            when direct_entries > 0 then cast(direct_conversions as double) / direct_entries
        end as direct_conversion_rate
    from scopes
),

tested as (
    select
        *,
        {{ two_proportion_z(
            'micro_conversions', 'micro_entries', 'direct_conversions', 'direct_entries'
        ) }} as z_score
    from rates
),

statistics as (
    select
        *,
        {{ two_sided_p_value('z_score') }} as p_value
    from tested
),

verdicts as (
    {{ sequence_comparison_verdicts('statistics') }}
),

final as (
    select
        micro_funnel_id,
        micro_funnel_version,
        direct_funnel_id,
        direct_funnel_version,
        cohort_grain,
        cohort_date,
        micro_entries,
        micro_conversions,
        micro_conversion_rate,
        {{ wilson_low('micro_conversions', 'micro_entries') }} as micro_ci_low,
        {{ wilson_high('micro_conversions', 'micro_entries') }} as micro_ci_high,
        micro_spend,
        case
            when micro_conversions > 0 then micro_spend / micro_conversions
        end as micro_cost_per_conversion,
        direct_entries,
        direct_conversions,
        direct_conversion_rate,
        {{ wilson_low('direct_conversions', 'direct_entries') }} as direct_ci_low,
        {{ wilson_high('direct_conversions', 'direct_entries') }} as direct_ci_high,
        direct_spend,
        case
            when direct_conversions > 0 then direct_spend / direct_conversions
        end as direct_cost_per_conversion,
        micro_conversion_rate - direct_conversion_rate as absolute_lift,
        case
            when direct_conversion_rate > 0
                then micro_conversion_rate / direct_conversion_rate - 1.0
        end as relative_lift,
        z_score,
        p_value,
        coalesce(p_value < {{ alpha }}, false) as is_significant,
        verdict,
        is_final
    from verdicts
)

select * from final
