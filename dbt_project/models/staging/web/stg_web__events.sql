-- One row per storefront event (first delivery of each event_id).
with

source as (

    select * from {{ source('web', 'web_events') }}

),

deduplicated as (

    select
        *,
        row_number() over (partition by event_id order by _dt, _file, _line) as delivery_rank
    from source

),

renamed as (

    select
        event_id,
        lower(event_type) as event_type,
        occurred_at,
        nullif(trim(anonymous_id), '') as anonymous_id,
        nullif(trim(session_id), '') as session_id,
        nullif(trim(customer_id), '') as source_customer_id,
        nullif(lower(trim(email)), '') as email,
        nullif(trim(sku), '') as sku,
        nullif(trim(category), '') as category,
        price,
        nullif(trim(timezone), '') as timezone,
        _dt as delivery_date,
        _file as source_file,
        _line as source_line
    from deduplicated
    where delivery_rank = 1

),

final as (

    select * from renamed

)

select * from final
