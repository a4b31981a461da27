with

source as (
    select * from {{ source('funnel_config', 'funnel_stages') }}
),

renamed as (
    select
        cast(funnel_id as varchar) as funnel_id,
        cast(stage_order as integer) as stage_order,
        cast(stage_name as varchar) as stage_name
    from source
)

select * from renamed
