{%- set max_stages = var('microfunnel__max_stages') | int %}

-- One row per funnel: its settings and, wide per stage k = 1..max_stages, whether the stage is
-- optional, its max gap and r(k), so the journey walk reads them as plain columns.
with

funnels as (
    select * from {{ ref('stg_funnels__funnels') }}
),

stages as (
    select * from {{ ref('stg_funnels__stages') }}
),

stages_wide as (
    select
        {% for k in range(1, max_stages + 1) -%}
        coalesce(bool_or(is_optional) filter (where stage_order = {{ k }}), false)
            as stage_{{ k }}_is_optional,
        max(max_gap_seconds) filter (where stage_order = {{ k }}) as stage_{{ k }}_max_gap_seconds,
        max(next_required_stage) filter (where stage_order = {{ k }})
            as stage_{{ k }}_next_required_stage,
        max(stage_name) filter (where stage_order = {{ k }}) as stage_{{ k }}_name,
        {% endfor -%}
        funnel_id
    from stages
    group by funnel_id
),

final as (
    select
        funnels.*,
        stages_wide.* exclude (funnel_id)  -- noqa: RF02
    from funnels
    inner join stages_wide
        on funnels.funnel_id = stages_wide.funnel_id
)

select * from final
