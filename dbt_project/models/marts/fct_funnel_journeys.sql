{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook="{{ delete_reprocessed_rows('cohort_date') }}",
    )
}}

{%- set max_stages = var('microfunnel__max_stages') | int %}

-- One row per journey (docs/funnels.md section 2). Each user's funnel sequence is walked once,
-- in order, by a list_reduce state machine (macros/funnel_steps.sql) that reaches the stages
-- in the funnel's mode and chains the journeys (the next one starts at the first stage-1 event
-- after the previous one ended); then each journey gets its per-stage detail, attribution,
-- exclusion, drop-off point and intent segment.
with

definitions as (
    select * from {{ ref('int_funnel_definitions') }}
),

funnel_sequence as (
    select * from {{ ref('int_funnel_sequence') }}
),

events as (
    select * from {{ ref('int_events_enriched') }}
),

exclusions as (
    select * from {{ ref('stg_funnels__exclusions') }}
),

exclusion_hits as (
    select * from {{ ref('int_funnel_event_matches') }}
    where match_kind = 'exclusion'
),

intent_campaigns as (
    select * from {{ ref('stg_funnels__intent_campaigns') }}
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

-- The sequence in order (event_at, lowest stage, event_id): sorting the list of structs is
-- much faster than an ordered list() aggregate.
user_sequences as (
    select
        funnel_id,
        user_key,
        list_sort(
            list(
                struct_pack(
                    event_at := event_at,
                    lowest_stage := lowest_stage,
                    event_id := event_id,
                    stage_mask := stage_mask
                )
            )
        ) as sequence_events
    from funnel_sequence
    group by funnel_id, user_key
),

walk_inputs as (
    select
        user_sequences.funnel_id,
        user_sequences.user_key,
        user_sequences.sequence_events,
        definitions.funnel_mode,
        definitions.stage_count,
        definitions.window_us,
        definitions.walk_candidate_masks,
        definitions.walk_max_gaps_us,
        definitions.any_order_required_mask,
        -- Kept journeys (incremental runs) block new starts until the last of them ended.
        coalesce(epoch_us(kept_journeys.blocked_until), -9223372036854775807) as blocked_until_us
    from user_sequences
    inner join definitions
        on user_sequences.funnel_id = definitions.funnel_id
    left join kept_journeys
        on
            user_sequences.funnel_id = kept_journeys.funnel_id
            and user_sequences.user_key = kept_journeys.user_key
),

walk_states as (
    select
        funnel_id,
        user_key,
        funnel_mode,
        any_order_required_mask,
        sequence_events,
        list_reduce(
            -- list_reduce needs the elements in the accumulator's type.
            list_transform(
                sequence_events,
                e -> cast(
                    struct_pack(
                        t := epoch_us(e.event_at),
                        m := e.stage_mask,
                        s := null,
                        cur := null,
                        aat := null,
                        aseq := null,
                        mm := null,
                        b := null,
                        r := null,
                        js := null
                    ) as {{ funnel_walk_state_type() }}
                )
            ),
            (acc, x, i) -> {{ funnel_walk_step('acc', 'x', 'i') }},
            cast(
                struct_pack(
                    t := 0,
                    m := 0,
                    s := 0,
                    cur := 0,
                    aat := 0,
                    aseq := 0,
                    mm := 0,
                    b := blocked_until_us,
                    r := [],
                    js := []
                ) as {{ funnel_walk_state_type() }}
            )
        ) as walk_state
    from walk_inputs
),

-- Per user, the walked journeys: per stage, the position in the sequence of the event that
-- reached it (ordered, strict) or matched it (any_order), 0 or missing when none; and each
-- journey's furthest stage (any_order: a matched stage counts once every required stage
-- before it is matched), for the intent of the next ones.
walk_journey_lists as (
    select
        funnel_id,
        user_key,
        sequence_events,
        journey_positions,
        list_transform(
            journey_positions,
            positions -> list_max(
                list_transform(
                    positions,
                    (v, k) -> case
                        when
                            v > 0
                            and (
                                funnel_mode != 'any_order'
                                or list_bit_or(
                                    list_transform(
                                        positions,
                                        (w, j) -> case
                                            when w > 0 and j < k then 1 << (j - 1) else 0
                                        end
                                    )
                                ) & any_order_required_mask
                                = any_order_required_mask & ((1 << (k - 1)) - 1)
                            )
                            then k
                    end
                )
            )
        ) as journey_furthest_stages
    from (
        select
            walk_states.*,
            case
                when walk_states.walk_state.cur = 0 then walk_states.walk_state.js
                else list_append(walk_states.walk_state.js, walk_states.walk_state.r)
            end as journey_positions
        from walk_states
    ) as walked
),

