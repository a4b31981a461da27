{#
  Per funnel and cohort day: journeys started (entries), conversions, finality and the ad spend
  behind them (each campaign-day with journeys counts once; organic journeys have none). Inputs:
  the counted journeys (current versions, not excluded) and int_ad_spend_daily.
#}
{% macro sequence_comparison_daily_sides(journeys, ad_spend) -%}
with

daily_counts as (
    select
        funnel_id,
        cohort_date,
        count(*) as entries,
        count(*) filter (where is_converted) as conversions,
        bool_and(is_final) as is_final
    from {{ journeys }}
    group by funnel_id, cohort_date
),

-- Spend behind a funnel's journeys: each campaign-day with journeys counts once.
campaign_days as (
    select distinct
        funnel_id,
        platform,
        campaign_id,
        cohort_date
    from {{ journeys }}
    -- Organic journeys (campaign '(none)') have no spend.
    where campaign_id != '(none)'
),

daily_spend as (
    select
        campaign_days.funnel_id,
        campaign_days.cohort_date,
        {{ exact_sum('ad_spend.spend') }} as spend
    from campaign_days
    inner join {{ ad_spend }} as ad_spend
        on
            campaign_days.platform = ad_spend.platform
            and campaign_days.campaign_id = ad_spend.campaign_id
            and campaign_days.cohort_date = ad_spend.report_date
    group by campaign_days.funnel_id, campaign_days.cohort_date
)

select
    daily_counts.*,
    daily_spend.spend
from daily_counts
left join daily_spend
    on
        daily_counts.funnel_id = daily_spend.funnel_id
        and daily_counts.cohort_date = daily_spend.cohort_date
{%- endmacro %}
