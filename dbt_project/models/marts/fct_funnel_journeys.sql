{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook="{{ delete_reprocessed_rows('cohort_date') }}",
    )
}}

{%- set max_stages = var('microfunnel__max_stages') | int %}

-- One row per journey (DESIGN.md 6, ordered mode). Greedy earliest matching: from a stage-1
-- event, stage k is the first event after the one that reached k-1 in the user's sequence that
-- matches stage k, no later than start + window. A journey ends at conversion or when its
-- window closes; the next journey starts at the first stage-1 event after that end.
with recursive

stages as (
    select * from {{ ref('stg_funnels__stages') }}
),

linked as (
    select * from {{ ref('int_funnel_journey_candidates') }}
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
        max(ended_at) as blocked_until,
        max(furthest_stage) as prior_furthest_stage
    from {{ this }}
    where {{ before_reprocess_range('cohort_date') }}
    group by funnel_id, user_key
),
{% else %}
kept_journeys as (
    select
        cast(null as varchar) as funnel_id,
        cast(null as varchar) as user_key,
        cast(null as timestamp) as blocked_until,
        cast(null as integer) as prior_furthest_stage
    where false
),
{% endif %}

first_links as (
    select linked.*
    from linked
    left join kept_journeys
        on
            linked.funnel_id = kept_journeys.funnel_id
            and linked.user_key = kept_journeys.user_key
    where kept_journeys.blocked_until is null or linked.started_at > kept_journeys.blocked_until
    qualify row_number() over (
        partition by linked.funnel_id, linked.user_key order by linked.started_at
    ) = 1
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
            -- Starts strictly increase along a chain, so the recursion always ends.
            and linked.started_at > journey_chain.started_at
),

-- Intent: how far the user had already gone in this funnel before this journey started.
with_history as (
    select
        journey_chain.*,
        greatest(
            coalesce(kept_journeys.prior_furthest_stage, 0),
            coalesce(
                max(journey_chain.furthest_stage) over (
                    partition by journey_chain.funnel_id, journey_chain.user_key
                    order by journey_chain.started_at
                    rows between unbounded preceding and 1 preceding
                ),
                0
            )
        ) as prior_furthest_stage
    from journey_chain
    left join kept_journeys
        on
            journey_chain.funnel_id = kept_journeys.funnel_id
            and journey_chain.user_key = kept_journeys.user_key
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
        case
            when journey_chain.prior_furthest_stage = 0 then 'early'
            when
                journey_chain.prior_furthest_stage
                >= greatest(journey_chain.stage_count - 1, 2)
                then 'late'
            else 'mid'
        end as intent_segment,
        {{ dbt.dateadd(
            'day',
            'journey_chain.window_days + ' ~ (var('microfunnel__late_data_days') | int),
            'journey_chain.cohort_date'
        ) }} < latest_export.as_of_date as is_final
    from with_history as journey_chain
    cross join latest_export
    left join stages
        on
            journey_chain.funnel_id = stages.funnel_id
            and journey_chain.furthest_stage = stages.stage_order
)

select * from final
