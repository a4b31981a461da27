with

source as (
    select * from {{ source('funnel_config', 'funnel_campaigns') }}
),

renamed as (
    select
        cast(funnel_id as varchar) as funnel_id,
        cast(campaign as varchar) as campaign
    from source
)

select * from renamed
