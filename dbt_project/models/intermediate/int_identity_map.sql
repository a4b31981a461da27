-- Identity stitching: every anonymous id that ever carried a user id maps to the first user id
-- it carried, so a visitor's events before and after sign-in belong to one user_key.
with

events as (
    select * from {{ ref('stg_lake__events') }}
),

identified as (
    select
        anonymous_id,
        {{ value_at_min('user_id', 'event_at') }} as user_id
    from events
    where
        user_id is not null
        and anonymous_id is not null
    group by anonymous_id
)

select * from identified
