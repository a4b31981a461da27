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

-- The sequence in order (event_at, lowest stage, event_id): sorting the list of structs is
-- much faster than an ordered list() aggregate.
user_sequences as (
    select
        funnel_id,
        user_key,
        list_sort(
            list(
                struct_pack(
                    event_at := event_at,
                    lowest_stage := lowest_stage,
                    event_id := event_id,
                    stage_mask := stage_mask
                )
            )
        ) as sequence_events
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
        coalesce(epoch_us(kept_journeys.blocked_until), -9223372036854775807) as blocked_until_us
    from user_sequences
    inner join {{ definitions }} as definitions
        on user_sequences.funnel_id = definitions.funnel_id
    left join {{ kept_journeys }} as kept_journeys
        on
            user_sequences.funnel_id = kept_journeys.funnel_id
            and user_sequences.user_key = kept_journeys.user_key
),

walk_states as (
    select
        funnel_id,
        user_key,
        funnel_mode,
        any_order_required_mask,
        sequence_events,
        list_reduce(
            -- list_reduce needs the elements in the accumulator's type.
            list_transform(
                sequence_events,
                e -> cast(
                    struct_pack(
                        t := epoch_us(e.event_at),
                        m := e.stage_mask,
                        s := null,
                        cur := null,
                        aat := null,
                        aseq := null,
                        mm := null,
                        b := null,
                        r := null,
                        js := null
                    ) as {{ funnel_walk_state_type() }}
                )
            ),
            (acc, x, i) -> {{ funnel_walk_step('acc', 'x', 'i') }},
            cast(
                struct_pack(
                    t := 0,
                    m := 0,
                    s := 0,
                    cur := 0,
                    aat := 0,
                    aseq := 0,
                    mm := 0,
                    b := blocked_until_us,
                    r := [],
                    js := []
                ) as {{ funnel_walk_state_type() }}
            )
        ) as walk_state
    from walk_inputs
),

-- Per user, the walked journeys: per stage, the position in the sequence of the event that
-- reached it (ordered, strict) or matched it (any_order), 0 or missing when none; and each
-- journey's furthest stage (any_order: a matched stage counts once every required stage
-- before it is matched), for the intent of the next ones.
walk_journey_lists as (
    select
        funnel_id,
        user_key,
        sequence_events,
        journey_positions,
        list_transform(
            journey_positions,
            positions -> list_max(
                list_transform(
                    positions,
                    (v, k) -> case
                        when
                            v > 0
                            and (
                                funnel_mode != 'any_order'
                                or list_bit_or(
                                    list_transform(
                                        positions,
                                        (w, j) -> case
                                            when w > 0 and j < k then 1 << (j - 1) else 0
                                        end
                                    )
                                ) & any_order_required_mask
                                = any_order_required_mask & ((1 << (k - 1)) - 1)
                            )
                            then k
                    end
                )
            )
        ) as journey_furthest_stages
    from (
        select
            walk_states.*,
            case
                when walk_states.walk_state.cur = 0 then walk_states.walk_state.js
                else list_append(walk_states.walk_state.js, walk_states.walk_state.r)
            end as journey_positions
        from walk_states
    ) as walked
)

select
    funnel_id,
    user_key,
    sequence_events,
    unnest(journey_positions) as stage_positions,
    -- The deepest stage of the user's earlier journeys (same funnel), 0 when none.
    unnest(
        list_transform(
            range(len(journey_positions)),
            n -> coalesce(list_max(journey_furthest_stages[1:n]), 0)
        )
    ) as earlier_furthest_stage
from walk_journey_lists
{%- endmacro %}
