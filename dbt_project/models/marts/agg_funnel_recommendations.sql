{{ config(materialized='table') }}

-- "Fix this first": the flagged findings of agg_funnel_diagnostics turned into what to change,
-- with the people and the ad spend each concerns, ranked by impact. Rules and wording:
-- agg_funnel_recommendations.yml.
with

diagnostics as (
    select * from {{ ref('agg_funnel_diagnostics') }}
),

-- Journeys of the current definitions, excluded ones left out (as in the diagnostics).
journeys as (
    select
        funnel_id,
        funnel_version,
        platform,
        campaign_id,
        cohort_date
    from {{ ref('fct_funnel_journeys_counted') }}
    where not is_excluded and is_current_version
),

ad_spend as (
    select * from {{ ref('int_ad_spend_daily') }}
),

campaign_entries as (
    select
        funnel_id,
        funnel_version,
        platform,
        campaign_id,
        count(*) as entries
    from journeys
    group by funnel_id, funnel_version, platform, campaign_id
),

-- Spend behind a group's journeys: each campaign-day with journeys counts once (as in
-- agg_sequence_comparison); organic journeys (campaign '(none)') have none.
campaign_days as (
    select distinct
        funnel_id,
        funnel_version,
        platform,
        campaign_id,
        cohort_date
    from journeys
    where campaign_id != '(none)'
),

campaign_spend as (
    select
        campaign_days.funnel_id,
        campaign_days.funnel_version,
        campaign_days.platform,
        campaign_days.campaign_id,
        {{ exact_sum('ad_spend.spend') }} as spend
    from campaign_days
    inner join ad_spend
        on
            campaign_days.platform = ad_spend.platform
            and campaign_days.campaign_id = ad_spend.campaign_id
            and campaign_days.cohort_date = ad_spend.report_date
    group by
        campaign_days.funnel_id,
        campaign_days.funnel_version,
        campaign_days.platform,
        campaign_days.campaign_id
),

campaign_groups as (
    select
        campaign_entries.funnel_id,
        campaign_entries.funnel_version,
        campaign_entries.platform,
        campaign_entries.campaign_id,
        campaign_entries.entries,
        campaign_spend.spend
    from campaign_entries
    left join campaign_spend
        on
            campaign_entries.funnel_id = campaign_spend.funnel_id
            and campaign_entries.funnel_version = campaign_spend.funnel_version
            and campaign_entries.platform = campaign_spend.platform
            and campaign_entries.campaign_id = campaign_spend.campaign_id
),

-- Every campaign also counts in the rollup over all campaigns (null spend stays null).
groups as (
    select * from campaign_groups
    union all
    select
        funnel_id,
        funnel_version,
        '(all)' as platform,
        '(all)' as campaign_id,
        sum(entries) as entries,
        {{ exact_sum('spend') }} as spend
    from campaign_groups
    group by funnel_id, funnel_version
),

-- A direct ask's only step is the ask itself: when it converts significantly worse than the
-- micro sequence, replacing it is the recommendation, not easing that step.
replaced_asks as (
    select
        funnel_id,
        funnel_version,
        platform,
        campaign_id
    from diagnostics
    where finding = 'asking_too_much_too_soon' and is_flagged
),

candidates as (
    select
        diagnostics.*,
        case diagnostics.finding
            when 'largest_dropoff' then 'ease_step'
            when 'delay_without_filter' then 'shorten_wait'
            when 'stalled_journeys' then 'follow_up_stalled'
            when 'asking_too_much_too_soon' then 'replace_direct_ask'
        end as recommendation
    from diagnostics
    left join replaced_asks
        on {{ same_diagnostic_group('diagnostics', 'replaced_asks') }}
    -- slowest_step is a ranking, not a fault: a slow step that filters people is covered by
    -- the drop-off, one that filters nobody by delay_without_filter.
    where
        diagnostics.is_flagged
        and diagnostics.finding != 'slowest_step'
        and not (diagnostics.finding = 'largest_dropoff' and replaced_asks.funnel_id is not null)
),

with_stakes as (
    select
        candidates.*,
        groups.entries,
        cast(candidates.journeys_lost as double) / nullif(groups.entries, 0) as share_at_stake,
        groups.spend * candidates.journeys_lost / nullif(groups.entries, 0) as spend_at_stake,
        case when candidates.campaign_id = '(all)' then 'funnel' else 'campaign' end as scope
    from candidates
    inner join groups
        on {{ same_diagnostic_group('candidates', 'groups') }}
),

final as (
    select
        funnel_id,
        funnel_version,
        platform,
        campaign_id,
        scope,
        cast(row_number() over (
            partition by scope
            order by
                journeys_lost desc,
                spend_at_stake desc nulls last,
                funnel_id asc,
                platform asc,
                campaign_id asc,
                recommendation asc
        ) as integer) as priority,
        recommendation,
        finding,
        stage_order,
        stage_name,
        next_stage_name,
        case recommendation
            when 'ease_step'
                then
                    'Make the step after ' || stage_name || ' easier: a smaller, clearer ask '
                    || 'to reach ' || next_stage_name
            when 'shorten_wait'
                then
                    'Cut the wait between ' || stage_name || ' and ' || next_stage_name
                    || ': nearly everyone goes on, only later'
            when 'follow_up_stalled'
                then
                    'Follow up with people who go quiet (most at ' || stage_name
                    || '): a reminder or retargeting while they are still warm'
            when 'replace_direct_ask'
                then
                    'Replace the big ask with a micro-commitment sequence: small steps '
                    || 'before the ask convert more per hook'
        -- 'action' is a non-reserved keyword (DuckDB, PostgreSQL): the plain word reads best.
        end as action,  -- noqa: RF04
        cast(journeys_lost as bigint) as journeys_at_stake,
        cast(entries as bigint) as entries,
        share_at_stake,
        cast(spend_at_stake as double) as spend_at_stake,
        evidence,
        is_final
    from with_stakes
)

select * from final
