{# The diagnostics' thresholds (vars with their defaults), read by the mart and every finding. #}
{% macro diagnostics_thresholds() -%}
    {{ return({
        'min_journeys': var('microfunnel__diagnostics_min_journeys', 30),
        'pass_through': var('microfunnel__diagnostics_pass_through', 0.9),
        'delay_seconds': var('microfunnel__diagnostics_delay_seconds', 3600),
        'alpha': var('microfunnel__diagnostics_p_value', 0.05),
        'stalled_share': var('microfunnel__diagnostics_stalled_share', 0.5),
    }) }}
{%- endmacro %}


{# Two rows of the same diagnostic group: funnel, version, platform and campaign. #}
{% macro same_diagnostic_group(left, right) -%}
    {{ left }}.funnel_id = {{ right }}.funnel_id
    and {{ left }}.funnel_version = {{ right }}.funnel_version
    and {{ left }}.platform = {{ right }}.platform
    and {{ left }}.campaign_id = {{ right }}.campaign_id
{%- endmacro %}
