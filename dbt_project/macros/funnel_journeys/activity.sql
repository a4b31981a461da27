{#
  The user's events during each journey, in one range join: the last touch, the drop-off point,
  the names of the stage events and the engaged time in each stage (every event from reaching it
  until the next reached stage, or the journey end for the furthest stage, half-open). Inputs:
  funnel_journey_summary and the enriched events (int_events_enriched).
#}
{% macro funnel_journey_activity(journeys, events) -%}
{%- set max_stages = var('microfunnel__max_stages') | int %}
select
    max(
        {{ struct_of([
            ('event_at', 'events.event_at'),
            ('event_id', 'events.event_id'),
            ('platform', 'events.platform'),
            ('campaign_id', 'events.campaign_id'),
        ]) }}
    ) filter (
        where events.campaign_id is not null and events.event_at <= journeys.ended_at
    ) as last_touch,
    max(
        {{ struct_of([
            ('event_at', 'events.event_at'),
            ('event_id', 'events.event_id'),
            ('event_name', 'events.event_name'),
        ]) }}
    ) filter (
        where events.event_at >= journeys.furthest_reached_at
        and events.event_at <= journeys.ended_at
    ) as last_event,
    count(*) filter (
        where events.event_at > journeys.furthest_reached_at
        and events.event_at <= journeys.ended_at
    ) as events_after,
    any_value(
        {{ struct_of([('platform', 'events.platform'), ('campaign_id', 'events.campaign_id')]) }}
    ) filter (where events.event_id = journeys.attribution_event_id) as attribution_touch,
    {% for k in range(1, max_stages + 1) -%}
    any_value(events.event_name) filter (
        where events.event_id = journeys.stage_{{ k }}_sequence_event_id
    ) as stage_{{ k }}_event_name,
    sum(events.engagement_time_ms) filter (
        where events.event_at >= journeys.stage_{{ k }}_reached_at
        and events.event_at
        < coalesce(journeys.stage_{{ k }}_next_reached_at, journeys.ended_at)
    ) as stage_{{ k }}_engagement_ms,
    {% endfor -%}
    journeys.journey_id
from {{ journeys }} as journeys
inner join {{ events }} as events
    on
        journeys.user_key = events.user_key
        and events.event_at >= journeys.started_at
        and events.event_at <= journeys.activity_until
group by journeys.journey_id
{%- endmacro %}
