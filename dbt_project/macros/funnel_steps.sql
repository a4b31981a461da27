{#
  The journey walk of docs/funnels.md section 2 as one list_reduce per (funnel, user) over the
  user's sequence in order. Elements and accumulator share the struct type below (list_reduce
  needs one type): t / m are the event's time (epoch us) and stage bit mask (bit k-1 = stage k);
  the open journey is s (entry time), cur (anchor stage; 0 = none yet; stage_count once
  converted), aat / aseq (anchor time and position), mm (any_order: stages matched so far) and
  r (per stage, the position of the event that reached / matched it, 0 = none); b is the time
  a first journey must start after (kept journeys of an incremental run); js collects the r of
  the journeys already closed. The lambda reads the funnel's settings from outer columns:
  funnel_mode, stage_count, window_us, walk_candidate_masks, walk_max_gaps_us,
  any_order_required_mask.
#}
{% macro funnel_walk_state_type() -%}
    {{ struct_type([
        ('t', 'bigint'), ('m', 'integer'), ('s', 'bigint'), ('cur', 'integer'), ('aat', 'bigint'),
        ('aseq', 'integer'), ('mm', 'integer'), ('b', 'bigint'), ('r', list_type('integer')),
        ('js', list_type(list_type('integer'))),
    ]) }}
{%- endmacro %}


