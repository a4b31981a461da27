with

source as (
    select * from {{ source('exchange_rates', 'rates') }}
),

renamed as (
    select
        cast(rate_date as date) as rate_date,
        cast(base_currency as string) as base_currency,
        cast(quote_currency as string) as quote_currency,
        cast(rate as double) as rate,
        cast(source_file as string) as source_file,
        cast(source_line as bigint) as source_line
    from source
)

select * from renamed
