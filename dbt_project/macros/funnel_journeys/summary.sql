{#
  Per journey its id and what later steps read: the furthest stage's time, the user's prior
  furthest stage in this funnel (intent: how far they had gone before this journey started),
  the attribution stage's event and activity_until (an optional any_order stage may be reached
  after the conversion). Inputs: funnel_journey_stages and the kept journeys (funnel_id,
  user_key, prior_furthest_stage).
#}
{% macro funnel_journey_summary(stages, kept_journeys) -%}
{%- set max_stages = var('microfunnel__max_stages') | int %}
select
    journey_chain.*,
    md5(
        journey_chain.funnel_id || '|' || journey_chain.user_key
        || '|' || journey_chain.start_event_id
    ) as journey_id,
    case journey_chain.furthest_stage
        {% for k in range(1, max_stages + 1) -%}
        when {{ k }} then journey_chain.stage_{{ k }}_reached_at
        {% endfor -%}
    end as furthest_reached_at,
    greatest(
        coalesce(kept_journeys.prior_furthest_stage, 0), journey_chain.earlier_furthest_stage
    ) as prior_furthest_stage,
    case journey_chain.attribution_stage_order
        {% for k in range(1, max_stages + 1) -%}
        when {{ k }} then journey_chain.stage_{{ k }}_sequence_event_id
        {% endfor -%}
    end as attribution_event_id,
    -- The user's events any detail reads lie in [started_at, activity_until]: an optional
    -- any_order stage may be reached after the conversion.
    greatest(
        journey_chain.ended_at
        {%- for k in range(1, max_stages + 1) %},
        journey_chain.stage_{{ k }}_reached_at
        {%- endfor %}
    ) as activity_until
from {{ stages }} as journey_chain
left join {{ kept_journeys }} as kept_journeys
    on
        journey_chain.funnel_id = kept_journeys.funnel_id
        and journey_chain.user_key = kept_journeys.user_key
{%- endmacro %}
