{{ config(materialized='table') }}

-- Events of the cohorts being (re)computed: deduplicated on the stable event_id (the earliest
-- load wins), identity-stitched, and tagged with the ad platform and campaign they came from.
with

events as (
    {{ rebuild_window_events() }}
),

identity_map as (
    select * from {{ ref('int_identity_map') }}
),

deduplicated as (
    select {{ all_columns_except(['lake_date']) }}
    from events
    qualify row_number() over (
        partition by event_id
        order by export_date, loaded_at, source_file, source_line
    ) = 1
),

stitched as (
    select
        {{ all_columns_except(['user_key'], 'deduplicated') }},
        coalesce(deduplicated.user_id, identity_map.user_id, deduplicated.user_key) as user_key
    from deduplicated
    left join identity_map
        on
            deduplicated.source = identity_map.source
            and deduplicated.anonymous_id = identity_map.anonymous_id
),

attributed as (
    select
        *,
        {{ ad_platform('click_id_type', 'utm_source', 'utm_medium') }} as platform
    from stitched
),

final as (
    select
        *,
        platform is not null as is_paid_touch,
        case when platform is not null then coalesce(utm_id, utm_campaign) end as campaign_id
    from attributed
)

select * from final
