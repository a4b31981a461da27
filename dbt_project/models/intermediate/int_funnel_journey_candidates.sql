{{ config(materialized='table') }}

{%- set max_stages = var('microfunnel__max_stages') | int %}
{%- set entry_columns = [
    'funnel_id', 'funnel_version', 'funnel_mode', 'stage_count', 'window_days',
    'attribution_model', 'attribution_stage_order', 'intent_mid_from_stage',
    'intent_late_from_stage', 'user_key', 'cohort_date', 'start_event_id', 'started_at',
    'deadline_at', 'entry_platform', 'entry_campaign_id', 'entry_utm_campaign',
] %}
{%- set walk_parameters = [] %}
{%- for k in range(1, max_stages + 1) %}
{%- do walk_parameters.extend(
    ['stage_%d_max_gap_seconds' % k, 'stage_%d_next_required_stage' % k]
) %}
{%- endfor %}

-- Every stage-1 event that could start a journey (docs/funnels.md section 2), with the stages
-- it would reach: the ordered / strict walk is one equi-join per step on the anchor's row of
-- int_funnel_sequence (which knows the next event of every stage after it); any_order needs no
-- walk. Each candidate also knows the next candidate that could start after it ends;
-- fct_funnel_journeys follows those links from each user's first start.
with

definitions as (
    select * from {{ ref('int_funnel_definitions') }}
),

funnel_sequence as (
    select * from {{ ref('int_funnel_sequence') }}
),

entries as (
    select
        funnel_sequence.funnel_id,
        definitions.funnel_version,
        definitions.funnel_mode,
        definitions.stage_count,
        definitions.window_days,
        definitions.attribution_model,
        definitions.attribution_stage_order,
        definitions.intent_mid_from_stage,
        definitions.intent_late_from_stage,
        funnel_sequence.user_key,
        funnel_sequence.event_date as cohort_date,
        funnel_sequence.event_id as start_event_id,
        funnel_sequence.event_at as started_at,
        {{ dbt.dateadd('second', 'definitions.window_seconds', 'funnel_sequence.event_at') }}
            as deadline_at,
        funnel_sequence.platform as entry_platform,
        funnel_sequence.campaign_id as entry_campaign_id,
        funnel_sequence.utm_campaign as entry_utm_campaign,
        funnel_sequence.sequence_number as entry_sequence,
        {% for k in range(1, max_stages + 1) -%}
        definitions.stage_{{ k }}_is_optional,
        definitions.stage_{{ k }}_max_gap_seconds,
        definitions.stage_{{ k }}_next_required_stage,
        funnel_sequence.next_sequence_{{ k }},
        funnel_sequence.next_at_{{ k }}
        {%- if not loop.last %},{% endif %}
        {% endfor %}
    from funnel_sequence
    inner join definitions
        on funnel_sequence.funnel_id = definitions.funnel_id
    where funnel_sequence.matches_stage_1
),

-- ordered and strict: the anchor starts at the entry (stage 1).
walk_0 as (
    select
        {% for column in entry_columns + walk_parameters -%}
        {{ column }},
        {% endfor -%}
        1 as anchor_stage,
        entry_sequence as anchor_sequence,
        started_at as anchor_at,
        stage_1_next_required_stage as anchor_next_required_stage,
        entry_sequence as stage_1_sequence,
        started_at as stage_1_reached_at,
        {% for k in range(2, max_stages + 1) -%}
        cast(null as bigint) as stage_{{ k }}_sequence,
        cast(null as timestamp) as stage_{{ k }}_reached_at,
        {% endfor -%}
        {% for m in range(2, max_stages + 1) -%}
        next_sequence_{{ m }} as anchor_next_sequence_{{ m }},
        next_at_{{ m }} as anchor_next_at_{{ m }}
        {%- if not loop.last %},{% endif %}
        {% endfor %}
    from entries
    where funnel_mode != 'any_order'
),

{% for s in range(1, max_stages) %}
candidates_{{ s }} as (
    select
        walk_{{ s - 1 }}.*,
        {% for m in range(2, max_stages + 1) -%}
        {{ funnel_walk_candidate('walk_' ~ (s - 1), m) }} as candidate_sequence_{{ m }}
        {%- if not loop.last %},{% endif %}
        {% endfor %}
    from walk_{{ s - 1 }}
),

-- The qualifying candidate that comes first in the sequence; on one event, the highest stage.
chosen_{{ s }} as (
    select
        *,
        least(
            {%- for m in range(2, max_stages + 1) %}
            candidate_sequence_{{ m }}{% if not loop.last %},{% endif %}
            {%- endfor %}
        ) as chosen_sequence,
        case least(
            {%- for m in range(2, max_stages + 1) %}
            candidate_sequence_{{ m }}{% if not loop.last %},{% endif %}
            {%- endfor %}
        )
            {% for m in range(max_stages, 1, -1) -%}
            when candidate_sequence_{{ m }} then {{ m }}
            {% endfor %}
        end as chosen_stage
    from candidates_{{ s }}
),

