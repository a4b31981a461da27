with

source as (
    select * from {{ source('lake', 'ad_performance') }}
),

renamed as (
    select
        cast(platform as string) as platform,
        cast(account_id as string) as account_id,
        cast(account_name as string) as account_name,
        cast(campaign_id as string) as campaign_id,
        cast(campaign_name as string) as campaign_name,
        cast(ad_group_id as string) as ad_group_id,
        cast(ad_group_name as string) as ad_group_name,
        cast(ad_id as string) as ad_id,
        cast(report_date as date) as report_date,
        cast(impressions as bigint) as impressions,
        cast(clicks as bigint) as clicks,
        cast(spend as double) as spend,
        cast(currency as string) as currency,
        cast(account_timezone as string) as account_timezone,
        cast(conversions as double) as conversions,
        cast(conversion_value as double) as conversion_value,
        cast(final_url as string) as final_url,
        cast(tracking_url_template as string) as tracking_url_template,
        cast(utm_source as string) as utm_source,
        cast(utm_medium as string) as utm_medium,
        cast(utm_campaign as string) as utm_campaign,
        cast(utm_content as string) as utm_content,
        cast(utm_term as string) as utm_term,
        cast(utm_id as string) as utm_id,
        cast(source_file as string) as source_file,
        cast(source_line as bigint) as source_line,
        cast(loaded_at as timestamp) as loaded_at
    from source
)

select * from renamed
