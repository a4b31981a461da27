-- Identity stitching (README: Identity across trackers): every anonymous id that ever carried a
-- user id maps to the first user id it carried, so a visitor's events before and after sign-in
-- belong to one user_key. Anonymous ids are the tracker's own (a GA4 client id, a Segment
-- anonymousId, a Snowplow domain_userid), so they are keyed by source: two trackers' ids never
-- merge by accident. People meet across trackers through their user id, which is the user_key
-- wherever it is known (pseudonymized with one key for every source).
-- The first user id of each day comes from int_identity_links_daily; the earliest day wins.
with

daily_links as (
    select * from {{ ref('int_identity_links_daily') }}
),

identified as (
    select
        source,
        anonymous_id,
        {{ value_at_min('user_id', 'first_seen_at') }} as user_id
    from daily_links
    group by source, anonymous_id
)

select * from identified
