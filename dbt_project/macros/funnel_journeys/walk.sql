{#
  The walk of docs/funnels.md section 2: each user's funnel sequence is walked once, in order,
  by a list_reduce state machine (funnel_walk_step) that reaches the stages in the funnel's mode
  and chains the journeys (the next one starts at the first stage-1 event after the previous one
  ended). One row per walked journey: funnel_id, user_key, the user's sequence_events, the
  per-stage stage_positions in it and earlier_furthest_stage (for the intent of later journeys).
  Inputs: the funnel sequence (int_funnel_sequence), the definitions (int_funnel_definitions)
  and the kept journeys (funnel_id, user_key, blocked_until) of an incremental run.
#}
{% macro funnel_journey_walk(sequence, definitions, kept_journeys) -%}
with

-- The sequence in order (event_at, lowest stage, event_id).
user_sequences as (
    select
        funnel_id,
        user_key,
        {{ sorted_list_agg(struct_of([
            ('event_at', 'event_at'),
            ('lowest_stage', 'lowest_stage'),
            ('event_id', 'event_id'),
            ('stage_mask', 'stage_mask'),
        ])) }} as sequence_events
    from {{ sequence }}
    group by funnel_id, user_key
),

walk_inputs as (
    select
        user_sequences.funnel_id,
        user_sequences.user_key,
        user_sequences.sequence_events,
        definitions.funnel_mode,
        definitions.stage_count,
        definitions.window_us,
        definitions.walk_candidate_masks,
        definitions.walk_max_gaps_us,
        definitions.any_order_required_mask,
        -- Kept journeys (incremental runs) block new starts until the last of them ended.
        coalesce(
            {{ epoch_microseconds('kept_journeys.blocked_until') }}, -9223372036854775807
        ) as blocked_until_us
    from user_sequences
    inner join {{ definitions }} as definitions
        on user_sequences.funnel_id = definitions.funnel_id
    left join {{ kept_journeys }} as kept_journeys
        on
            user_sequences.funnel_id = kept_journeys.funnel_id
            and user_sequences.user_key = kept_journeys.user_key
),

{#- The reduce needs the elements in the accumulator's type. #}
{%- set event_states = list_transform('sequence_events', 'e', 'cast('
    ~ funnel_walk_state(t=epoch_microseconds('e.event_at'), m='e.stage_mask')
    ~ ' as ' ~ funnel_walk_state_type() ~ ')') %}
{%- set initial_state = 'cast(' ~ funnel_walk_state(
    t='0', m='0', s='0', cur='0', aat='0', aseq='0', mm='0', b='blocked_until_us',
    r=empty_list(), js=empty_list()
) ~ ' as ' ~ funnel_walk_state_type() ~ ')' %}

walk_states as (
    select
        funnel_id,
        user_key,
        funnel_mode,
        any_order_required_mask,
        sequence_events,
        {% call list_reduce(event_states, 'acc, x, i', initial_state) -%}
            {{ funnel_walk_step('acc', 'x', 'i') }}
        {%- endcall %} as walk_state
    from walk_inputs
),

-- Per user, the walked journeys: per stage, the position in the sequence of the event that
-- reached it (ordered, strict) or matched it (any_order), 0 or missing when none; and each
-- journey's furthest stage (any_order: a matched stage counts once every required stage
-- before it is matched), for the intent of the next ones.
{%- set required_before_k_matched -%}
    {{ list_bit_or(list_transform(
        'positions', 'w, j', 'case when w > 0 and j < k then ' ~ shift_left('1', 'j - 1') ~ ' else 0 end'
    )) }} & any_order_required_mask
    = any_order_required_mask & ({{ shift_left('1', 'k - 1') }} - 1)
{%- endset %}
{%- set furthest_stage_of_positions -%}
    {{ list_max(list_transform('positions', 'v, k',
        'case when v > 0 and (funnel_mode != \'any_order\' or '
        ~ required_before_k_matched ~ ') then k end'
    )) }}
{%- endset %}

walk_journey_lists as (
    select
        funnel_id,
        user_key,
        sequence_events,
        journey_positions,
        {{ list_transform('journey_positions', 'positions', furthest_stage_of_positions) }}
            as journey_furthest_stages
    from (
        select
            walk_states.*,
            case
                when walk_states.walk_state.cur = 0 then walk_states.walk_state.js
                else {{ list_append('walk_states.walk_state.js', 'walk_states.walk_state.r') }}
            end as journey_positions
        from walk_states
    ) as walked
)

select
    funnel_id,
    user_key,
    sequence_events,
    {#- The deepest stage of the user's earlier journeys (same funnel), 0 when none. #}
    {{ unnest_in_parallel([
        ('journey_positions', 'stage_positions'),
        (list_transform(
            integer_range('0', list_length('journey_positions')),
            'n',
            'coalesce(' ~ list_max(list_head('journey_furthest_stages', 'n')) ~ ', 0)'
        ), 'earlier_furthest_stage'),
    ]) }}
from walk_journey_lists
{%- endmacro %}