walked_journeys as (
    select
        funnel_id,
        user_key,
        sequence_events,
        unnest(journey_positions) as stage_positions,
        -- The deepest stage of the user's earlier journeys (same funnel), 0 when none.
        unnest(
            list_transform(
                range(len(journey_positions)),
                n -> coalesce(list_max(journey_furthest_stages[1:n]), 0)
            )
        ) as earlier_furthest_stage
    from walk_journey_lists
),

journey_entries as (
    select
        walked_journeys.funnel_id,
        walked_journeys.user_key,
        walked_journeys.sequence_events,
        walked_journeys.stage_positions,
        walked_journeys.earlier_furthest_stage,
        definitions.funnel_version,
        definitions.funnel_mode,
        definitions.stage_count,
        definitions.window_days,
        definitions.attribution_model,
        definitions.attribution_stage_order,
        definitions.intent_mid_from_stage,
        definitions.intent_late_from_stage,
        definitions.any_order_required_mask,
        {% for k in range(1, max_stages + 1) -%}
        definitions.stage_{{ k }}_is_optional,
        {% endfor -%}
        entry_event.event_date as cohort_date,
        entry_event.event_id as start_event_id,
        entry_event.event_at as started_at,
        {{ dbt.dateadd('second', 'definitions.window_seconds', 'entry_event.event_at') }}
            as deadline_at,
        entry_event.platform as entry_platform,
        entry_event.campaign_id as entry_campaign_id,
        entry_event.utm_campaign as entry_utm_campaign
    from walked_journeys
    inner join definitions
        on walked_journeys.funnel_id = definitions.funnel_id
    inner join funnel_sequence as entry_event
        on
            walked_journeys.funnel_id = entry_event.funnel_id
            and walked_journeys.sequence_events[walked_journeys.stage_positions[1]].event_id
            = entry_event.event_id
),

-- any_order: the walk stops matching at the conversion; an optional stage still unmatched then
-- is matched by its first event after the entry within the deadline (it may come later).
journey_matches as (
    select
        *,
        case
            when
                funnel_mode = 'any_order'
                and list_bit_or(
                    list_transform(
                        stage_positions, (v, k) -> case when v > 0 then 1 << (k - 1) else 0 end
                    )
                ) & any_order_required_mask = any_order_required_mask
                then list_transform(
                    stage_positions,
                    (v, k) -> case
                        when v = 0
                            then coalesce(
                                list_filter(
                                    range(stage_positions[1] + 1, len(sequence_events) + 1),
                                    j -> ((sequence_events[j].stage_mask >> (k - 1)) & 1) = 1
                                    and sequence_events[j].event_at <= deadline_at
                                )[1],
                                0
                            )
                        else v
                    end
                )
            else stage_positions
        end as matched_positions
    from journey_entries
),

-- Stage positions: ordered / strict as walked; any_order: stage k is reached when it and every
-- required stage before it are matched, at the latest of those events (greatest ignores the
-- nulls of optional stages).
journey_positions as (
    select
        *,
        {% for k in range(1, max_stages + 1) -%}
        {%- set matched_k = 'nullif(matched_positions[' ~ k ~ '], 0)' %}
        {%- if k <= 2 %}
        {{ matched_k }} as stage_{{ k }}_sequence
        {%- else -%}
        case
            when funnel_mode != 'any_order' then {{ matched_k }}
            when
                {{ matched_k }} is not null
                {%- for j in range(2, k) %}
                and (stage_{{ j }}_is_optional or matched_positions[{{ j }}] > 0)
                {%- endfor %}
                then greatest(
                    {{ matched_k }}
                    {%- for j in range(2, k) %},
                    case when not stage_{{ j }}_is_optional then matched_positions[{{ j }}] end
                    {%- endfor %}
                )
        end as stage_{{ k }}_sequence
        {%- endif %}
        {%- if not loop.last %},{% endif %}
        {% endfor %}
    from journey_matches
),

