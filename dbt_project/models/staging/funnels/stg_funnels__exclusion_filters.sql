with

source as (
    select * from {{ source('funnel_config', 'funnel_exclusion_filters') }}
),

renamed as (
    select
        cast(funnel_id as string) as funnel_id,
        cast(exclusion_order as integer) as exclusion_order,
        cast(matcher_id as integer) as matcher_id,
        cast(filter_index as integer) as filter_index,
        cast(field as string) as field_name,
        cast(param_key as string) as param_key,
        cast(op as string) as operator,
        cast(value_text as string) as value_text,
        cast(value_number as double) as value_number,
        value_list
    from source
)

select * from renamed
