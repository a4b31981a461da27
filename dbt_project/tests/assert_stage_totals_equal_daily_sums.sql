{{ config(meta={'dagster': {'ref': {'name': 'agg_funnel_stage_totals'}}}) }}
-- Each campaign's stage totals, and the totals over every campaign, are the sums of the daily
-- mart's rows: any stage where reach, advance or spend differ is returned.
with

daily as (
    select * from {{ ref('agg_funnel_stages_daily') }}
),

totals as (
    select * from {{ ref('agg_funnel_stage_totals') }}
),

campaign_spend as (
    select
        funnel_id,
        funnel_version,
        platform,
        campaign_id,
        cohort_date,
        max(spend) as spend
    from daily
    group by funnel_id, funnel_version, platform, campaign_id, cohort_date
),

daily_sums as (
    select
        funnel_id,
        funnel_version,
        platform,
        campaign_id,
        stage_order,
        sum(journeys_reached) as journeys_reached,
        sum(journeys_advanced) as journeys_advanced
    from daily
    group by funnel_id, funnel_version, platform, campaign_id, stage_order
    union all
    select
        funnel_id,
        funnel_version,
        '(all)' as platform,
        '(all)' as campaign_id,
        stage_order,
        sum(journeys_reached) as journeys_reached,
        sum(journeys_advanced) as journeys_advanced
    from daily
    group by funnel_id, funnel_version, stage_order
),

spend_sums as (
    select
        funnel_id,
        funnel_version,
        platform,
        campaign_id,
        sum(spend) as spend
    from campaign_spend
    group by funnel_id, funnel_version, platform, campaign_id
    union all
    select
        funnel_id,
        funnel_version,
        '(all)' as platform,
        '(all)' as campaign_id,
        sum(spend) as spend
    from campaign_spend
    group by funnel_id, funnel_version
),

expected as (
    select
        daily_sums.*,
        spend_sums.spend
    from daily_sums
    inner join spend_sums
        on
            daily_sums.funnel_id = spend_sums.funnel_id
            and daily_sums.funnel_version = spend_sums.funnel_version
            and daily_sums.platform = spend_sums.platform
            and daily_sums.campaign_id = spend_sums.campaign_id
),

published as (
    select * from totals
    where campaign_id != '(all)' or platform = '(all)'
)

select
    expected.funnel_id,
    expected.funnel_version,
    expected.platform,
    expected.campaign_id,
    expected.stage_order,
    published.journeys_reached
from expected
full outer join published
    on
        expected.funnel_id = published.funnel_id
        and expected.funnel_version = published.funnel_version
        and expected.platform = published.platform
        and expected.campaign_id = published.campaign_id
        and expected.stage_order = published.stage_order
where
    expected.journeys_reached is distinct from published.journeys_reached
    or expected.journeys_advanced is distinct from published.journeys_advanced
    or abs(coalesce(expected.spend, 0) - coalesce(published.spend, 0)) > 0.005
    or (expected.spend is null) != (published.spend is null)
