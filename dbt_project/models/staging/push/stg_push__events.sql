-- One row per push event (first delivery of each event_id), categorised into device
-- lifecycle events and rightsend's channel event types.
with

source as (

    select * from {{ source('push', 'push_events') }}

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
        lower(event_type) as push_event,
        case lower(event_type)
            when 'send' then 'send'
            when 'delivered' then 'delivered'
            when 'open' then 'open'
        end as event_type,
        occurred_at,
        nullif(trim(customer_id), '') as source_customer_id,
        nullif(lower(trim(email)), '') as email,
        nullif(trim(device_token), '') as device_token,
        lower(platform) as platform,
        nullif(trim(timezone), '') as timezone,
        nullif(campaign_id, '') as campaign_id,
        nullif(message_id, '') as message_id,
        -- A push send and its opens share the message_id rightsend put on it; without one,
        -- the send is the campaign's message to that device.
        'push:' || coalesce(
            nullif(message_id, ''),
            nullif(campaign_id, '') || ':' || nullif(device_token, ''),
            event_id
        ) as send_id,
        lower(event_type) = 'open' as is_human_engagement,
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
