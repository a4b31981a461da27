{%- set max_stages = var('microfunnel__max_stages') | int %}

-- One row per funnel: its settings and, wide per stage k = 1..max_stages, whether the stage is
-- optional, its max gap, r(k) and name; plus the walk's settings as lists indexed by stage
-- (macros/funnel_steps.sql): per anchor c, the bit mask of its candidate stages c+1..r(c)
-- (bit k-1 = stage k); the max gaps in microseconds (null when the funnel has none); the mask
-- of the stages any_order needs for a conversion (required ones after the first).
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

walk_settings as (
    select
        funnel_id,
        {{ ordered_list_agg(
            'case when next_required_stage is not null'
            ~ ' then ' ~ shift_left('1', 'next_required_stage') ~ ' - ' ~ shift_left('1', 'stage_order')
            ~ ' else 0 end',
            'stage_order'
        ) }} as walk_candidate_masks,
        case
            when bool_or(max_gap_seconds is not null)
                then {{ ordered_list_agg('max_gap_seconds * 1000000', 'stage_order') }}
        end as walk_max_gaps_us,
        cast(
            sum(
                case
                    when stage_order > 1 and not is_optional
                        then {{ shift_left('1', 'stage_order - 1') }}
                    else 0
                end
            ) as integer
        ) as any_order_required_mask
    from stages
    group by funnel_id
),

final as (
    select
        funnels.*,
        {{ all_columns_except(['funnel_id'], 'stages_wide') }},  -- noqa: RF02
        funnels.window_seconds * 1000000 as window_us,
        walk_settings.walk_candidate_masks,
        walk_settings.walk_max_gaps_us,
        walk_settings.any_order_required_mask
    from funnels
    inner join stages_wide
        on funnels.funnel_id = stages_wide.funnel_id
    inner join walk_settings
        on funnels.funnel_id = walk_settings.funnel_id
)

select * from final
