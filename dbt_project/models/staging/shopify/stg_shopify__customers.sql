-- One row per Shopify customer: the latest row per Customer ID (landing contract: a row's
-- own Updated At wins; otherwise later delivery day, then later file, then later line).
with

source as (

    select * from {{ source('shopify', 'customers') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by customer_id
            order by updated_at desc nulls last, _dt desc, _file desc, _line desc
        ) as row_recency_rank
    from source

),

renamed as (

    select
        cast(customer_id as varchar) as source_customer_id,
        nullif(trim(first_name), '') as first_name,
        nullif(trim(last_name), '') as last_name,
        nullif(lower(trim(email)), '') as email,
        nullif(trim(phone), '') as phone,
        accepts_email_marketing,
        accepts_sms_marketing,
        nullif(trim(city), '') as city,
        nullif(upper(trim(province_code)), '') as province_code,
        nullif(upper(trim(country_code)), '') as country_code,
        total_spent,
        total_orders,
        tags,
        created_at,
        updated_at,
        _dt as snapshot_date,
        _file as source_file,
        _line as source_line
    from ranked
    where row_recency_rank = 1

),

final as (

    select * from renamed

)

select * from final
