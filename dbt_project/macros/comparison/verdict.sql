{# The comparison's thresholds (vars with their defaults), read by the mart and the verdict. #}
{% macro sequence_comparison_thresholds() -%}
    {{ return({
        'min_entries': var('microfunnel__comparison_min_entries', 30),
        'alpha': var('microfunnel__comparison_p_value', 0.05),
    }) }}
{%- endmacro %}


{#
  The comparison's verdict sentence per row (wording rules in agg_sequence_comparison.yml): below the
  minimum entries on a side no difference is measurable; else which side converts more per hook,
  by what ratio, and whether the difference is significant. Input: rows with both sides' entries,
  conversions, rates and p_value; returns them with the column verdict added.
#}
{% macro sequence_comparison_verdicts(statistics) -%}
{%- set min_entries = sequence_comparison_thresholds().min_entries %}
{%- set alpha = sequence_comparison_thresholds().alpha %}
with

-- Pieces of the verdict (wording rules in agg_sequence_comparison.yml).
verdict_parts as (
    select
        *,
        -- Higher rate / lower rate; two decimals below 1.1 so that 1.04 does not read 1.0.
        case
            when direct_conversion_rate > 0 and micro_conversion_rate > direct_conversion_rate
                then micro_conversion_rate / direct_conversion_rate
            when micro_conversion_rate > 0 and direct_conversion_rate > micro_conversion_rate
                then direct_conversion_rate / micro_conversion_rate
        end as rate_ratio,
        case when p_value < {{ alpha }} then 'significant (' else 'not significant (' end
        || {{ p_value_text('p_value') }} || ')' as significance_text
    from {{ statistics }}
),

verdict_texts as (
    select
        *,
        case
            when rate_ratio < 1.1 then {{ format_number("'%.2fx '", 'rate_ratio') }}
            when rate_ratio >= 1.1 then {{ format_number("'%.1fx '", 'rate_ratio') }}
            else ''
        end as ratio_text
    from verdict_parts
)

select
    *,
    case
        when micro_entries < {{ min_entries }} or direct_entries < {{ min_entries }}
            then
                'no difference measurable yet: fewer than {{ min_entries }} entries on a side'
                || ' (micro ' || {{ count_text('micro_entries') }}
                || ', direct ' || {{ count_text('direct_entries') }} || ')'
        when micro_conversion_rate = direct_conversion_rate
            then
                'no difference: both sides convert '
                || {{ percent_text('micro_conversion_rate') }} || ' per hook'
        when micro_conversion_rate > direct_conversion_rate
            then
                'micro sequence converts ' || ratio_text || 'more per hook ('
                || {{ percent_text('micro_conversion_rate') }} || ' vs '
                || {{ percent_text('direct_conversion_rate') }} || '); ' || significance_text
        else
            'direct ask converts ' || ratio_text || 'more per hook ('
            || {{ percent_text('direct_conversion_rate') }} || ' vs '
            || {{ percent_text('micro_conversion_rate') }} || '); ' || significance_text
    end as verdict
from verdict_texts
{%- endmacro %}
