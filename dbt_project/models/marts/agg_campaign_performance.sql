{{ config(**incremental_by_date('report_date')) }}

-- One row per platform, campaign and day: what the platform reports next to what the site saw
-- (journeys of the primary funnel, by cohort date).
with

ad_spend as (
    select * from {{ ref('int_ad_spend_daily') }}
    where {{ in_reprocess_range('report_date') }}
),

funnels as (
    select * from {{ ref('stg_funnels__funnels') }}
),

journeys as (
    select * from {{ ref('fct_funnel_journeys') }}
    where {{ in_reprocess_range('cohort_date') }}
),

primary_funnel as (
    select
        funnel_id,
        funnel_version
    from funnels
    where is_primary
),

campaign_journeys as (
    select
        journeys.platform,
        journeys.campaign_id,
        journeys.cohort_date,
        journeys.funnel_id,
        count(*) as journeys,
        count(*) filter (where journeys.is_converted) as conversions,
        bool_and(journeys.is_final) as is_final
    from journeys
    inner join primary_funnel
        on
            journeys.funnel_id = primary_funnel.funnel_id
            and journeys.funnel_version = primary_funnel.funnel_version
    -- Excluded journeys are left out of every count (docs/funnels.md section 2).
    where journeys.campaign_id is not null and not journeys.is_excluded
    group by journeys.platform, journeys.campaign_id, journeys.cohort_date, journeys.funnel_id
),

combined as (
    select
        coalesce(ad_spend.report_date, campaign_journeys.cohort_date) as report_date,
        coalesce(ad_spend.platform, campaign_journeys.platform) as platform,
        coalesce(ad_spend.campaign_id, campaign_journeys.campaign_id) as campaign_id,
        ad_spend.campaign_name,
        ad_spend.currency,
        coalesce(ad_spend.impressions, 0) as impressions,
        coalesce(ad_spend.clicks, 0) as clicks,
        coalesce(ad_spend.spend, 0) as spend,
        ad_spend.platform_conversions,
        ad_spend.platform_conversion_value,
        ad_spend.account_currency,
        ad_spend.account_timezone,
        ad_spend.spend_in_account_currency,
        ad_spend.exchange_rate,
        (select primary_funnel.funnel_id from primary_funnel) as funnel_id,
        (select primary_funnel.funnel_version from primary_funnel) as funnel_version,
        coalesce(campaign_journeys.journeys, 0) as journeys,
        coalesce(campaign_journeys.conversions, 0) as first_party_conversions,
        campaign_journeys.is_final
    from ad_spend
    full outer join campaign_journeys
        on
            ad_spend.platform = campaign_journeys.platform
            and ad_spend.campaign_id = campaign_journeys.campaign_id
            and ad_spend.report_date = campaign_journeys.cohort_date
),

final as (
    select
        report_date,
        platform,
        campaign_id,
        campaign_name,
        currency,
        cast(impressions as bigint) as impressions,
        cast(clicks as bigint) as clicks,
        cast(spend as double) as spend,
        case when impressions > 0 then cast(clicks as double) / impressions end as ctr,
        case when clicks > 0 then spend / clicks end as cpc,
        funnel_id,
        funnel_version,
        cast(journeys as bigint) as journeys,
        cast(first_party_conversions as bigint) as conversions,
        case
            when first_party_conversions > 0 then spend / first_party_conversions
        end as cost_per_conversion,
        platform_conversions,
        platform_conversion_value,
        cast(first_party_conversions as bigint) as first_party_conversions,
        coalesce(is_final, false) as is_final,
        account_currency,
        account_timezone,
        cast(spend_in_account_currency as double) as spend_in_account_currency,
        cast(exchange_rate as double) as exchange_rate
    from combined
)

select * from final
