{%- set reporting = var('microfunnel__reporting_currency') -%}
{%- set max_age = var('microfunnel__max_rate_age_days') | int -%}
-- Ad platform numbers per platform, campaign and report day, the grain the funnel marts join on,
-- with money converted to the reporting currency. Money and conversions are summed at micro
-- precision so re-runs give identical doubles.
--
-- Currency rule (README: Currencies and timezones): a campaign's spend is in its account's
-- currency; it is converted with the newest rate on or before the report day, at most
-- microfunnel__max_rate_age_days old, given in either direction. A row without a currency is
-- taken to be in the reporting currency. No usable rate stops the build, naming the currency
-- and day: two currencies are never added up unconverted.
with

ad_performance as (
    select * from {{ ref('stg_lake__ad_performance') }}
),

rates as (
    select * from {{ ref('stg_lake__exchange_rates') }}
),

daily as (
    select
        platform,
        campaign_id,
        report_date,
        {{ value_at_max('campaign_name', 'loaded_at') }} as campaign_name,
        coalesce(
            {{ value_at_max('currency', 'loaded_at') }}, '{{ reporting }}'
        ) as account_currency,
        {{ value_at_max('account_timezone', 'loaded_at') }} as account_timezone,
        cast(sum(impressions) as bigint) as impressions,
        cast(sum(clicks) as bigint) as clicks,
        {{ exact_sum('spend') }} as spend_in_account_currency,
        {{ exact_sum('conversions') }} as platform_conversions,
        {{ exact_sum('conversion_value') }} as conversion_value_in_account_currency
    from ad_performance
    group by platform, campaign_id, report_date
),

-- Every landed rate as "one unit of `currency` is `rate` reporting units", either direction.
to_reporting as (
    select
        rate_date,
        base_currency as currency,
        rate,
        1 as preference
    from rates
    where quote_currency = '{{ reporting }}'
    union all
    select
        rate_date,
        quote_currency as currency,
        1.0 / rate as rate,
        2 as preference
    from rates
    where base_currency = '{{ reporting }}'
),

needed as (
    select distinct
        account_currency,
        report_date
    from daily
    where account_currency <> '{{ reporting }}'
),

picked as (
    select
        needed.account_currency,
        needed.report_date,
        to_reporting.rate,
        to_reporting.rate_date
    from needed
    left join to_reporting
        on
            needed.account_currency = to_reporting.currency
            and to_reporting.rate_date <= needed.report_date
            and to_reporting.rate_date >= {{ dbt.dateadd('day', -max_age, 'needed.report_date') }}
    qualify row_number() over (
        partition by needed.account_currency, needed.report_date
        order by to_reporting.rate_date desc nulls last, to_reporting.preference asc
    ) = 1
),

converted as (
    select
        daily.*,
        case
            when daily.account_currency = '{{ reporting }}' then 1.0
            when picked.rate is null
                then {{ raise_error(
                    "'no exchange rate from ' || daily.account_currency || ' to "
                    ~ reporting ~ " on or up to " ~ max_age ~ " days before ' || "
                    ~ "cast(daily.report_date as string) || ' (platform ' || daily.platform || "
                    ~ "', campaign ' || daily.campaign_id || '): add it to "
                    ~ "<landing>/exchange_rates/ (README: Currencies and timezones)'"
                ) }}
            else picked.rate
        end as exchange_rate,
        picked.rate_date as exchange_rate_date
    from daily
    left join picked
        on
            daily.account_currency = picked.account_currency
            and daily.report_date = picked.report_date
),

final as (
    select
        platform,
        campaign_id,
        report_date,
        campaign_name,
        '{{ reporting }}' as currency,
        impressions,
        clicks,
        round(spend_in_account_currency * exchange_rate, 6) as spend,
        platform_conversions,
        round(conversion_value_in_account_currency * exchange_rate, 6)
            as platform_conversion_value,
        account_currency,
        account_timezone,
        spend_in_account_currency,
        exchange_rate,
        exchange_rate_date
    from converted
)

select * from final
