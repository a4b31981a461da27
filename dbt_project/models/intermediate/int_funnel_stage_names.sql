-- One name per funnel, version and stage: the current definition's, or for journeys kept from
-- an older version of a funnel, the name they recorded as their furthest stage.
with

current_stage_names as (
    select
        funnel_stages.funnel_id,
        funnel_definitions.funnel_version,
        funnel_stages.stage_order,
        funnel_stages.stage_name
    from {{ ref('stg_funnels__stages') }} as funnel_stages
    inner join {{ ref('stg_funnels__funnels') }} as funnel_definitions
        on funnel_stages.funnel_id = funnel_definitions.funnel_id
),

recorded_stage_names as (
    select
        funnel_id,
        funnel_version,
        furthest_stage as stage_order,
        min(furthest_stage_name) as stage_name
    from {{ ref('fct_funnel_journeys') }}
    group by funnel_id, funnel_version, furthest_stage
),

stage_keys as (
    select
        funnel_id,
        funnel_version,
        stage_order
    from current_stage_names
    union
    select
        funnel_id,
        funnel_version,
        stage_order
    from recorded_stage_names
),

final as (
    select
        stage_keys.funnel_id,
        stage_keys.funnel_version,
        stage_keys.stage_order,
        coalesce(current_stage_names.stage_name, recorded_stage_names.stage_name) as stage_name
    from stage_keys
    left join current_stage_names
        on
            stage_keys.funnel_id = current_stage_names.funnel_id
            and stage_keys.funnel_version = current_stage_names.funnel_version
            and stage_keys.stage_order = current_stage_names.stage_order
    left join recorded_stage_names
        on
            stage_keys.funnel_id = recorded_stage_names.funnel_id
            and stage_keys.funnel_version = recorded_stage_names.funnel_version
            and stage_keys.stage_order = recorded_stage_names.stage_order
)

select * from final
