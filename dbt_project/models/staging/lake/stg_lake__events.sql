with

source as (
    select * from {{ source('lake', 'events') }}
),

renamed as (
    select
        cast(event_id as string) as event_id,
        cast(source as string) as source,
        cast(event_name as string) as event_name,
        cast(event_at as timestamp) as event_at,
        cast(event_date as date) as event_date,
        cast(user_key as string) as user_key,
        cast(anonymous_id as string) as anonymous_id,
        cast(user_id as string) as user_id,
        cast(session_id as string) as session_id,
        cast(page_url as string) as page_url,
        cast(referrer as string) as referrer,
        cast(utm_source as string) as utm_source,
        lower(cast(utm_medium as string)) as utm_medium,
        cast(utm_campaign as string) as utm_campaign,
        cast(utm_content as string) as utm_content,
        cast(utm_term as string) as utm_term,
        cast(utm_id as string) as utm_id,
        cast(click_id as string) as click_id,
        cast(click_id_type as string) as click_id_type,
        cast(engagement_time_ms as bigint) as engagement_time_ms,
        cast(value as double) as value,
        cast(currency as string) as currency,
        cast(properties as string) as properties,
        cast(export_date as date) as export_date,
        cast(source_file as string) as source_file,
        cast(source_line as bigint) as source_line,
        cast(loaded_at as timestamp) as loaded_at,
        {{ adapter.quote("date") }} as lake_date
    from source
)

select * from renamed
