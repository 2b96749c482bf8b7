-- One row per Twilio message (Sid): a message appears on several rows as its status moves,
-- and the latest row (later delivery day, then file, then line) is its status.
with

source as (

    select * from {{ source('twilio', 'sms_messages') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by sid
            order by _dt desc, _file desc, _line desc
        ) as row_recency_rank
    from source

),

renamed as (

    select
        sid as message_sid,
        lower(direction) as direction,
        lower(direction) like 'outbound%' as is_outbound,
        from_number,
        to_number,
        -- The person's number: the recipient of an outbound message, the sender of a reply.
        case when lower(direction) like 'outbound%' then to_number else from_number end
            as customer_phone,
        body,
        lower(status) as status,
        case
            when lower(status) = 'delivered' then 'delivered'
            when lower(status) in ('undelivered', 'failed') then 'failed'
        end as status_event_type,
        sent_at,
        num_segments,
        error_code,
        price,
        price_unit,
        case lower(keyword)
            when 'opt_out' then 'opt_out'
            when 'opt_in' then 'opt_in'
        end as consent_change,
        nullif(_extra ->> 'campaign_id', '') as campaign_id,
        nullif(_extra ->> 'message_id', '') as message_id,
        _dt as delivery_date,
        _file as source_file,
        _line as source_line
    from ranked
    where row_recency_rank = 1

),

final as (

    select * from renamed

)

select * from final
