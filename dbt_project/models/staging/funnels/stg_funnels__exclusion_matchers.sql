with

source as (
    select * from {{ source('funnel_config', 'funnel_exclusion_matchers') }}
),

renamed as (
    select
        cast(funnel_id as string) as funnel_id,
        cast(exclusion_order as integer) as exclusion_order,
        cast(matcher_id as integer) as matcher_id,
        cast(event_name as string) as event_name,
        cast(filter_count as integer) as filter_count
    from source
)

select * from renamed
