-- One row per Twilio message (Sid): a message appears on several rows as its status moves,
-- and the latest row (later delivery day, then file, then line) is its status.
-- The logic is the macro stg_twilio_messages_from (macros/staging.sql), shared with the incremental
-- fct_message_events.
with

final as (

    select * from {{ stg_twilio_messages_from(source('twilio', 'sms_messages')) }} as staged

)

select * from final