journey_stages as (
    select
        *,
        {% for k in range(1, max_stages + 1) -%}
        sequence_events[stage_{{ k }}_sequence].event_at as stage_{{ k }}_reached_at,
        sequence_events[stage_{{ k }}_sequence].event_id as stage_{{ k }}_sequence_event_id,
        {% endfor -%}
        case
            {% for k in range(max_stages, 1, -1) -%}
            when stage_{{ k }}_sequence is not null then {{ k }}
            {% endfor -%}
            else 1
        end as furthest_stage
    from journey_positions
),

journey_chain as (
    select
        * exclude (sequence_events, stage_positions, matched_positions),
        case
            {% for k in range(2, max_stages + 1) -%}
            when stage_count = {{ k }} then stage_{{ k }}_reached_at is not null
            {% endfor -%}
            else false
        end as is_converted,
        case
            {% for k in range(2, max_stages + 1) -%}
            when stage_count = {{ k }} and stage_{{ k }}_reached_at is not null
                then stage_{{ k }}_reached_at
            {% endfor -%}
            else deadline_at
        end as ended_at,
        -- When the next reached stage (optional stages may have been skipped) was reached.
        {% for k in range(1, max_stages) -%}
        coalesce(
            {%- for j in range(k + 1, max_stages + 1) %}
            stage_{{ j }}_reached_at{% if not loop.last %},{% endif %}
            {%- endfor %}
        ) as stage_{{ k }}_next_reached_at,
        {% endfor -%}
        cast(null as timestamp) as stage_{{ max_stages }}_next_reached_at
    from journey_stages
),

-- Intent: how far the user had already gone in this funnel before this journey started.
journeys as (
    select
        journey_chain.*,
        md5(
            journey_chain.funnel_id || '|' || journey_chain.user_key
            || '|' || journey_chain.start_event_id
        ) as journey_id,
        case journey_chain.furthest_stage
            {% for k in range(1, max_stages + 1) -%}
            when {{ k }} then journey_chain.stage_{{ k }}_reached_at
            {% endfor -%}
        end as furthest_reached_at,
        greatest(
            coalesce(kept_journeys.prior_furthest_stage, 0), journey_chain.earlier_furthest_stage
        ) as prior_furthest_stage,
        case journey_chain.attribution_stage_order
            {% for k in range(1, max_stages + 1) -%}
            when {{ k }} then journey_chain.stage_{{ k }}_sequence_event_id
            {% endfor -%}
        end as attribution_event_id,
        -- The user's events any detail reads lie in [started_at, activity_until]: an optional
        -- any_order stage may be reached after the conversion.
        greatest(
            journey_chain.ended_at
            {%- for k in range(1, max_stages + 1) %},
            journey_chain.stage_{{ k }}_reached_at
            {%- endfor %}
        ) as activity_until
    from journey_chain
    left join kept_journeys
        on
            journey_chain.funnel_id = kept_journeys.funnel_id
            and journey_chain.user_key = kept_journeys.user_key
),

