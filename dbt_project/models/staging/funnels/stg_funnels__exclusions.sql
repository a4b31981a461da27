with

source as (
    select * from {{ source('funnel_config', 'funnel_exclusions') }}
),

renamed as (
    select
        cast(funnel_id as string) as funnel_id,
        cast(exclusion_order as integer) as exclusion_order,
        cast(exclusion_name as string) as exclusion_name,
        cast(from_stage_order as integer) as from_stage_order,
        cast(to_stage_order as integer) as to_stage_order
    from source
)

select * from renamed
