-- One row per consent or privacy request (first delivery of each request_id).
with

source as (

    select * from {{ source('consent', 'consent_requests') }}

),

deduplicated as (

    select
        *,
        row_number() over (partition by request_id order by _dt, _file, _line) as delivery_rank
    from source

),

renamed as (

    select
        request_id,
        occurred_at,
        nullif(trim(customer_id), '') as source_customer_id,
        nullif(lower(trim(email)), '') as email,
        nullif(trim(phone), '') as phone,
        lower(request_type) as request_type,
        coalesce(lower(channel), 'all') as channel,
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
