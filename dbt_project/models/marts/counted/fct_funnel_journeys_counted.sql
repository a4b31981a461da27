-- Every journey with the group keys the analysis marts count it under (docs/funnels.md
-- sections 3 and 6): organic journeys get named placeholders so every group has a key.
-- Excluded journeys stay (agg_funnel_trends counts them); the marts filter them out.
with

current_versions as (
    select
        funnel_id,
        funnel_version
    from {{ ref('stg_funnels__funnels') }}
),

final as (
    select
        {{ all_columns_except(['platform', 'campaign_id'], 'journeys') }},
        coalesce(journeys.platform, 'organic') as platform,
        coalesce(journeys.campaign_id, '(none)') as campaign_id,
        current_versions.funnel_id is not null as is_current_version
    from {{ ref('fct_funnel_journeys') }} as journeys
    left join current_versions
        on
            journeys.funnel_id = current_versions.funnel_id
            and journeys.funnel_version = current_versions.funnel_version
)

select * from final
