{{ config(**incremental_by_date('cohort_date')) }}

{%- set max_stages = var('microfunnel__max_stages') | int %}

-- One row per journey (docs/funnels.md section 2): the funnel walk, then each journey's
-- stages, detail, exclusion, attribution and intent, each a macro in macros/funnel_journeys/
-- (in this order), then the published columns. The mart stays one incremental model: the
-- journeys it keeps before the rebuilt range constrain where the walk may start.
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
        cast(null as string) as funnel_id,
        cast(null as string) as user_key,
        cast(null as timestamp) as blocked_until,
        cast(null as integer) as prior_furthest_stage
    where false
),
{% endif %}

walked_journeys as (
    {{ funnel_journey_walk('funnel_sequence', 'definitions', 'kept_journeys') }}
),

journey_stages as (
    {{ funnel_journey_stages('walked_journeys', 'definitions', 'funnel_sequence') }}
),

journeys as (
    {{ funnel_journey_summary('journey_stages', 'kept_journeys') }}
),

journey_activity as (
    {{ funnel_journey_activity('journeys', 'events') }}
),

journey_exclusions as (
    {{ funnel_journey_exclusions('journeys', 'exclusions', 'exclusion_hits') }}
),

attributed as (
    {{ funnel_journey_attribution('journeys', 'journey_activity', 'journey_exclusions') }}
),

campaign_intent as (
    {{ funnel_journey_campaign_intent('attributed', 'intent_campaigns') }}
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
        {{ struct_field('attributed.first_exclusion', 'exclusion_name') }} as excluded_by,
        {{ struct_field('attributed.first_exclusion', 'event_id') }} as excluded_event_id,
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
