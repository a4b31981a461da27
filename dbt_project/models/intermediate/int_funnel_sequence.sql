{{ config(materialized='table') }}

{%- set max_stages = var('microfunnel__max_stages') | int %}

-- One row per event of a user's funnel sequence (docs/funnels.md section 2): the events that
-- match a stage (stage 1 also needs a listed campaign when the funnel lists campaigns), ordered
-- by (event_at, lowest stage matched, event_id). Each row knows the stages it matches and, for
-- every stage m, the next event after it in the sequence that matches m (next_sequence_m,
-- next_at_m), so the journey walk needs one equi-join per step. Events that only match an
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
        {% for m in range(1, max_stages + 1) -%}
        bool_or(target_order = {{ m }}) as matches_stage_{{ m }},
        {% endfor -%}
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
),

positioned as (
    select
        *,
        row_number() over (
            partition by funnel_id, user_key
            order by event_at, lowest_stage, event_id
        ) as sequence_number
    from sequence_events
),

final as (
    select
        {% for m in range(1, max_stages + 1) -%}
        min(sequence_number) filter (where matches_stage_{{ m }}) over later_events
            as next_sequence_{{ m }},
        -- event_at never decreases along the sequence: the first later match is the earliest.
        min(event_at) filter (where matches_stage_{{ m }}) over later_events as next_at_{{ m }},
        {% endfor -%}
        *
    from positioned
    window later_events as (
        partition by funnel_id, user_key
        order by sequence_number
        rows between 1 following and unbounded following
    )
)

select * from final
