with

source as (
    select * from {{ source('funnel_config', 'funnel_stage_matchers') }}
),

renamed as (
    select
        cast(funnel_id as string) as funnel_id,
        cast(stage_order as integer) as stage_order,
        cast(matcher_id as integer) as matcher_id,
        cast(event_name as string) as event_name,
        cast(filter_count as integer) as filter_count
    from source
)

select * from renamed
