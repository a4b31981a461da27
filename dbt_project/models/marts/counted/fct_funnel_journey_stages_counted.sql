{%- set max_stages = var('microfunnel__max_stages') | int %}

-- One row per non-excluded journey and stage of its funnel, reached or not (a skipped optional
-- stage is not reached), with the journey's group keys: what agg_intent_segments and
-- agg_momentum_curve count stages from.
with

journeys as (
    select * from {{ ref('fct_funnel_journeys_counted') }}
    where not is_excluded
),

stage_numbers as (
    select stage_values.stage_order
    from (
        values
        {% for k in range(1, max_stages + 1) -%}
        ({{ k }}){{ ',' if not loop.last }}
        {% endfor -%}
    ) as stage_values (stage_order)
),

unpivoted as (
    select
        journeys.funnel_id,
        journeys.funnel_version,
        journeys.cohort_date,
        journeys.platform,
        journeys.campaign_id,
        journeys.intent_segment,
        journeys.stage_count,
        journeys.furthest_stage,
        journeys.is_converted,
        journeys.is_final,
        stage_numbers.stage_order,
        case stage_numbers.stage_order
            {% for k in range(1, max_stages + 1) -%}
            when {{ k }} then journeys.stage_{{ k }}_reached_at is not null
            {% endfor -%}
        end as is_reached
    from journeys
    inner join stage_numbers
        on stage_numbers.stage_order <= journeys.stage_count
),

final as (
    select
        *,
        -- The furthest stage is the last one reached: a reached stage before it was left.
        is_reached and furthest_stage > stage_order as is_advanced
    from unpivoted
)

select * from final
