with

source as (
    select * from {{ source('funnel_config', 'funnel_stages') }}
),

renamed as (
    select
        cast(funnel_id as string) as funnel_id,
        cast(stage_order as integer) as stage_order,
        cast(stage_name as string) as stage_name,
        cast(is_optional as boolean) as is_optional,
        cast(max_gap_seconds as bigint) as max_gap_seconds,
        cast(next_required_stage as integer) as next_required_stage
    from source
)

select * from renamed
