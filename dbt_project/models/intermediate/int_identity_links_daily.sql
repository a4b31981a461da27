{{ config(**incremental_by_date('event_date')) }}

-- Per day, each (tracker, anonymous id) that carried a user id, with the first one it carried
-- that day. Incremental by event_date like the marts: a nightly run scans only the rebuild
-- window's events, and int_identity_map folds the days together, so stitching costs the same
-- whatever the length of the history.
with

events as (
    {{ rebuild_window_events() }}
),

identified as (
    select
        event_date,
        source,
        anonymous_id,
        {{ value_at_min('user_id', 'event_at') }} as user_id,
        min(event_at) as first_seen_at
    from events
    where
        user_id is not null
        and anonymous_id is not null
    group by event_date, source, anonymous_id
)

select * from identified
