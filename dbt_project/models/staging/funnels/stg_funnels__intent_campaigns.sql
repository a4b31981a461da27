with

source as (
    select * from {{ source('funnel_config', 'funnel_intent_campaigns') }}
),

renamed as (
    select
        cast(funnel_id as string) as funnel_id,
        cast(campaign as string) as campaign,
        cast(intent_segment as string) as intent_segment
    from source
)

select * from renamed
