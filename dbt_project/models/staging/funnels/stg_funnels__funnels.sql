with

source as (
    select * from {{ source('funnel_config', 'funnels') }}
),

renamed as (
    select
        cast(funnel_id as string) as funnel_id,
        cast(funnel_version as integer) as funnel_version,
        cast(funnel_kind as string) as funnel_kind,
        cast(label as string) as funnel_label,
        cast(mode as string) as funnel_mode,
        cast(window_seconds as bigint) as window_seconds,
        cast(ceil(window_seconds / 86400.0) as integer) as window_days,
        cast(is_primary as boolean) as is_primary,
        cast(stage_count as integer) as stage_count,
        cast(attribution_model as string) as attribution_model,
        cast(attribution_stage_order as integer) as attribution_stage_order,
        cast(intent_mid_from_stage as integer) as intent_mid_from_stage,
        cast(intent_late_from_stage as integer) as intent_late_from_stage
    from source
)

select * from renamed
