with

source as (
    select * from {{ source('funnel_config', 'funnel_campaigns') }}
),

renamed as (
    select
        cast(funnel_id as string) as funnel_id,
        cast(campaign as string) as campaign
    from source
)

select * from renamed
