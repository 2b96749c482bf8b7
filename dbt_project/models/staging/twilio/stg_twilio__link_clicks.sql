-- One row per click on a shortened SMS link. Clicks carry no id of their own: one is
-- derived from the message, recipient, link and time, and redelivered rows are dropped.
with

source as (

    select * from {{ source('twilio', 'sms_clicks') }}

),

keyed as (

    select
        *,
        md5(
            coalesce(sms_sid, '') || '|' || coalesce(to_number, '') || '|'
            || coalesce(link, '') || '|' || cast(clicked_at as varchar)
        ) as click_key
    from source

),

deduplicated as (

    select
        *,
        row_number() over (partition by click_key order by _dt, _file, _line) as delivery_rank
    from keyed

),

renamed as (

    select
        'sms_click:' || click_key as click_id,
        sms_sid as message_sid,
        to_number as customer_phone,
        from_number,
        link,
        clicked_at,
        user_agent,
        messaging_service_sid,
        _dt as delivery_date,
        _file as source_file,
        _line as source_line
    from deduplicated
    where delivery_rank = 1 and lower(event_type) = 'click'

),

final as (

    select * from renamed

)

select * from final
