{{ config(materialized='table') }}

-- One row per platform and campaign over every report day: the sums of
-- agg_campaign_performance's daily rows and the rates of those sums, what the report's campaign
-- table reads.
with

daily as (
    select * from {{ ref('agg_campaign_performance') }}
),

sums as (
    select
        platform,
        campaign_id,
        max_by(campaign_name, report_date) as campaign_name,
        max_by(currency, report_date) as currency,
        min(report_date) as first_report_date,
        max(report_date) as last_report_date,
        count(*) as report_days,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        {{ exact_sum('spend') }} as spend,
        {{ exact_sum('platform_conversions') }} as platform_conversions,
        {{ exact_sum('platform_conversion_value') }} as platform_conversion_value,
        sum(first_party_conversions) as first_party_conversions,
        bool_and(is_final) as is_final
    from daily
    group by platform, campaign_id
),

final as (
    select
        platform,
        campaign_id,
        campaign_name,
        currency,
        first_report_date,
        last_report_date,
        cast(report_days as bigint) as report_days,
        cast(impressions as bigint) as impressions,
        cast(clicks as bigint) as clicks,
        cast(spend as double) as spend,
        case when impressions > 0 then cast(clicks as double) / impressions end as ctr,
        case when clicks > 0 then cast(spend as double) / clicks end as cpc,
        cast(platform_conversions as double) as platform_conversions,
        cast(platform_conversion_value as double) as platform_conversion_value,
        cast(first_party_conversions as bigint) as first_party_conversions,
        is_final
    from sums
)

select * from final
