with

source as (
    select * from {{ source('funnel_config', 'funnel_intent_campaigns') }}
),

renamed as (
    select
        cast(funnel_id as varchar) as funnel_id,
        cast(campaign as varchar) as campaign,
        cast(intent_segment as varchar) as intent_segment
    from source
)

select * from renamed
