-- One row per click on a shortened SMS link. Clicks carry no id of their own: one is
-- derived from the message, recipient, link and time, and redelivered rows are dropped.
-- The logic is the macro stg_twilio_link_clicks_from (macros/staging.sql), shared with the incremental
-- fct_message_events.
with

final as (

    select * from {{ stg_twilio_link_clicks_from(source('twilio', 'sms_clicks')) }} as staged

)

select * from final
