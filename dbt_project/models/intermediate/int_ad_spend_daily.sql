-- Ad platform numbers per platform, campaign and report day, the grain the funnel marts join on.
-- Money and conversions are summed at micro precision so re-runs give identical doubles.
with

ad_performance as (
    select * from {{ ref('stg_lake__ad_performance') }}
),

daily as (
    select
        platform,
        campaign_id,
        report_date,
        {{ value_at_max('campaign_name', 'loaded_at') }} as campaign_name,
        {{ value_at_max('currency', 'loaded_at') }} as currency,
        cast(sum(impressions) as bigint) as impressions,
        cast(sum(clicks) as bigint) as clicks,
        {{ exact_sum('spend') }} as spend,
        {{ exact_sum('conversions') }} as platform_conversions,
        {{ exact_sum('conversion_value') }} as platform_conversion_value
    from ad_performance
    group by platform, campaign_id, report_date
)

select * from daily
