{#- The three scopes the rollup marts report: each campaign, each platform (campaign_id '(all)')
    and every campaign (platform and campaign_id '(all)'). `relation` has platform and
    campaign_id columns; `columns` are carried to every scope unchanged. -#}
{% macro scoped_rows(relation, columns) -%}
    {%- set carried = columns | join(',\n        ') %}
    select
        {{ carried }},
        platform,
        campaign_id
    from {{ relation }}
    union all
    select
        {{ carried }},
        platform,
        '(all)' as campaign_id
    from {{ relation }}
    union all
    select
        {{ carried }},
        '(all)' as platform,
        '(all)' as campaign_id
    from {{ relation }}
{%- endmacro %}
