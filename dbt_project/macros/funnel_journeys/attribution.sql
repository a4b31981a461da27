{#
  Attribution (docs/funnels.md, Attribution): the touch credited with each journey per its
  funnel's model, plus the drop-off point, the stage event names and engaged seconds and the
  first exclusion. Inputs: funnel_journey_summary, funnel_journey_activity and
  funnel_journey_exclusions.
#}
{% macro funnel_journey_attribution(journeys, activity, exclusions) -%}
{%- set max_stages = var('microfunnel__max_stages') | int %}
select
    journeys.*,
    -- The touch credited with the journey (docs/funnels.md, Attribution), stated once;
    -- platform and campaign_id below read it through DuckDB's lateral column alias.
    case
        when
            journeys.attribution_model = 'last_touch'
            and journey_activity.last_touch is not null
            then {{ struct_of([
                ('platform', struct_field('journey_activity.last_touch', 'platform')),
                ('campaign_id', struct_field('journey_activity.last_touch', 'campaign_id')),
            ]) }}
        when
            journeys.attribution_model = 'stage'
            and {{ struct_field('journey_activity.attribution_touch', 'campaign_id') }} is not null
            then journey_activity.attribution_touch
        else {{ struct_of([
            ('platform', 'journeys.entry_platform'),
            ('campaign_id', 'journeys.entry_campaign_id'),
        ]) }}
    end as attributed_touch,
    {{ struct_field('attributed_touch', 'platform') }} as platform,
    {{ struct_field('attributed_touch', 'campaign_id') }} as campaign_id,
    -- Drop-off point: only for journeys that did not convert.
    case when not journeys.is_converted then journey_activity.last_event end as dropoff,
    {{ struct_field('dropoff', 'event_id') }} as dropoff_event_id,
    {{ struct_field('dropoff', 'event_name') }} as dropoff_event_name,
    {{ struct_field('dropoff', 'event_at') }} as dropoff_at,
    coalesce(journey_activity.events_after, 0) as events_after,
    {% for k in range(1, max_stages + 1) -%}
    journey_activity.stage_{{ k }}_event_name,
    case
        when journeys.stage_{{ k }}_reached_at is not null
            then
                cast(coalesce(journey_activity.stage_{{ k }}_engagement_ms, 0) as double)
                / 1000.0
    end as stage_{{ k }}_engaged_seconds,
    {% endfor -%}
    journey_exclusions.first_exclusion
from {{ journeys }} as journeys
left join {{ activity }} as journey_activity
    on journeys.journey_id = journey_activity.journey_id
left join {{ exclusions }} as journey_exclusions
    on journeys.journey_id = journey_exclusions.journey_id
{%- endmacro %}
