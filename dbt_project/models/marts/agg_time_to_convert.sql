{{ config(materialized='table') }}

-- How long converting journeys took, in fixed buckets per campaign, per platform and over
-- every campaign (docs/funnels.md section 6). Every bucket is present for each group with a
-- conversion.
with

buckets as (
    select
        bucket_values.bucket_order,
        bucket_values.bucket_label,
        cast(bucket_values.lower_seconds as bigint) as lower_seconds,
        cast(bucket_values.upper_seconds as bigint) as upper_seconds
    from (
        values
        (1, '< 1 min', 0, 60),
        (2, '1-5 min', 60, 300),
        (3, '5-15 min', 300, 900),
        (4, '15-60 min', 900, 3600),
        (5, '1-6 h', 3600, 21600),
        (6, '6-24 h', 21600, 86400),
        (7, '1-3 d', 86400, 259200),
        (8, '3-7 d', 259200, 604800),
        (9, '>= 7 d', 604800, null)
    ) as bucket_values (bucket_order, bucket_label, lower_seconds, upper_seconds)
),

conversions as (
    select
        funnel_id,
        funnel_version,
        platform,
        campaign_id,
        seconds_to_convert
    from {{ ref('fct_funnel_journeys_counted') }}
    where is_converted and not is_excluded
),

-- Every conversion also counts in its platform's rollup and the one over every campaign.
scoped as (
    {{ scoped_rows('conversions', ['funnel_id', 'funnel_version', 'seconds_to_convert']) }}
),

bucket_counts as (
    select
        scoped.funnel_id,
        scoped.funnel_version,
        scoped.platform,
        scoped.campaign_id,
        buckets.bucket_order,
        count(*) as conversions
    from scoped
    inner join buckets
        on
            scoped.seconds_to_convert >= buckets.lower_seconds
            and (
                buckets.upper_seconds is null
                or scoped.seconds_to_convert < buckets.upper_seconds
            )
    group by
        scoped.funnel_id,
        scoped.funnel_version,
        scoped.platform,
        scoped.campaign_id,
        buckets.bucket_order
),

group_totals as (
    select
        funnel_id,
        funnel_version,
        platform,
        campaign_id,
        cast(sum(conversions) as bigint) as total_conversions
    from bucket_counts
    group by funnel_id, funnel_version, platform, campaign_id
),

filled as (
    select
        group_totals.funnel_id,
        group_totals.funnel_version,
        group_totals.platform,
        group_totals.campaign_id,
        buckets.bucket_order,
        buckets.bucket_label,
        buckets.lower_seconds,
        buckets.upper_seconds,
        group_totals.total_conversions,
        cast(coalesce(bucket_counts.conversions, 0) as bigint) as conversions
    from group_totals
    cross join buckets
    left join bucket_counts
        on
            group_totals.funnel_id = bucket_counts.funnel_id
            and group_totals.funnel_version = bucket_counts.funnel_version
            and group_totals.platform = bucket_counts.platform
            and group_totals.campaign_id = bucket_counts.campaign_id
            and buckets.bucket_order = bucket_counts.bucket_order
),

final as (
    select
        funnel_id,
        funnel_version,
        platform,
        campaign_id,
        cast(bucket_order as integer) as bucket_order,
        cast(bucket_label as string) as bucket_label,
        lower_seconds,
        upper_seconds,
        conversions,
        total_conversions,
        cast(conversions as double) / total_conversions as share_of_conversions,
        -- Cumulated as integers, so the last bucket is exactly 1.
        cast(
            cast(
                sum(conversions) over (
                    partition by funnel_id, funnel_version, platform, campaign_id
                    order by bucket_order
                    rows between unbounded preceding and current row
                ) as bigint
            ) as double
        ) / total_conversions as cumulative_share
    from filled
)

select * from final
