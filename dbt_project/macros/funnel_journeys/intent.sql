{#
  Intent from the campaign lists (docs/funnels.md, intent segments): per journey the segment of
  its attributed campaign id, else of its entry's utm_campaign; journeys without one fall back
  to the prior-stage rule in the mart. Inputs: funnel_journey_attribution
  and stg_funnels__intent_campaigns.
#}
{% macro funnel_journey_campaign_intent(journeys, intent_campaigns) -%}
select
    attributed.journey_id,
    {{ value_at_min(
        'intent_campaigns.intent_segment',
        'case when intent_campaigns.campaign = attributed.campaign_id then 0 else 1 end'
    ) }} as intent_segment
from {{ journeys }} as attributed
inner join {{ intent_campaigns }} as intent_campaigns
    on
        attributed.funnel_id = intent_campaigns.funnel_id
        and intent_campaigns.campaign in (attributed.campaign_id, attributed.entry_utm_campaign)
group by attributed.journey_id
{%- endmacro %}
