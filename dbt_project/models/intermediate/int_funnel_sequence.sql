{{ config(materialized='table') }}

-- One row per event of a user's funnel sequence (docs/funnels.md section 2): the events that
-- match a stage (stage 1 also needs a listed campaign when the funnel lists campaigns), with the
-- stages each matches as a bit mask and the lowest of them. fct_funnel_journeys orders them per
-- user by (event_at, lowest_stage, event_id) and walks them. Events that only match an
-- exclusion are not part of the sequence.
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
    select matches.*
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

sequence_events as (
    select
        -- Bit k-1 set when the event matches stage k (the walk's stage mask).
        cast(bit_or({{ shift_left('1', 'target_order - 1') }}) as integer) as stage_mask,
        min(target_order) as lowest_stage,
        funnel_id,
        user_key,
        event_id,
        any_value(event_at) as event_at,
        any_value(event_date) as event_date,
        any_value(event_name) as event_name,
        any_value(platform) as platform,
        any_value(campaign_id) as campaign_id,
        any_value(utm_campaign) as utm_campaign
    from stage_matches
    group by funnel_id, user_key, event_id
)

select * from sequence_events
