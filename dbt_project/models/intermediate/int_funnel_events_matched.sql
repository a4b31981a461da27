{{ config(materialized='table') }}

-- Every (funnel, event, stage) the event matches, and the event's position in the user's
-- sequence: ordered by time, then the lowest stage it matches, then event_id (docs/funnels.md
-- section 2). Events that only match an exclusion are not part of the sequence.
with

matches as (
    select * from {{ ref('int_funnel_event_matches') }}
    where match_kind = 'stage'
),

funnel_campaigns as (
    select * from {{ ref('stg_funnels__campaigns') }}
),

campaign_restricted_funnels as (
    select distinct funnel_id from funnel_campaigns
),

stage_matches as (
    select
        matches.funnel_id,
        matches.user_key,
        matches.event_id,
        matches.event_at,
        matches.event_date,
        matches.event_name,
        matches.target_order as stage_order,
        matches.platform,
        matches.campaign_id,
        matches.utm_campaign
    from matches
    where
        -- When a funnel lists campaigns, only their stage-1 events start its journeys.
        matches.target_order > 1
        or matches.funnel_id not in (
            select campaign_restricted_funnels.funnel_id from campaign_restricted_funnels
        )
        or exists (
            select 1
            from funnel_campaigns
            where
                funnel_campaigns.funnel_id = matches.funnel_id
                and funnel_campaigns.campaign in (matches.campaign_id, matches.utm_campaign)
        )
),

sequenced as (
    select
        *,
        min(stage_order) over (partition by funnel_id, event_id) as lowest_stage
    from stage_matches
),

positioned as (
    select
        *,
        dense_rank() over (
            partition by funnel_id, user_key
            order by event_at, lowest_stage, event_id
        ) as sequence_number
    from sequenced
)

select * from positioned
