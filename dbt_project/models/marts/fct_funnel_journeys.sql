{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_reprocessed_rows('cohort_date') }}",
    )
}}

{%- set max_stages = var('microfunnel__max_stages') | int %}

-- One row per journey (DESIGN.md 6, ordered mode). Greedy earliest matching: from a stage-1
-- event, stage k is the first event after the one that reached k-1 in the user's sequence that
-- matches stage k, no later than start + window. A journey ends at conversion or when its
-- window closes; the next journey starts at the first stage-1 event after that end.
with recursive

funnels as (
    select * from {{ ref('stg_funnels__funnels') }}
),

stages as (
    select * from {{ ref('stg_funnels__stages') }}
),

matched as (
    select * from {{ ref('int_funnel_events_matched') }}
),

latest_export as (
    select max(export_date) as as_of_date from {{ ref('stg_lake__events') }}
),

{% if is_incremental() and reprocess_from() is not none %}
kept_journeys as (
    -- Journeys before the rebuilt range stay as they are; a user's next journey may only
    -- start after the last of them ended.
    select
        funnel_id,
        user_key,
        max(ended_at) as blocked_until
    from {{ this }}
    where {{ before_reprocess_range('cohort_date') }}
    group by funnel_id, user_key
),
{% else %}
kept_journeys as (
    select
        cast(null as varchar) as funnel_id,
        cast(null as varchar) as user_key,
        cast(null as timestamp) as blocked_until
    where false
),
{% endif %}

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
    left join kept_journeys
        on
            matched.funnel_id = kept_journeys.funnel_id
            and matched.user_key = kept_journeys.user_key
    where
        matched.stage_order = 1
        and (kept_journeys.blocked_until is null or matched.event_at > kept_journeys.blocked_until)
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
            when stage_{{ k }}_events.event_at <= progress_{{ k - 1 }}.deadline_at
                then stage_{{ k }}_events.sequence_number
        end as sequence_{{ k }},
        case
            when stage_{{ k }}_events.event_at <= progress_{{ k - 1 }}.deadline_at
                then stage_{{ k }}_events.event_at
        end as stage_{{ k }}_reached_at,
        case
            when stage_{{ k }}_events.event_at <= progress_{{ k - 1 }}.deadline_at
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
        {% for k in range(max_stages, 0, -1) -%}
            {% if loop.first %}case{% endif %}
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
            when furthest_stage = stage_count and stage_count = {{ k }} then stage_{{ k }}_reached_at
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
),

first_links as (
    select *
    from linked
    qualify row_number() over (partition by funnel_id, user_key order by started_at) = 1
),

journey_chain as (
    select * from first_links
    union all
    select linked.*
    from journey_chain
    inner join linked
        on
            journey_chain.funnel_id = linked.funnel_id
            and journey_chain.user_key = linked.user_key
            and journey_chain.next_started_at = linked.started_at
),

final as (
    select
        journey_chain.funnel_id,
        journey_chain.funnel_version,
        md5(
            journey_chain.funnel_id || '|' || journey_chain.user_key
            || '|' || journey_chain.start_event_id
        ) as journey_id,
        journey_chain.user_key,
        journey_chain.platform,
        journey_chain.campaign_id,
        journey_chain.cohort_date,
        journey_chain.started_at,
        journey_chain.ended_at,
        journey_chain.deadline_at,
        {% for k in range(1, max_stages + 1) -%}
        journey_chain.stage_{{ k }}_reached_at,
        journey_chain.stage_{{ k }}_event_id,
        {% endfor -%}
        journey_chain.furthest_stage,
        stages.stage_name as furthest_stage_name,
        journey_chain.stage_count,
        journey_chain.is_converted,
        case
            when journey_chain.is_converted
                then {{ seconds_between('journey_chain.started_at', 'journey_chain.ended_at') }}
        end as seconds_to_convert,
        {{ dbt.dateadd(
            'day',
            'journey_chain.window_days + ' ~ (var('microfunnel__late_data_days') | int),
            'journey_chain.cohort_date'
        ) }} < latest_export.as_of_date as is_final
    from journey_chain
    cross join latest_export
    left join stages
        on
            journey_chain.funnel_id = stages.funnel_id
            and journey_chain.furthest_stage = stages.stage_order
)

select * from final