-- The user's events during the journey, in one range join: the last touch, the drop-off
-- point, the names and campaigns of the stage events and the engaged time in each stage
-- (every event from reaching it until the next reached stage, or the journey end for the
-- furthest stage, half-open).
journey_activity as (
    select
        max(
            struct_pack(
                event_at := events.event_at,
                event_id := events.event_id,
                platform := events.platform,
                campaign_id := events.campaign_id
            )
        ) filter (
            where events.campaign_id is not null and events.event_at <= journeys.ended_at
        ) as last_touch,
        max(
            struct_pack(
                event_at := events.event_at,
                event_id := events.event_id,
                event_name := events.event_name
            )
        ) filter (
            where events.event_at >= journeys.furthest_reached_at
            and events.event_at <= journeys.ended_at
        ) as last_event,
        count(*) filter (
            where events.event_at > journeys.furthest_reached_at
            and events.event_at <= journeys.ended_at
        ) as events_after,
        any_value(
            struct_pack(platform := events.platform, campaign_id := events.campaign_id)
        ) filter (where events.event_id = journeys.attribution_event_id) as attribution_touch,
        {% for k in range(1, max_stages + 1) -%}
        any_value(events.event_name) filter (
            where events.event_id = journeys.stage_{{ k }}_sequence_event_id
        ) as stage_{{ k }}_event_name,
        sum(events.engagement_time_ms) filter (
            where events.event_at >= journeys.stage_{{ k }}_reached_at
            and events.event_at
            < coalesce(journeys.stage_{{ k }}_next_reached_at, journeys.ended_at)
        ) as stage_{{ k }}_engagement_ms,
        {% endfor -%}
        journeys.journey_id
    from journeys
    inner join events
        on
            journeys.user_key = events.user_key
            and events.event_at >= journeys.started_at
            and events.event_at <= journeys.activity_until
    group by journeys.journey_id
),

-- Exclusions: an exclusion event between reaching `from` and reaching `to` (or the end).
exclusion_windows as (
    select
        journeys.journey_id,
        journeys.funnel_id,
        journeys.user_key,
        exclusions.exclusion_order,
        exclusions.exclusion_name,
        case exclusions.from_stage_order
            {% for k in range(1, max_stages + 1) -%}
            when {{ k }} then journeys.stage_{{ k }}_reached_at
            {% endfor -%}
        end as from_at,
        coalesce(
            case exclusions.to_stage_order
                {% for k in range(1, max_stages + 1) -%}
                when {{ k }} then journeys.stage_{{ k }}_reached_at
                {% endfor -%}
            end,
            journeys.ended_at
        ) as until_at
    from journeys
    inner join exclusions
        on journeys.funnel_id = exclusions.funnel_id
),

journey_exclusions as (
    select
        exclusion_windows.journey_id,
        min(
            struct_pack(
                event_at := exclusion_hits.event_at,
                exclusion_order := exclusion_windows.exclusion_order,
                event_id := exclusion_hits.event_id,
                exclusion_name := exclusion_windows.exclusion_name
            )
        ) as first_exclusion
    from exclusion_windows
    inner join exclusion_hits
        on
            exclusion_windows.funnel_id = exclusion_hits.funnel_id
            and exclusion_windows.user_key = exclusion_hits.user_key
            and exclusion_windows.exclusion_order = exclusion_hits.target_order
            and exclusion_hits.event_at >= exclusion_windows.from_at
            and exclusion_hits.event_at < exclusion_windows.until_at
    group by exclusion_windows.journey_id
),

attributed as (
    select
        journeys.*,
        -- The touch credited with the journey (docs/funnels.md, Attribution), stated once;
        -- platform and campaign_id below read it through DuckDB's lateral column alias.
        case
            when
                journeys.attribution_model = 'last_touch'
                and journey_activity.last_touch is not null
                then struct_pack(
                    platform := struct_extract(journey_activity.last_touch, 'platform'),
                    campaign_id := struct_extract(journey_activity.last_touch, 'campaign_id')
                )
            when
                journeys.attribution_model = 'stage'
                and struct_extract(journey_activity.attribution_touch, 'campaign_id') is not null
                then journey_activity.attribution_touch
            else struct_pack(
                platform := journeys.entry_platform, campaign_id := journeys.entry_campaign_id
            )
        end as attributed_touch,
        struct_extract(attributed_touch, 'platform') as platform,
        struct_extract(attributed_touch, 'campaign_id') as campaign_id,
        -- Drop-off point: only for journeys that did not convert.
        case when not journeys.is_converted then journey_activity.last_event end as dropoff,
        struct_extract(dropoff, 'event_id') as dropoff_event_id,
        struct_extract(dropoff, 'event_name') as dropoff_event_name,
        struct_extract(dropoff, 'event_at') as dropoff_at,
        coalesce(journey_activity.events_after, 0) as events_after,
        {% for k in range(1, max_stages + 1) -%}
        journey_activity.stage_{{ k }}_event_name,
        case
            when journeys.stage_{{ k }}_reached_at is not null
                then
                    cast(coalesce(journey_activity.stage_{{ k }}_engagement_ms, 0) as double)
                    / 1000.0
        end as stage_{{ k }}_engaged_seconds,
        {% endfor -%}
        journey_exclusions.first_exclusion
    from journeys
    left join journey_activity
        on journeys.journey_id = journey_activity.journey_id
    left join journey_exclusions
        on journeys.journey_id = journey_exclusions.journey_id
),