{# A walk state (fields as above; unset ones null). #}
{% macro funnel_walk_state(
    t='null', m='null', s='null', cur='null', aat='null', aseq='null', mm='null', b='null',
    r='null', js='null'
) -%}
    {{ struct_of([
        ('t', t), ('m', m), ('s', s), ('cur', cur), ('aat', aat), ('aseq', aseq), ('mm', mm),
        ('b', b), ('r', r), ('js', js),
    ]) }}
{%- endmacro %}


{# When the open journey ends (rule 2): conversion time, else its deadline. #}
{% macro funnel_walk_end(acc) -%}
    case
        when {{ acc }}.cur = 0 then {{ acc }}.b
        when {{ acc }}.cur = stage_count then {{ acc }}.aat
        else {{ acc }}.s + window_us
    end
{%- endmacro %}


{#
  ordered / strict: the candidate stages c+1..r(c) of anchor c that event x qualifies for
  (stage matched, within each stage's max gap of the anchor), as a bit mask. The caller checks
  the deadline and strictness.
#}
{% macro funnel_walk_qualifying(acc, x) -%}
    (
        {{ x }}.m
        & {{ list_element('walk_candidate_masks', acc ~ '.cur') }}
        & case
            when walk_max_gaps_us is null then -1
            else {{ list_bit_or(list_transform('walk_max_gaps_us', 'gap_us, k',
                'case when gap_us is null or ' ~ x ~ '.t - ' ~ acc ~ '.aat <= gap_us'
                ~ ' then ' ~ shift_left('1', 'k - 1') ~ ' else 0 end'
            )) }}
        end
    )
{%- endmacro %}


{# One step of the walk for event x at position i of the sequence. #}
{% macro funnel_walk_step(acc, x, i) -%}
    {%- set qualifying = funnel_walk_qualifying(acc, x) %}
    {%- set next_stage = 'cast(floor(log2(' ~ qualifying ~ ')) as integer) + 1' %}
    {%- set matched = acc ~ '.mm | (' ~ x ~ '.m & ~1)' %}
    {%- set position = 'cast(' ~ i ~ ' as integer)' %}
    case
        -- Rule 3: a stage-1 event after the previous journey ended starts the next one.
        when ({{ x }}.m & 1) = 1 and {{ x }}.t > {{ funnel_walk_end(acc) }}
            then {{ funnel_walk_state(
                t=x ~ '.t',
                m=x ~ '.m',
                s=x ~ '.t',
                cur='1',
                aat=x ~ '.t',
                aseq=position,
                mm='0',
                b=acc ~ '.b',
                r=list_resize(list_of([position]), 'stage_count', '0'),
                js='case when ' ~ acc ~ '.cur = 0 then ' ~ acc ~ '.js else '
                ~ list_append(acc ~ '.js', acc ~ '.r') ~ ' end',
            ) }}
        -- ordered / strict: the first qualifying event advances to its highest candidate stage.
        when
            funnel_mode != 'any_order'
            and {{ acc }}.cur between 1 and stage_count - 1
            and {{ x }}.t <= {{ acc }}.s + window_us
            and (funnel_mode != 'strict' or {{ i }} = {{ acc }}.aseq + 1)
            and {{ qualifying }} != 0
            {#- Stages skip forward only: keep the positions before the new stage, append it. #}
            then {{ funnel_walk_state(
                t=x ~ '.t',
                m=x ~ '.m',
                s=acc ~ '.s',
                cur=next_stage,
                aat=x ~ '.t',
                aseq=position,
                mm=acc ~ '.mm',
                b=acc ~ '.b',
                r=list_append(list_resize(acc ~ '.r', next_stage ~ ' - 1', '0'), position),
                js=acc ~ '.js',
            ) }}
        -- any_order: each stage's first event after the entry; converted once every required
        -- stage is matched (at this event, the latest of them).
        when
            funnel_mode = 'any_order'
            and {{ acc }}.cur between 1 and stage_count - 1
            and {{ x }}.t <= {{ acc }}.s + window_us
            and ({{ x }}.m & ~{{ acc }}.mm & ~1) != 0
            then {{ funnel_walk_state(
                t=x ~ '.t',
                m=x ~ '.m',
                s=acc ~ '.s',
                cur='case when (' ~ matched ~ ') & any_order_required_mask'
                ~ ' = any_order_required_mask then cast(stage_count as integer) else 1 end',
                aat=x ~ '.t',
                aseq=position,
                mm=matched,
                b=acc ~ '.b',
                r=list_transform(acc ~ '.r', 'v, k',
                    'case when v = 0 and k > 1 and (' ~ shift_right(x ~ '.m', 'k - 1') ~ ' & 1) = 1 then '
                    ~ position ~ ' else v end'
                ),
                js=acc ~ '.js',
            ) }}
        else {{ acc }}
    end
{%- endmacro %}


{#
  A filter of a stage or exclusion entry (docs/funnels.md section 1) on the event's row: the
  value of its field (a canonical column, is_paid_touch, or a GA4 parameter) for the filter
  struct f, read from the row's columns.
#}
{% macro funnel_filter_field_value(f) -%}
    case
        when {{ f }}.param_key is not null
            then {{ json_text('properties', f ~ '.param_key') }}
        when {{ f }}.field_name = 'page_url' then page_url
        when {{ f }}.field_name = 'referrer' then referrer
        when {{ f }}.field_name = 'utm_source' then utm_source
        when {{ f }}.field_name = 'utm_medium' then utm_medium
        when {{ f }}.field_name = 'utm_campaign' then utm_campaign
        when {{ f }}.field_name = 'utm_content' then utm_content
        when {{ f }}.field_name = 'utm_term' then utm_term
        when {{ f }}.field_name = 'utm_id' then utm_id
        when {{ f }}.field_name = 'click_id' then click_id
        when {{ f }}.field_name = 'click_id_type' then click_id_type
        when {{ f }}.field_name = 'currency' then currency
        when {{ f }}.field_name = 'event_name' then event_name
        when {{ f }}.field_name = 'platform' then platform
        when {{ f }}.field_name = 'campaign_id' then campaign_id
        when {{ f }}.field_name = 'engagement_time_ms'
            then cast(engagement_time_ms as string)
        when {{ f }}.field_name = 'value' then cast(value as string)
        when {{ f }}.field_name = 'is_paid_touch'
            then case when is_paid_touch then 'true' else 'false' end
    end
{%- endmacro %}


{# Whether filter struct f passes for the event's value of its field; null when the value is null. #}
{% macro funnel_filter_result(f, value) -%}
    case {{ f }}.operator
        when 'eq'
            then
                case
                    when {{ f }}.value_number is not null
                        then try_cast({{ value }} as double) = {{ f }}.value_number
                    else {{ value }} = {{ f }}.value_text
                end
        when 'ne'
            then
                case
                    when {{ f }}.value_number is not null
                        then try_cast({{ value }} as double) != {{ f }}.value_number
                    else {{ value }} != {{ f }}.value_text
                end
        when 'in' then {{ list_contains(f ~ '.value_list', value) }}
        when 'not_in' then not {{ list_contains(f ~ '.value_list', value) }}
        when 'gt' then try_cast({{ value }} as double) > {{ f }}.value_number
        when 'gte' then try_cast({{ value }} as double) >= {{ f }}.value_number
        when 'lt' then try_cast({{ value }} as double) < {{ f }}.value_number
        when 'lte' then try_cast({{ value }} as double) <= {{ f }}.value_number
        when 'contains' then {{ text_contains(value, f ~ '.value_text') }}
        when 'is_null' then {{ value }} is null
        when 'not_null' then {{ value }} is not null
    end
{%- endmacro %}
