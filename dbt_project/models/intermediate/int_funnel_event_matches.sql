{{ config(materialized='table') }}

-- Every (funnel, event, matcher target) an event matches: stage matchers (match_kind =
-- 'stage', target_order = stage_order) and exclusion matchers (match_kind = 'exclusion',
-- target_order = exclusion_order) share one evaluation of the filters (docs/funnels.md 1).
-- An event matched by two entries of one target appears twice: every reader groups or takes a
-- minimum, so no distinct (a hash over every column) is spent here.
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
    inner join matchers
        on events.event_name = matchers.event_name
),

filter_values as (
    select
        candidate_matches.event_id,
        candidate_matches.funnel_id,
        candidate_matches.match_kind,
        candidate_matches.target_order,
        candidate_matches.matcher_id,
        filters.operator,
        filters.value_text,
        filters.value_number,
        filters.value_list,
        case
            when filters.param_key is not null
                then {{ json_text('candidate_matches.properties', 'filters.param_key') }}
            when filters.field_name = 'page_url' then candidate_matches.page_url
            when filters.field_name = 'referrer' then candidate_matches.referrer
            when filters.field_name = 'utm_source' then candidate_matches.utm_source
            when filters.field_name = 'utm_medium' then candidate_matches.utm_medium
            when filters.field_name = 'utm_campaign' then candidate_matches.utm_campaign
            when filters.field_name = 'utm_content' then candidate_matches.utm_content
            when filters.field_name = 'utm_term' then candidate_matches.utm_term
            when filters.field_name = 'utm_id' then candidate_matches.utm_id
            when filters.field_name = 'click_id' then candidate_matches.click_id
            when filters.field_name = 'click_id_type' then candidate_matches.click_id_type
            when filters.field_name = 'currency' then candidate_matches.currency
            when filters.field_name = 'event_name' then candidate_matches.event_name
            when filters.field_name = 'platform' then candidate_matches.platform
            when filters.field_name = 'campaign_id' then candidate_matches.campaign_id
            when filters.field_name = 'engagement_time_ms'
                then cast(candidate_matches.engagement_time_ms as varchar)
            when filters.field_name = 'value' then cast(candidate_matches.value as varchar)
            when filters.field_name = 'is_paid_touch'
                then case when candidate_matches.is_paid_touch then 'true' else 'false' end
        end as field_value
    from candidate_matches
    inner join filters
        on
            candidate_matches.funnel_id = filters.funnel_id
            and candidate_matches.match_kind = filters.match_kind
            and candidate_matches.target_order = filters.target_order
            and candidate_matches.matcher_id = filters.matcher_id
),

filter_results as (
    select
        event_id,
        funnel_id,
        match_kind,
        target_order,
        matcher_id,
        count(*) filter (
            where coalesce(
                case operator
                    when 'eq'
                        then
                            case
                                when value_number is not null
                                    then try_cast(field_value as double) = value_number
                                else field_value = value_text
                            end
                    when 'ne'
                        then
                            case
                                when value_number is not null
                                    then try_cast(field_value as double) != value_number
                                else field_value != value_text
                            end
                    when 'in' then list_contains(value_list, field_value)
                    when 'not_in' then not list_contains(value_list, field_value)
                    when 'gt' then try_cast(field_value as double) > value_number
                    when 'gte' then try_cast(field_value as double) >= value_number
                    when 'lt' then try_cast(field_value as double) < value_number
                    when 'lte' then try_cast(field_value as double) <= value_number
                    when 'contains' then contains(field_value, value_text)
                    when 'is_null' then field_value is null
                    when 'not_null' then field_value is not null
                end,
                false
            )
        ) as filters_passed
    from filter_values
    group by event_id, funnel_id, match_kind, target_order, matcher_id
),

matches as (
    select
        candidate_matches.funnel_id,
        candidate_matches.match_kind,
        candidate_matches.target_order,
        candidate_matches.user_key,
        candidate_matches.event_id,
        candidate_matches.event_at,
        candidate_matches.event_date,
        candidate_matches.event_name,
        candidate_matches.platform,
        candidate_matches.campaign_id,
        candidate_matches.utm_campaign
    from candidate_matches
    left join filter_results
        on
            candidate_matches.event_id = filter_results.event_id
            and candidate_matches.funnel_id = filter_results.funnel_id
            and candidate_matches.match_kind = filter_results.match_kind
            and candidate_matches.target_order = filter_results.target_order
            and candidate_matches.matcher_id = filter_results.matcher_id
    where
        candidate_matches.filter_count = 0
        or filter_results.filters_passed = candidate_matches.filter_count
)

select * from matches