walk_{{ s }} as (
    select
        {% for column in entry_columns + walk_parameters -%}
        chosen_{{ s }}.{{ column }},
        {% endfor -%}
        chosen_{{ s }}.chosen_stage as anchor_stage,
        chosen_{{ s }}.chosen_sequence as anchor_sequence,
        case chosen_{{ s }}.chosen_stage
            {% for m in range(2, max_stages + 1) -%}
            when {{ m }} then chosen_{{ s }}.anchor_next_at_{{ m }}
            {% endfor -%}
        end as anchor_at,
        {{ funnel_next_required_stage('chosen_' ~ s, 'chosen_' ~ s ~ '.chosen_stage', max_stages) }}
            as anchor_next_required_stage,
        chosen_{{ s }}.stage_1_sequence,
        chosen_{{ s }}.stage_1_reached_at,
        {% for k in range(2, max_stages + 1) -%}
        case
            when chosen_{{ s }}.chosen_stage = {{ k }} then chosen_{{ s }}.chosen_sequence
            else chosen_{{ s }}.stage_{{ k }}_sequence
        end as stage_{{ k }}_sequence,
        case
            when chosen_{{ s }}.chosen_stage = {{ k }} then chosen_{{ s }}.anchor_next_at_{{ k }}
            else chosen_{{ s }}.stage_{{ k }}_reached_at
        end as stage_{{ k }}_reached_at,
        {% endfor -%}
        {% for m in range(2, max_stages + 1) -%}
        {% if s < max_stages - 1 -%}
        anchor_row.next_sequence_{{ m }} as anchor_next_sequence_{{ m }},
        anchor_row.next_at_{{ m }} as anchor_next_at_{{ m }}
        {%- else -%}
        cast(null as bigint) as anchor_next_sequence_{{ m }},
        cast(null as timestamp) as anchor_next_at_{{ m }}
        {%- endif %}
        {%- if not loop.last %},{% endif %}
        {% endfor %}
    from chosen_{{ s }}
    {% if s < max_stages - 1 -%}
    -- The new anchor's own row knows the next events after it.
    left join funnel_sequence as anchor_row
        on
            chosen_{{ s }}.funnel_id = anchor_row.funnel_id
            and chosen_{{ s }}.user_key = anchor_row.user_key
            and chosen_{{ s }}.chosen_sequence = anchor_row.sequence_number
    {%- endif %}
),
{% endfor %}

walked_journeys as (
    select
        {% for column in entry_columns -%}
        {{ column }},
        {% endfor -%}
        {% for k in range(1, max_stages + 1) -%}
        stage_{{ k }}_sequence,
        stage_{{ k }}_reached_at
        {%- if not loop.last %},{% endif %}
        {% endfor %}
    from walk_{{ max_stages - 1 }}
),

-- any_order: each stage's own first event after the entry, inside the window.
any_order_matches as (
    select
        *,
        {% for m in range(2, max_stages + 1) -%}
        case when next_at_{{ m }} <= deadline_at then next_sequence_{{ m }} end
            as matched_sequence_{{ m }},
        case when next_at_{{ m }} <= deadline_at then next_at_{{ m }} end as matched_at_{{ m }}
        {%- if not loop.last %},{% endif %}
        {% endfor %}
    from entries
    where funnel_mode = 'any_order'
),

-- Stage k is reached when it and every required stage before it are matched, at the latest of
-- those events (greatest ignores the nulls of optional stages).
any_order_journeys as (
    select
        {% for column in entry_columns -%}
        {{ column }},
        {% endfor -%}
        entry_sequence as stage_1_sequence,
        started_at as stage_1_reached_at,
        {% for k in range(2, max_stages + 1) -%}
        {%- set reached_k -%}
            matched_sequence_{{ k }} is not null
            {%- for j in range(2, k) %}
            and (stage_{{ j }}_is_optional or matched_sequence_{{ j }} is not null)
            {%- endfor %}
        {%- endset %}
        case
            when {{ reached_k }}
                then greatest(
                    matched_sequence_{{ k }}
                    {%- for j in range(2, k) %},
                    case when not stage_{{ j }}_is_optional then matched_sequence_{{ j }} end
                    {%- endfor %}
                )
        end as stage_{{ k }}_sequence,
        case
            when {{ reached_k }}
                then greatest(
                    matched_at_{{ k }}
                    {%- for j in range(2, k) %},
                    case when not stage_{{ j }}_is_optional then matched_at_{{ j }} end
                    {%- endfor %}
                )
        end as stage_{{ k }}_reached_at
        {%- if not loop.last %},{% endif %}
        {% endfor %}
    from any_order_matches
),

candidate_journeys as (
    select * from walked_journeys
    union all
    select * from any_order_journeys
),

candidate_ends as (
    select
        *,
        case
            {% for k in range(max_stages, 1, -1) -%}
            when stage_{{ k }}_sequence is not null then {{ k }}
            {% endfor -%}
            else 1
        end as furthest_stage,
        case
            {% for k in range(2, max_stages + 1) -%}
            when stage_count = {{ k }} then stage_{{ k }}_reached_at is not null
            {% endfor -%}
            else false
        end as is_converted,
        case
            {% for k in range(2, max_stages + 1) -%}
            when stage_count = {{ k }} and stage_{{ k }}_reached_at is not null
                then stage_{{ k }}_reached_at
            {% endfor -%}
            else deadline_at
        end as ended_at
    from candidate_journeys
),

-- Several stage-1 events at the same instant behave as one possible start: keep the first.
chain_links as (
    select *
    from candidate_ends
    qualify row_number() over (
        partition by funnel_id, user_key, started_at order by stage_1_sequence
    ) = 1
),

linked as (
    select
        chain_links.*,
        next_start.started_at as next_started_at
    from chain_links
    asof left join chain_links as next_start
        on
            chain_links.funnel_id = next_start.funnel_id
            and chain_links.user_key = next_start.user_key
            and next_start.started_at > chain_links.ended_at
)

select * from linked
