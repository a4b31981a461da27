{{ config(materialized='table') }}

-- Every (funnel, event, matcher target) an event matches: stage matchers (match_kind =
-- 'stage', target_order = stage_order) and exclusion matchers (match_kind = 'exclusion',
-- target_order = exclusion_order) share one evaluation of the filters (docs/funnels.md 1).
-- Each matcher carries its filters as a list, evaluated on the event's row by a lambda (no join
-- and group-by of one row per filter). An event matched by two entries of one target appears
-- twice: every reader groups or takes a minimum, so no distinct is spent here.
with

events as (
    select * from {{ ref('int_events_enriched') }}
),

matchers as (
    select
        funnel_id,
        'stage' as match_kind,
        stage_order as target_order,
        matcher_id,
        event_name,
        filter_count
    from {{ ref('stg_funnels__matchers') }}
    union all
    select
        funnel_id,
        'exclusion' as match_kind,
        exclusion_order as target_order,
        matcher_id,
        event_name,
        filter_count
    from {{ ref('stg_funnels__exclusion_matchers') }}
),

filters as (
    select
        funnel_id,
        'stage' as match_kind,
        stage_order as target_order,
        matcher_id,
        field_name,
        param_key,
        operator,
        value_text,
        value_number,
        value_list
    from {{ ref('stg_funnels__filters') }}
    union all
    select
        funnel_id,
        'exclusion' as match_kind,
        exclusion_order as target_order,
        matcher_id,
        field_name,
        param_key,
        operator,
        value_text,
        value_number,
        value_list
    from {{ ref('stg_funnels__exclusion_filters') }}
),

matcher_filters as (
    select
        funnel_id,
        match_kind,
        target_order,
        matcher_id,
        {{ list_agg(struct_of([
            ('field_name', 'field_name'),
            ('param_key', 'param_key'),
            ('operator', 'operator'),
            ('value_text', 'value_text'),
            ('value_number', 'value_number'),
            ('value_list', 'value_list'),
        ])) }} as filter_list
    from filters
    group by funnel_id, match_kind, target_order, matcher_id
),

matchers_with_filters as (
    select
        matchers.*,
        matcher_filters.filter_list
    from matchers
    left join matcher_filters
        on
            matchers.funnel_id = matcher_filters.funnel_id
            and matchers.match_kind = matcher_filters.match_kind
            and matchers.target_order = matcher_filters.target_order
            and matchers.matcher_id = matcher_filters.matcher_id
),

candidate_matches as (
    select
        events.event_id,
        events.user_key,
        events.event_at,
        events.event_date,
        events.platform,
        events.campaign_id,
        events.utm_campaign,
        matchers.funnel_id,
        matchers.match_kind,
        matchers.target_order,
        matchers.matcher_id,
        matchers.filter_count,
        matchers.filter_list,
        events.page_url,
        events.referrer,
        events.utm_source,
        events.utm_medium,
        events.utm_content,
        events.utm_term,
        events.utm_id,
        events.click_id,
        events.click_id_type,
        events.engagement_time_ms,
        events.value,
        events.currency,
        events.event_name,
        events.is_paid_touch,
        events.properties
    from events
    inner join matchers_with_filters as matchers
        on events.event_name = matchers.event_name
),

-- Null compares false (also for ne and not_in); the filters of an entry combine with AND.
matches as (
    select
        funnel_id,
        match_kind,
        target_order,
        user_key,
        event_id,
        event_at,
        event_date,
        event_name,
        platform,
        campaign_id,
        utm_campaign
    from candidate_matches
    where
        filter_count = 0
        or coalesce(
            {{ list_bool_and(list_transform('filter_list', 'f', bind_value(
                'field_value',
                funnel_filter_field_value('f'),
                'coalesce(' ~ funnel_filter_result('f', 'field_value') ~ ', false)'
            ))) }},
            false
        )
)

select * from matches
