{{ config(materialized='table') }}

{%- set max_stages = var('microfunnel__max_stages') | int %}

-- Every stage-1 event that could start a journey, walked forward greedily: stage k is the
-- first event after the one that reached k-1 (in the user's sequence) that matches stage k,
-- no later than start + window. Each candidate also knows the next candidate that could start
-- after it ends; fct_funnel_journeys follows those links from each user's first start.
with

funnels as (
    select * from {{ ref('stg_funnels__funnels') }}
),

matched as (
    select * from {{ ref('int_funnel_events_matched') }}
),

candidates as (
    select
        matched.funnel_id,
        funnels.funnel_version,
        funnels.stage_count,
        funnels.window_days,
        matched.user_key,
        matched.platform,
        matched.campaign_id,
        matched.event_date as cohort_date,
        matched.event_id as start_event_id,
        matched.event_at as started_at,
        {{ dbt.dateadd('second', 'funnels.window_seconds', 'matched.event_at') }} as deadline_at,
        matched.sequence_number as sequence_1,
        matched.event_at as stage_1_reached_at,
        matched.event_id as stage_1_event_id
    from matched
    inner join funnels
        on matched.funnel_id = funnels.funnel_id
    where matched.stage_order = 1
),

progress_1 as (
    select * from candidates
),

{% for k in range(2, max_stages + 1) %}
stage_{{ k }}_events as (
    select
        funnel_id,
        user_key,
        sequence_number,
        event_at,
        event_id
    from matched
    where stage_order = {{ k }}
),

progress_{{ k }} as (
    select
        progress_{{ k - 1 }}.*,
        case
            when {{ funnel_step_reached(k) }}
                then stage_{{ k }}_events.sequence_number
        end as sequence_{{ k }},
        case
            when {{ funnel_step_reached(k) }}
                then stage_{{ k }}_events.event_at
        end as stage_{{ k }}_reached_at,
        case
            when {{ funnel_step_reached(k) }}
                then stage_{{ k }}_events.event_id
        end as stage_{{ k }}_event_id
    from progress_{{ k - 1 }}
    asof left join stage_{{ k }}_events
        on
            progress_{{ k - 1 }}.funnel_id = stage_{{ k }}_events.funnel_id
            and progress_{{ k - 1 }}.user_key = stage_{{ k }}_events.user_key
            and stage_{{ k }}_events.sequence_number > progress_{{ k - 1 }}.sequence_{{ k - 1 }}
),
{% endfor %}

candidate_journeys as (
    select
        *,
        case
            {% for k in range(max_stages, 0, -1) -%}
            when stage_{{ k }}_reached_at is not null then {{ k }}
            {% endfor -%}
        end as furthest_stage
    from progress_{{ max_stages }}
),

candidate_ends as (
    select
        *,
        furthest_stage = stage_count as is_converted,
        case
            {% for k in range(2, max_stages + 1) -%}
            when furthest_stage = stage_count and stage_count = {{ k }}
                then stage_{{ k }}_reached_at
            {% endfor -%}
            else deadline_at
        end as ended_at
    from candidate_journeys
),

-- Several stage-1 events at the same instant behave as one possible start: keep the first.
chain_links as (
    select *
    from candidate_ends
    qualify row_number() over (
        partition by funnel_id, user_key, started_at order by sequence_1
    ) = 1
),

linked as (
    select
        chain_links.*,
        next_start.started_at as next_started_at
    from chain_links
    asof left join chain_links as next_start
        on
            chain_links.funnel_id = next_start.funnel_id
            and chain_links.user_key = next_start.user_key
            and next_start.started_at > chain_links.ended_at
)

select * from linked
