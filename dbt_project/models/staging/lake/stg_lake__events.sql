with

source as (
    select * from {{ source('lake', 'events') }}
),

renamed as (
    select
        cast(event_id as varchar) as event_id,
        cast(source as varchar) as source,
        cast(event_name as varchar) as event_name,
        cast(event_at as timestamp) as event_at,
        cast(event_date as date) as event_date,
        cast(user_key as varchar) as user_key,
        cast(anonymous_id as varchar) as anonymous_id,
        cast(user_id as varchar) as user_id,
        cast(session_id as varchar) as session_id,
        cast(page_url as varchar) as page_url,
        cast(referrer as varchar) as referrer,
        cast(utm_source as varchar) as utm_source,
        lower(cast(utm_medium as varchar)) as utm_medium,
        cast(utm_campaign as varchar) as utm_campaign,
        cast(utm_content as varchar) as utm_content,
        cast(utm_term as varchar) as utm_term,
        cast(utm_id as varchar) as utm_id,
        cast(click_id as varchar) as click_id,
        cast(click_id_type as varchar) as click_id_type,
        cast(engagement_time_ms as bigint) as engagement_time_ms,
        cast(value as double) as value,
        cast(currency as varchar) as currency,
        cast(properties as varchar) as properties,
        cast(export_date as date) as export_date,
        cast(source_file as varchar) as source_file,
        cast(source_line as bigint) as source_line,
        cast(loaded_at as timestamp) as loaded_at,
        "date" as lake_date
    from source
)

select * from renamed