-- Intent from the campaign lists first: the attributed campaign id, else the entry's
-- utm_campaign.
campaign_intent as (
    select
        attributed.journey_id,
        arg_min(
            intent_campaigns.intent_segment,
            case when intent_campaigns.campaign = attributed.campaign_id then 0 else 1 end
        ) as intent_segment
    from attributed
    inner join intent_campaigns
        on
            attributed.funnel_id = intent_campaigns.funnel_id
            and intent_campaigns.campaign in (attributed.campaign_id, attributed.entry_utm_campaign)
    group by attributed.journey_id
),

final as (
    select
        attributed.funnel_id,
        attributed.funnel_version,
        attributed.journey_id,
        attributed.user_key,
        attributed.platform,
        attributed.campaign_id,
        attributed.entry_platform as first_touch_platform,
        attributed.entry_campaign_id as first_touch_campaign_id,
        attributed.attribution_model,
        attributed.cohort_date,
        attributed.started_at,
        attributed.ended_at,
        attributed.deadline_at,
        {% for k in range(1, max_stages + 1) -%}
        attributed.stage_{{ k }}_reached_at,
        attributed.stage_{{ k }}_sequence_event_id as stage_{{ k }}_event_id,
        attributed.stage_{{ k }}_event_name,
        {{ seconds_between(
            'attributed.stage_' ~ k ~ '_reached_at', 'attributed.stage_' ~ k ~ '_next_reached_at'
        ) }} as stage_{{ k }}_seconds_to_next,
        attributed.stage_{{ k }}_engaged_seconds,
        {% endfor -%}
        attributed.furthest_stage,
        case attributed.furthest_stage
            {% for k in range(1, max_stages + 1) -%}
            when {{ k }} then definitions.stage_{{ k }}_name
            {% endfor -%}
        end as furthest_stage_name,
        attributed.stage_count,
        attributed.is_converted,
        case
            when attributed.is_converted
                then {{ seconds_between('attributed.started_at', 'attributed.ended_at') }}
        end as seconds_to_convert,
        attributed.first_exclusion is not null as is_excluded,
        struct_extract(attributed.first_exclusion, 'exclusion_name') as excluded_by,
        struct_extract(attributed.first_exclusion, 'event_id') as excluded_event_id,
        attributed.dropoff_event_id,
        attributed.dropoff_event_name,
        attributed.dropoff_at,
        not attributed.is_converted and attributed.events_after = 0 as is_stalled,
        case
            when campaign_intent.intent_segment is not null then campaign_intent.intent_segment
            when attributed.prior_furthest_stage >= attributed.intent_late_from_stage then 'late'
            when attributed.prior_furthest_stage >= attributed.intent_mid_from_stage then 'mid'
            else 'early'
        end as intent_segment,
        case
            when campaign_intent.intent_segment is not null then 'campaign' else 'prior_stage'
        end as intent_rule,
        {{ dbt.dateadd(
            'day',
            'attributed.window_days + ' ~ (var('microfunnel__late_data_days') | int),
            'attributed.cohort_date'
        ) }} < latest_export.as_of_date as is_final
    from attributed
    cross join latest_export
    inner join definitions
        on attributed.funnel_id = definitions.funnel_id
    left join campaign_intent
        on attributed.journey_id = campaign_intent.journey_id
)

select * from final
